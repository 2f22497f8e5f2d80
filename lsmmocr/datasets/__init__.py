from .fonts import DEFAULT_TEST_FAMILIES, FONT_FAMILIES, font_files
from .online_synth_dataset import OnlineSynthTextDataset
from .renderer import RenderConfig, render_text
from .synth_text import SynthTextGenerator, make_synth_dataset, read_charset
from .text_sampler import TextSampler

__all__ = [
    'DEFAULT_TEST_FAMILIES', 'FONT_FAMILIES', 'font_files', 'OnlineSynthTextDataset',
    'RenderConfig',
    'render_text', 'SynthTextGenerator', 'make_synth_dataset', 'read_charset',
    'TextSampler'
]
