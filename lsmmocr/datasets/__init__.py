from .fonts import DEFAULT_TEST_FAMILIES, FONT_FAMILIES, font_files
from .online_synth_dataset import OnlineSynthSceneDataset, OnlineSynthTextDataset
from .renderer import RenderConfig, render_text
from .synth_scene import SceneConfig, SynthSceneGenerator
from .synth_sets import make_synth_dataset
from .synth_text import SynthTextGenerator, read_charset
from .text_sampler import TextSampler

__all__ = [
    'DEFAULT_TEST_FAMILIES', 'FONT_FAMILIES', 'font_files', 'OnlineSynthSceneDataset',
    'OnlineSynthTextDataset', 'RenderConfig', 'render_text', 'SceneConfig',
    'SynthSceneGenerator', 'make_synth_dataset', 'SynthTextGenerator', 'read_charset',
    'TextSampler'
]
