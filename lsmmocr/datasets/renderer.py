"""Render a word as a scene-text-like crop (colour, size, rotation, perspective,
blur, noise, textured background), and the parts a full scene shares."""
from dataclasses import dataclass
from functools import lru_cache
from typing import Tuple

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
    font = load_font(font_path, int(rng.integers(*cfg.font_size, endpoint=True)))
    left, top, right, bottom = font.getbbox(text)
    th = bottom - top
    margin = tuple(int(th * rng.uniform(*cfg.margin)) + 2 for _ in range(2))
    bg_colour = rng.uniform(0, 255, 3)
    fg_colour = text_colour(bg_colour, rng, cfg.min_contrast)
    mask = text_mask(text, font, margin)
    h, w = mask.shape
    warp = _homography(w, h, cfg, rng)
    alpha = cv2.warpPerspective(
        mask, warp, (w, h),
        flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)[..., None]

    img = background(h, w, bg_colour, rng) * (1 - alpha) + fg_colour * alpha
    return camera(img, rng, cfg)


def text_mask(text: str, font: ImageFont.FreeTypeFont,
              margin: Tuple[int, int] = (0, 0)) -> np.ndarray:
    """The ink of ``text`` as a float mask in [0, 1], cropped to the font's
    bounding box of it plus ``margin`` (x, y) pixels on each side."""
    left, top, right, bottom = font.getbbox(text)
    mx, my = margin
    mask = Image.new('L', (right - left + 2 * mx, bottom - top + 2 * my), 0)
    ImageDraw.Draw(mask).text((mx - left, my - top), text, font=font, fill=255)
    return np.asarray(mask, np.float32) / 255.


def camera(img: np.ndarray, rng: np.random.Generator,
           cfg: RenderConfig) -> np.ndarray:
    """Blur and sensor noise on an RGB float image; BGR ``uint8`` out."""
    sigma = rng.uniform(*cfg.blur_sigma)
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    img = img + rng.normal(0, rng.uniform(*cfg.noise_sigma), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)[..., ::-1].copy()
