"""Render a word as a scene-text-like crop (colour, size, rotation, perspective,
blur, noise, textured background; optionally the rest of what MJSynth and
SynthText vary: borders, shadows, curvature, letter spacing, background
clutter, JPEG artefacts), and the parts a full scene shares."""
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Tuple, Union

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont


@dataclass
class RenderConfig:
    """Ranges of the random rendering parameters.

    Each ``(low, high)`` pair is sampled uniformly per image.
    """
    font_size: Tuple[int, int] = (22, 40)
    rotation_deg: Tuple[float, float] = (-4.0, 4.0)
    perspective: float = 0.06  # max corner shift, fraction of the crop size
    blur_sigma: Tuple[float, float] = (0.0, 1.2)
    noise_sigma: Tuple[float, float] = (0.0, 10.0)
    min_contrast: float = 90.0  # min |luma(text) - luma(background)|
    margin: Tuple[float, float] = (0.05, 0.25)  # fraction of the text height
    # The effects below are off by default (probability 0: no random draw,
    # so the default crops are what they always were); :data:`RICH` sets them.
    spacing_prob: float = 0.0
    spacing: Tuple[float, float] = (-0.05, 0.3)  # extra gap, fraction of size
    curve_prob: float = 0.0
    curve: float = 0.15  # max arc height, fraction of the text height
    border_prob: float = 0.0
    border_px: Tuple[int, int] = (1, 3)
    shadow_prob: float = 0.0
    shadow_px: Tuple[int, int] = (1, 4)
    clutter_prob: float = 0.0  # lines and shapes in the background
    jpeg_prob: float = 0.0
    jpeg_quality: Tuple[int, int] = (30, 95)
    # Grow the crop to the warped crop's bounding box, so rotation and
    # perspective never push ink out of the image (off: the default crops).
    fit_warp: bool = False

    def __post_init__(self) -> None:
        # Any background luma has a colour 127.5 away; more may not exist.
        if not 0 <= self.min_contrast <= 127:
            raise ValueError('min_contrast must be in [0, 127] (more cannot be '
                             f'met on mid-grey backgrounds), got {self.min_contrast}')


# MJSynth/SynthText-like variety: what the converged readers train on.
RICH = RenderConfig(
    rotation_deg=(-5.0, 5.0), perspective=0.08, blur_sigma=(0.0, 1.5),
    noise_sigma=(0.0, 12.0), min_contrast=70.0, spacing_prob=0.2,
    curve_prob=0.2, border_prob=0.15, shadow_prob=0.15, clutter_prob=0.5,
    jpeg_prob=0.5, fit_warp=True)
PRESETS = dict(plain=RenderConfig(), rich=RICH)


def render_config(cfg: Union[None, str, dict, RenderConfig]) -> RenderConfig:
    """A :class:`RenderConfig` from a preset name (``'plain'``, ``'rich'``),
    a dict of fields (over ``'plain'``, or over ``dict(preset=...)``), or
    one as is; None is ``'plain'``."""
    return preset_config(cfg, PRESETS, 'plain', 'render')


def preset_config(cfg, presets: dict, default: str, kind: str):
    """``cfg`` as a dataclass of ``presets``' type: None is the ``default``
    preset, a name is that preset, a dict is its fields over
    ``dict(preset=...)`` (default: ``default``), an instance is itself. A bad
    name or field is named in a ``ValueError`` (``kind`` says which
    config)."""
    if cfg is None:
        cfg = default
    if isinstance(cfg, type(presets[default])):
        return cfg
    cfg = dict(preset=cfg) if isinstance(cfg, str) else dict(cfg)
    preset = cfg.pop('preset', default)
    if preset not in presets:
        raise ValueError(f'unknown {kind} preset {preset!r}; expected one of '
                         f'{sorted(presets)}')
    try:
        return replace(presets[preset], **cfg)
    except TypeError as e:
        raise ValueError(f'bad {kind} config {cfg}: {e}') from None


def _chance(rng: np.random.Generator, prob: float) -> bool:
    """True with probability ``prob``; draws nothing when ``prob`` is 0."""
    return prob > 0 and rng.uniform() < prob


@lru_cache(maxsize=256)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _luma(rgb: np.ndarray) -> float:
    return float(rgb @ np.array([0.299, 0.587, 0.114]))


def text_colour(bg: np.ndarray, rng: np.random.Generator,
                min_contrast: float) -> np.ndarray:
    """A text colour at least ``min_contrast`` from ``bg`` in luma."""
    while True:
        fg = rng.uniform(0, 255, 3)
        if abs(_luma(fg) - _luma(bg)) >= min_contrast:
            return fg


def background(h: int, w: int, colour: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
    """A colour field with a gradient and low-frequency texture."""
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    slope = rng.uniform(-0.6, 0.6, 2)
    grad = slope[0] * (gy - h / 2) + slope[1] * (gx - w / 2)
    coarse = rng.normal(0, 1, (max(2, h // 8), max(2, w // 8), 3))
    texture = cv2.resize(coarse.astype(np.float32), (w, h),
                         interpolation=cv2.INTER_CUBIC)
    amp = rng.uniform(0, 25)
    img = colour[None, None, :] + grad[..., None] + amp * texture
    return img.astype(np.float32)


def _homography(w: int, h: int, cfg: RenderConfig,
                rng: np.random.Generator) -> np.ndarray:
    """Rotation about the centre composed with a random corner jitter."""
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    shift = cfg.perspective * np.float32([w, h])
    dst = src + rng.uniform(-1, 1, (4, 2)).astype(np.float32) * shift
    persp = cv2.getPerspectiveTransform(src, dst)
    angle = rng.uniform(*cfg.rotation_deg)
    rot = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0),
                     [0, 0, 1]])
    return rot @ persp


def render_text(text: str,
                font_path: str,
                rng: np.random.Generator,
                cfg: RenderConfig = RenderConfig()) -> np.ndarray:
    """Render ``text`` with the font at ``font_path``.

    Returns:
        np.ndarray: A BGR ``uint8`` image of shape ``(H, W, 3)`` (OpenCV's and
        MMOCR's channel order).
    """
    if not text:
        raise ValueError('cannot render an empty text')
    size = int(rng.integers(*cfg.font_size, endpoint=True))
    font = load_font(font_path, size)
    left, top, right, bottom = font.getbbox(text)
    th = bottom - top
    margin = tuple(int(th * rng.uniform(*cfg.margin)) + 2 for _ in range(2))
    bg_colour = rng.uniform(0, 255, 3)
    fg_colour = text_colour(bg_colour, rng, cfg.min_contrast)
    spacing = (size * rng.uniform(*cfg.spacing)
               if _chance(rng, cfg.spacing_prob) else 0.0)
    mask = text_mask(text, font, margin, spacing)
    if _chance(rng, cfg.curve_prob):
        mask = curved(mask, th * rng.uniform(-cfg.curve, cfg.curve))
    h, w = mask.shape
    warp = _homography(w, h, cfg, rng)
    if cfg.fit_warp:
        warp, (w, h) = fitted(warp, w, h)

    def warped(m: np.ndarray) -> np.ndarray:
        return cv2.warpPerspective(
            m, warp, (w, h), flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT)[..., None]

    img = background(h, w, bg_colour, rng)
    if _chance(rng, cfg.clutter_prob):
        img = clutter(img, rng)
    if _chance(rng, cfg.shadow_prob):
        dx, dy = rng.integers(*cfg.shadow_px, endpoint=True, size=2)
        shadow = np.roll(mask, (dy, dx), axis=(0, 1))
        shadow = cv2.GaussianBlur(shadow, (0, 0), rng.uniform(0.5, 2.0))
        img = blend(img, rng.uniform(0, 80, 3), warped(shadow) * 0.8)
    if _chance(rng, cfg.border_prob):
        k = 2 * int(rng.integers(*cfg.border_px, endpoint=True)) + 1
        outline = cv2.dilate(mask, np.ones((k, k), np.uint8))
        img = blend(img, text_colour(fg_colour, rng, cfg.min_contrast),
                    warped(outline))
    img = blend(img, fg_colour, warped(mask))
    if _chance(rng, cfg.jpeg_prob):
        img = jpeg(img, int(rng.integers(*cfg.jpeg_quality, endpoint=True)))
    return camera(img, rng, cfg)


def fitted(warp: np.ndarray, w: int, h: int
           ) -> Tuple[np.ndarray, Tuple[int, int]]:
    """``warp`` shifted so the warped ``w`` × ``h`` rectangle starts at the
    origin, and the size of the image that holds all of it."""
    corners = cv2.perspectiveTransform(
        np.float32([[[0, 0], [w, 0], [w, h], [0, h]]]), warp)[0]
    lo, hi = np.floor(corners.min(0)), np.ceil(corners.max(0))
    shift = np.array([[1, 0, -lo[0]], [0, 1, -lo[1]], [0, 0, 1]])
    return shift @ warp, (int(hi[0] - lo[0]), int(hi[1] - lo[1]))


def blend(img: np.ndarray, colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``colour`` painted over ``img`` with opacity ``alpha`` (H, W, 1)."""
    return img * (1 - alpha) + colour * alpha


def curved(mask: np.ndarray, height: float) -> np.ndarray:
    """``mask`` bent along a parabolic arc rising ``height`` pixels at its
    centre (negative: sagging); padded so no ink leaves the crop."""
    pad = int(np.ceil(abs(height))) + 1
    mask = np.pad(mask, ((pad, pad), (0, 0)))
    h, w = mask.shape
    x = np.arange(w, dtype=np.float32)
    shift = height * (1 - (2 * x / max(w - 1, 1) - 1) ** 2)
    map_x = np.broadcast_to(x, (h, w)).astype(np.float32)
    map_y = np.arange(h, dtype=np.float32)[:, None] + shift[None, :]
    map_y = map_y.astype(np.float32)
    return cv2.remap(mask, map_x, map_y, cv2.INTER_LINEAR)


def clutter(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A few lines, rectangles and ellipses of other colours, half
    transparent, as on signs, labels and walls behind real text."""
    h, w = img.shape[:2]
    layer = img.copy()
    for _ in range(int(rng.integers(1, 5))):
        colour = rng.uniform(0, 255, 3).tolist()
        p, q = (tuple(int(v) for v in rng.uniform((0, 0), (w, h))) for _ in range(2))
        kind = rng.integers(3)
        if kind == 0:
            cv2.line(layer, p, q, colour, int(rng.integers(1, 4)))
        elif kind == 1:
            cv2.rectangle(layer, p, q, colour, int(rng.choice([-1, 1, 2])))
        else:
            axes = (int(rng.integers(2, w // 2 + 3)), int(rng.integers(2, h // 2 + 3)))
            cv2.ellipse(layer, p, axes, rng.uniform(0, 180), 0, 360, colour, -1)
    return blend(img, layer, np.float32(rng.uniform(0.2, 0.6)))


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """``img`` (RGB float) through JPEG compression at ``quality``."""
    bgr = np.clip(img, 0, 255).astype(np.uint8)[..., ::-1]
    ok, buf = cv2.imencode('.jpg', bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32)


def text_mask(text: str, font: ImageFont.FreeTypeFont,
              margin: Tuple[int, int] = (0, 0),
              spacing: float = 0.0) -> np.ndarray:
    """The ink of ``text`` as a float mask in [0, 1], cropped to the font's
    bounding box of it plus ``margin`` (x, y) pixels on each side;
    ``spacing`` pixels added between letters (drawn one by one then)."""
    left, top, right, bottom = font.getbbox(text)
    mx, my = margin
    if not spacing:
        mask = Image.new('L', (right - left + 2 * mx, bottom - top + 2 * my), 0)
        ImageDraw.Draw(mask).text((mx - left, my - top), text, font=font,
                                  fill=255)
        return np.asarray(mask, np.float32) / 255.
    starts = np.concatenate([[0.0], np.cumsum(
        [font.getlength(c) + spacing for c in text[:-1]])])
    boxes = [font.getbbox(c) for c in text]
    ink_left = min(x + box[0] for x, box in zip(starts, boxes))
    ink_right = max(x + box[2] for x, box in zip(starts, boxes))
    width = int(np.ceil(ink_right - ink_left)) + 2 * mx
    mask = Image.new('L', (max(width, 1), bottom - top + 2 * my), 0)
    draw = ImageDraw.Draw(mask)
    for x, c in zip(starts, text):
        draw.text((mx - ink_left + x, my - top), c, font=font, fill=255)
    return np.asarray(mask, np.float32) / 255.


def camera(img: np.ndarray, rng: np.random.Generator,
           cfg: RenderConfig) -> np.ndarray:
    """Blur and sensor noise on an RGB float image; BGR ``uint8`` out."""
    sigma = rng.uniform(*cfg.blur_sigma)
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    img = img + rng.normal(0, rng.uniform(*cfg.noise_sigma), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)[..., ::-1].copy()
