"""Synthetic scene-text recognition data in MMOCR 1.x ``textrecog`` format.

Every sample is a pure function of ``(seed, split, index)``, so a dataset is
reproducible, can be written in any order, and can be rendered on the fly.
"""
import os.path as osp
import zlib
from functools import partial
from typing import Sequence, Tuple, Union

import numpy as np

from .dataset_writer import write_split
from .font_registry import font_splits
from .fonts import DEFAULT_TEST_FAMILIES
from .renderer import RenderConfig, render_config, render_text
from .text_sampler import TextSampler

SPLITS = ('train', 'val', 'test')
METAINFO = dict(dataset_type='TextRecogDataset', task_name='textrecog')


def read_charset(dict_file: str) -> str:
    """Characters of an MMOCR dictionary file (one character per line)."""
    if not osp.isfile(dict_file):
        raise FileNotFoundError(f'dictionary file not found: {dict_file}')
    with open(dict_file, encoding='utf-8') as f:
        return ''.join(line.rstrip('\r\n') for line in f if line.strip('\r\n'))


class SynthTextGenerator:
    """Render labelled word crops for the train, val and test splits.

    Train and val use the same font families; test uses held-out families,
    so test accuracy measures generalisation to unseen fonts.

    Args:
        charset (str): Characters labels may contain.
        seed (int): Seed; together with split and index it fixes a sample.
        max_len (int): Longest label. Defaults to 12.
        test_families (sequence of str): Font families only the test split
            uses (bundled corpus). Defaults to :data:`DEFAULT_TEST_FAMILIES`.
        font_corpus (str): ``'bundled'`` (matplotlib's 5 families) or
            ``'system'`` (every installed font that renders ``charset``,
            three family-disjoint splits; see :mod:`.font_registry`).
            Defaults to ``'bundled'``.
        render_cfg (RenderConfig | str | dict, optional): Rendering ranges:
            one, a preset name (``'plain'``, the default; ``'rich'``) or a dict
            of fields (see :func:`~.renderer.render_config`).
        sampler_kwargs: Passed to :class:`TextSampler`.
    """

    def __init__(self,
                 charset: str,
                 seed: int = 0,
                 max_len: int = 12,
                 test_families: Sequence[str] = DEFAULT_TEST_FAMILIES,
                 render_cfg: Union[None, str, dict, RenderConfig] = None,
                 font_corpus: str = 'bundled',
                 **sampler_kwargs) -> None:
        self.seed = seed
        self.sampler = TextSampler(charset, max_len=max_len, **sampler_kwargs)
        self.render_cfg = render_config(render_cfg)
        self.fonts = font_splits(font_corpus, charset, test_families)

    def _rng(self, split: str, index: int) -> np.random.Generator:
        return np.random.default_rng(
            [self.seed, zlib.crc32(split.encode()), index])

    def sample(self, split: str, index: int) -> Tuple[np.ndarray, str, str]:
        """Return ``(bgr_image, text, font_path)`` of one sample."""
        if split not in self.fonts:
            raise KeyError(f'unknown split {split!r}; expected one of {SPLITS}')
        rng = self._rng(split, index)
        text = self.sampler.sample(rng)
        font = self.fonts[split].draw(rng)
        return render_text(text, font, rng, self.render_cfg), text, font

    def record(self, split: str, index: int) -> Tuple[np.ndarray, dict]:
        """Sample ``index`` of ``split`` as an image and its annotation."""
        img, text, font = self.sample(split, index)
        return img, dict(instances=[dict(text=text)], font=osp.basename(font))

    def write_split(self, out_dir: str, split: str, num: int) -> str:
        """Write ``num`` samples as JPEGs plus ``textrecog_<split>.json``.

        Returns:
            str: Path of the annotation file.
        """
        return write_split(out_dir, 'textrecog', split, num,
                           partial(self.record, split), METAINFO)

