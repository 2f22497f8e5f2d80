"""Synthetic scene images with several rotated words, for text detection, in
MMOCR 1.x ``textdet`` format.

Every image is a pure function of ``(seed, split, index)`` (as
:mod:`.synth_text`'s crops are), so a set is reproducible, can be written in
any order and rendered on the fly. Each word is drawn at a random angle and
annotated by the rotated rectangle around its ink box: the quadrilateral
MMOCR's ``polygon`` holds, and an exact rotated box. Two presets: ``easy``
(a few words, well apart) and ``hard`` (dense lines, any angle, perspective,
text-like distractors; see :data:`HARD`).
"""
import os.path as osp
import zlib
from dataclasses import dataclass, field
from functools import partial
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .dataset_writer import write_split
from .font_registry import font_splits
from .fonts import DEFAULT_TEST_FAMILIES
from .renderer import (RenderConfig, background, blend, camera, clutter, fitted,
                       load_font, preset_config, text_colour)
from .text_sampler import TextSampler

METAINFO = dict(dataset_type='TextDetDataset', task_name='textdet',
                category=[dict(id=0, name='text')])


@dataclass
class SceneConfig:
    """Ranges of a scene's random parameters (``(low, high)``: uniform).

    A scene is made of *lines*: one to ``line_words`` words in one font,
    size, colour, angle and baseline, a space apart; each word is an
    instance. A line may be warped in perspective; each word's box is then
    the smallest rectangle around its four warped corners whose long sides
    follow the word's warped baseline (:func:`baseline_box`), turned with the
    line: still an exact rotated rectangle.
    """
    size: Tuple[int, int] = (256, 256)  # (height, width)
    words: Tuple[int, int] = (1, 5)  # lines attempted per image
    font_size: Tuple[int, int] = (16, 40)
    angle_deg: Tuple[float, float] = (-60.0, 60.0)  # counter-clockwise
    gap: int = 4  # minimum distance between two lines' boxes, pixels
    tries: int = 20  # placements tried per line before it is dropped
    camera: RenderConfig = field(default_factory=lambda: RenderConfig(
        blur_sigma=(0.0, 1.0), noise_sigma=(0.0, 8.0)))
    line_words: Tuple[int, int] = (1, 1)  # words per line
    word_space: Tuple[float, float] = (0.3, 0.6)  # fraction of the font size
    perspective: float = 0.0  # max corner shift of a line, fraction of its size
    distractors: Tuple[int, int] = (0, 0)  # text-like symbol rows, unannotated
    clutter_prob: float = 0.0  # lines and shapes on the background


# Where detection is hard (LS-IoU's test at IoU 0.5): dense scenes of small
# and large words, lines of up to 4 words, any angle in ±90°, perspective,
# symbol rows that look like text, cluttered backgrounds, stronger camera.
HARD = SceneConfig(
    words=(6, 16), font_size=(10, 44), angle_deg=(-90.0, 90.0), gap=1,
    tries=30, line_words=(1, 4), perspective=0.12, distractors=(1, 6),
    clutter_prob=0.7, camera=RenderConfig(
        blur_sigma=(0.0, 1.5), noise_sigma=(0.0, 12.0), min_contrast=60.0))
SCENE_PRESETS = dict(easy=SceneConfig(), hard=HARD)
# Text-like rows that are not words (no dictionary character).
DISTRACTOR_GLYPHS = '=-~_|#*+•·:;/\\'


def scene_config(cfg: Union[None, str, dict, SceneConfig]) -> SceneConfig:
    """A :class:`SceneConfig` from a preset name (``'easy'``, ``'hard'``), a
    dict of fields (over ``dict(preset=...)``, default ``'easy'``), or one as
    is; None is ``'easy'``."""
    return preset_config(cfg, SCENE_PRESETS, 'easy', 'scene')


def place(mask: np.ndarray, centre: Tuple[float, float],
          angle_deg: float) -> Tuple[np.ndarray, np.ndarray]:
    """The affine map that rotates ``mask`` by ``angle_deg`` (counter-clockwise
    on screen) about its centre and moves that to ``centre``, and the image
    of the mask's corners under it (top-left, top-right, bottom-right,
    bottom-left of the text: MMOCR's polygon order), ``(2, 3)`` and ``(4, 2)``."""
    h, w = mask.shape
    affine = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    affine[:, 2] += np.asarray(centre) - (w / 2, h / 2)
    return affine, corners(0, 0, w, h) @ affine[:, :2].T + affine[:, 2]


def corners(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """A rectangle's corners in MMOCR's polygon order, ``(4, 2)``."""
    return np.float64([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def line_mask(texts: Sequence[str], font, space: float
              ) -> Tuple[np.ndarray, List[np.ndarray]]:
    """``texts`` drawn on one baseline, ``space`` pixels apart: the ink mask
    (cropped to the line, 1 px margin) and each word's box corners (its ink
    box with that margin: one word's is the whole mask)."""
    boxes, x = [], 0.0
    for text in texts:
        left, top, right, bottom = font.getbbox(text)
        boxes.append((x, left, top, right, bottom))
        x += right - left + space
    y0 = min(b[2] for b in boxes) - 1
    y1 = max(b[4] for b in boxes) + 1
    width = int(np.ceil(x - space)) + 2
    mask = Image.new('L', (width, int(y1 - y0)), 0)
    draw = ImageDraw.Draw(mask)
    rects = []
    for text, (x, left, top, right, bottom) in zip(texts, boxes):
        draw.text((1 + x - left, -y0), text, font=font, fill=255)
        rects.append(corners(x, top - y0 - 1, x + 2 + right - left,
                             bottom - y0 + 1))  # the ink box, 1 px margin
    return np.asarray(mask, np.float32) / 255., rects


def warp_line(mask: np.ndarray, rects: List[np.ndarray], strength: float,
              rng: np.random.Generator
              ) -> Tuple[np.ndarray, List[np.ndarray]]:
    """``mask`` seen in perspective (:func:`keystone`; grown to hold all of
    it) and each word's box around its warped corners (:func:`baseline_box`)."""
    h, w = mask.shape
    src = corners(0, 0, w, h).astype(np.float32)
    warp, (w, h) = fitted(cv2.getPerspectiveTransform(
        src, keystone(w, h, strength, rng)), w, h)
    mask = cv2.warpPerspective(mask, warp, (w, h), flags=cv2.INTER_LINEAR)
    boxes = []
    for rect in rects:
        xy = cv2.perspectiveTransform(rect[None].astype(np.float32), warp)[0]
        boxes.append(baseline_box(xy.astype(np.float64)))
    return mask, boxes


def keystone(w: int, h: int, strength: float,
             rng: np.random.Generator) -> np.ndarray:
    """Where a ``w`` × ``h`` line's corners go when its plane is turned away
    from the camera: the far end's height scaled by up to 1 ± 2·strength, a
    slant of up to ±strength·h, each corner moved by up to strength·h / 4.
    Scaled by the line's height, not its length: a long line is not sheared
    flat."""
    far = 1 + rng.uniform(-2, 2) * strength
    slant = rng.uniform(-1, 1) * strength * h
    dst = np.float32([[slant, 0], [w + slant, h * (1 - far) / 2],
                      [w, h * (1 + far) / 2], [0, h]])
    if rng.random() < 0.5:  # mirrored: the far end on the left
        dst[:, 0] = w - dst[:, 0]
        dst = dst[[1, 0, 3, 2]]
    jitter = rng.uniform(-1, 1, (4, 2)) * strength * h / 4
    return (dst + jitter).astype(np.float32)


def baseline_box(quad: np.ndarray) -> np.ndarray:
    """The smallest rectangle around ``quad`` (a warped word box, MMOCR's
    polygon order) whose long sides follow the word's warped baseline (the
    mean direction of its top and bottom edges), in the same order."""
    u = (quad[1] - quad[0]) + (quad[2] - quad[3])
    u /= np.linalg.norm(u)
    v = np.array([-u[1], u[0]])  # down the text, as y is down the image
    a, b = quad @ u, quad @ v
    return np.array([a.min() * u + b.min() * v, a.max() * u + b.min() * v,
                     a.max() * u + b.max() * v, a.min() * u + b.max() * v])


def distractor_row(font, rng: np.random.Generator) -> np.ndarray:
    """A row of non-dictionary symbols (rules, dots, hashes): strokes that
    look like text and are not words."""
    glyphs = rng.choice(list(DISTRACTOR_GLYPHS), int(rng.integers(1, 4)))
    text = ''.join(rng.choice(glyphs, int(rng.integers(3, 12))))
    return line_mask([text], font, 0.0)[0]


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
        scene_cfg (SceneConfig, str or dict, optional): Scene ranges: a
            preset name (``'easy'``, the default; ``'hard'``), a dict of
            fields over one, or a :class:`SceneConfig`.
        sampler_kwargs: Passed to :class:`TextSampler`.
    """

    def __init__(self, charset: str, seed: int = 0, max_len: int = 10,
                 test_families: Sequence[str] = DEFAULT_TEST_FAMILIES,
                 scene_cfg: Union[None, str, dict, SceneConfig] = None,
                 font_corpus: str = 'bundled',
                 **sampler_kwargs) -> None:
        self.seed = seed
        self.sampler = TextSampler(charset, max_len=max_len, **sampler_kwargs)
        self.cfg = scene_config(scene_cfg)
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
        return not (_region(quad, taken.shape) & taken).any()

    def _put(self, taken: np.ndarray, mask: np.ndarray, angle: float,
             rng: np.random.Generator) -> Optional[np.ndarray]:
        """Paste ``mask``'s place at a free random spot (its region, grown by
        the gap, marked taken); the affine map, or None if no spot was
        free."""
        h, w = taken.shape
        for _ in range(self.cfg.tries):
            affine, quad = place(mask, rng.uniform((0, 0), (w, h)), angle)
            if self._free(quad, taken):
                break
        else:
            return None
        # Only the new region is grown by the gap: earlier words keep theirs.
        k = np.ones((2 * self.cfg.gap + 1,) * 2, np.uint8)
        taken |= cv2.dilate(_region(quad, taken.shape), k)
        return affine

    def _paint(self, img: np.ndarray, mask: np.ndarray, affine: np.ndarray,
               bg_colour: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``img`` with ``mask`` painted at ``affine`` in a colour that
        contrasts with the background."""
        h, w = img.shape[:2]
        alpha = cv2.warpAffine(mask, affine, (w, h))[..., None]
        colour = text_colour(bg_colour, rng, self.cfg.camera.min_contrast)
        return blend(img, colour, alpha)

    def sample(self, split: str, index: int) -> Tuple[np.ndarray, List[Dict]]:
        """``(bgr_image, instances)`` of one scene: each instance has
        ``text``, ``polygon`` (8 floats, pixels) and ``font``."""
        rng = self._rng(split, index)
        cfg, fonts = self.cfg, self.fonts[split]
        h, w = cfg.size
        bg_colour = rng.uniform(0, 255, 3)
        img = background(h, w, bg_colour, rng)
        if cfg.clutter_prob and rng.random() < cfg.clutter_prob:
            img = clutter(img, rng)
        taken = np.zeros((h, w), np.uint8)
        instances = []
        for _ in range(int(rng.integers(*cfg.words, endpoint=True))):
            texts = [self.sampler.sample(rng) for _ in range(
                int(rng.integers(*cfg.line_words, endpoint=True)))]
            font_path = fonts.draw(rng)
            size = int(rng.integers(*cfg.font_size, endpoint=True))
            font = load_font(font_path, size)
            mask, rects = line_mask(texts, font,
                                    size * rng.uniform(*cfg.word_space))
            if cfg.perspective:
                mask, rects = warp_line(mask, rects, cfg.perspective, rng)
            angle = rng.uniform(*cfg.angle_deg)
            affine = self._put(taken, mask, angle, rng)
            if affine is None:
                continue  # no room for this line
            img = self._paint(img, mask, affine, bg_colour, rng)
            for text, rect in zip(texts, rects):
                quad = rect @ affine[:, :2].T + affine[:, 2]
                instances.append(dict(text=text, polygon=quad.flatten().tolist(),
                                      font=osp.basename(font_path)))
        for _ in range(int(rng.integers(*cfg.distractors, endpoint=True))):
            font = load_font(fonts.draw(rng),
                             int(rng.integers(*cfg.font_size, endpoint=True)))
            mask = distractor_row(font, rng)
            affine = self._put(taken, mask, rng.uniform(*cfg.angle_deg), rng)
            if affine is not None:
                img = self._paint(img, mask, affine, bg_colour, rng)
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


def _region(quad: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    """``quad`` filled in a ``uint8`` mask of ``shape``."""
    region = np.zeros(shape, np.uint8)
    cv2.fillPoly(region, [np.round(quad).astype(np.int32)], 1)
    return region


def _bbox(polygon: Sequence[float]) -> List[float]:
    xy = np.asarray(polygon).reshape(-1, 2)
    return [*xy.min(0).tolist(), *xy.max(0).tolist()]
