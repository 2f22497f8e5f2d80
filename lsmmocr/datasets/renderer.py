"""Render a word as a scene-text-like crop (colour, size, rotation, perspective,
blur, noise, textured background)."""
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
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _luma(rgb: np.ndarray) -> float:
    return float(rgb @ np.array([0.299, 0.587, 0.114]))


def _colours(rng: np.random.Generator,
             min_contrast: float) -> Tuple[np.ndarray, np.ndarray]:
    """A background and a text colour at least ``min_contrast`` apart."""
    bg = rng.uniform(0, 255, 3)
    while True:
        fg = rng.uniform(0, 255, 3)
        if abs(_luma(fg) - _luma(bg)) >= min_contrast:
            return bg, fg


def _background(h: int, w: int, colour: np.ndarray,
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
    font = _font(font_path, int(rng.integers(*cfg.font_size, endpoint=True)))
    left, top, right, bottom = font.getbbox(text)
    tw, th = right - left, bottom - top
    mx, my = (int(th * rng.uniform(*cfg.margin)) + 2 for _ in range(2))
    w, h = tw + 2 * mx, th + 2 * my

    bg_colour, fg_colour = _colours(rng, cfg.min_contrast)
    mask = Image.new('L', (w, h), 0)
    ImageDraw.Draw(mask).text((mx - left, my - top), text, font=font, fill=255)
    warp = _homography(w, h, cfg, rng)
    alpha = cv2.warpPerspective(
        np.asarray(mask, np.float32) / 255., warp, (w, h),
        flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)[..., None]

    img = _background(h, w, bg_colour, rng) * (1 - alpha) + fg_colour * alpha
    sigma = rng.uniform(*cfg.blur_sigma)
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    img = img + rng.normal(0, rng.uniform(*cfg.noise_sigma), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)[..., ::-1].copy()
