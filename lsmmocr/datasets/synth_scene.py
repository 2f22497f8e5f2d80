"""Synthetic scene images with several rotated words, for text detection, in
MMOCR 1.x ``textdet`` format.

Every image is a pure function of ``(seed, split, index)`` (as
:mod:`.synth_text`'s crops are), so a set is reproducible, can be written in
any order and rendered on the fly. Each word is drawn at a random angle and
annotated by the rotated rectangle around its ink box: the quadrilateral
MMOCR's ``polygon`` holds, and an exact rotated box.
"""
import os.path as osp
import zlib
from dataclasses import dataclass, field
from functools import partial
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .dataset_writer import write_split
from .font_registry import font_splits
from .fonts import DEFAULT_TEST_FAMILIES
from .renderer import (RenderConfig, background, camera, load_font, text_colour,
                       text_mask)
from .text_sampler import TextSampler

METAINFO = dict(dataset_type='TextDetDataset', task_name='textdet',
                category=[dict(id=0, name='text')])


@dataclass
class SceneConfig:
    """Ranges of a scene's random parameters (``(low, high)``: uniform)."""
    size: Tuple[int, int] = (256, 256)  # (height, width)
    words: Tuple[int, int] = (1, 5)  # words attempted per image
    font_size: Tuple[int, int] = (16, 40)
    angle_deg: Tuple[float, float] = (-60.0, 60.0)  # counter-clockwise
    gap: int = 4  # minimum distance between two words' boxes, pixels
    tries: int = 20  # placements tried per word before it is dropped
    camera: RenderConfig = field(default_factory=lambda: RenderConfig(
        blur_sigma=(0.0, 1.0), noise_sigma=(0.0, 8.0)))


def place(mask: np.ndarray, centre: Tuple[float, float],
          angle_deg: float) -> Tuple[np.ndarray, np.ndarray]:
    """The affine map that rotates ``mask`` by ``angle_deg`` (counter-clockwise
    on screen) about its centre and moves that to ``centre``, and the image
    of the mask's corners under it (top-left, top-right, bottom-right,
    bottom-left of the text: MMOCR's polygon order), ``(2, 3)`` and ``(4, 2)``."""
    h, w = mask.shape
    affine = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    affine[:, 2] += np.asarray(centre) - (w / 2, h / 2)
    corners = np.float64([[0, 0], [w, 0], [w, h], [0, h]])
    return affine, corners @ affine[:, :2].T + affine[:, 2]


class SynthSceneGenerator:
    """Render scenes of rotated words for the train, val and test splits
    (test in held-out font families, as :class:`~.SynthTextGenerator`).

    Args:
        charset (str): Characters words may contain.
        seed (int): Seed; with the split and index it fixes an image.
        max_len (int): Longest word. Defaults to 10.
        test_families (sequence of str): Font families only test uses
            (bundled corpus).
        font_corpus (str): ``'bundled'`` or ``'system'``, as for
            :class:`~.SynthTextGenerator`.
        scene_cfg (SceneConfig, optional): Scene ranges.
        sampler_kwargs: Passed to :class:`TextSampler`.
    """

    def __init__(self, charset: str, seed: int = 0, max_len: int = 10,
                 test_families: Sequence[str] = DEFAULT_TEST_FAMILIES,
                 scene_cfg: Optional[SceneConfig] = None,
                 font_corpus: str = 'bundled',
                 **sampler_kwargs) -> None:
        self.seed = seed
        self.sampler = TextSampler(charset, max_len=max_len, **sampler_kwargs)
        self.cfg = scene_cfg or SceneConfig()
        self.fonts = font_splits(font_corpus, charset, test_families)

    def _rng(self, split: str, index: int) -> np.random.Generator:
        if split not in self.fonts:
            raise KeyError(f'unknown split {split!r}; expected one of '
                           f'{sorted(self.fonts)}')
        return np.random.default_rng(
            [self.seed, zlib.crc32(f'scene/{split}'.encode()), index])

    def _free(self, quad: np.ndarray, taken: np.ndarray) -> bool:
        """Whether ``quad`` lies inside the image, clear of ``taken``."""
        h, w = taken.shape
        if quad.min() < 0 or (quad[:, 0] > w).any() or (quad[:, 1] > h).any():
            return False
        region = np.zeros_like(taken)
        cv2.fillPoly(region, [np.round(quad).astype(np.int32)], 1)
        return not (region & taken).any()

    def sample(self, split: str, index: int) -> Tuple[np.ndarray, List[Dict]]:
        """``(bgr_image, instances)`` of one scene: each instance has
        ``text``, ``polygon`` (8 floats, pixels) and ``font``."""
        rng = self._rng(split, index)
        cfg, fonts = self.cfg, self.fonts[split]
        h, w = cfg.size
        bg_colour = rng.uniform(0, 255, 3)
        img = background(h, w, bg_colour, rng)
        taken = np.zeros((h, w), np.uint8)
        instances = []
        for _ in range(int(rng.integers(*cfg.words, endpoint=True))):
            text = self.sampler.sample(rng)
            font = fonts.draw(rng)
            mask = text_mask(text, load_font(
                font, int(rng.integers(*cfg.font_size, endpoint=True))), (1, 1))
            angle = rng.uniform(*cfg.angle_deg)
            for _ in range(cfg.tries):
                affine, quad = place(mask, rng.uniform((0, 0), (w, h)), angle)
                if self._free(quad, taken):
                    break
            else:
                continue  # no room for this word
            cv2.fillPoly(taken, [np.round(quad).astype(np.int32)], 1)
            taken = cv2.dilate(taken, np.ones((2 * cfg.gap + 1,) * 2, np.uint8))
            alpha = cv2.warpAffine(mask, affine, (w, h))[..., None]
            colour = text_colour(bg_colour, rng, cfg.camera.min_contrast)
            img = img * (1 - alpha) + colour * alpha
            instances.append(dict(text=text, polygon=quad.flatten().tolist(),
                                  font=osp.basename(font)))
        return camera(img, rng, cfg.camera), instances

    def record(self, split: str, index: int) -> Tuple[np.ndarray, dict]:
        """Scene ``index`` of ``split`` as an image and its ``textdet``
        annotation (``polygon``, ``bbox``, ``bbox_label``, ``ignore``,
        ``text`` per instance)."""
        img, instances = self.sample(split, index)
        return img, dict(height=img.shape[0], width=img.shape[1], instances=[
            dict(polygon=inst['polygon'], bbox=_bbox(inst['polygon']),
                 bbox_label=0, ignore=False, text=inst['text'])
            for inst in instances])

    def write_split(self, out_dir: str, split: str, num: int) -> str:
        """Write ``num`` scenes plus ``textdet_<split>.json``."""
        return write_split(out_dir, 'textdet', split, num,
                           partial(self.record, split), METAINFO)


def _bbox(polygon: Sequence[float]) -> List[float]:
    xy = np.asarray(polygon).reshape(-1, 2)
    return [*xy.min(0).tolist(), *xy.max(0).tolist()]
