"""Rotated boxes ``(cx, cy, w, h, θ)`` (mmcv's convention: ``w`` along
``(cos θ, sin θ)`` in image coordinates, y down) from and to MMOCR polygons,
and EAST's per-pixel encoding of them (distances to the four edges + angle).
"""
import math
from typing import Sequence

import numpy as np
import torch


def quad_to_rbox(polygon: Sequence[float]) -> np.ndarray:
    """The rotated rectangle of a text polygon, ``(5,)``.

    A 4-point polygon in reading order (top-left, top-right, bottom-right,
    bottom-left, as MMOCR's quadrilaterals and :mod:`lsmmocr.datasets.
    synth_scene` give them) keeps its reading direction: θ is the angle of
    its top edge, ``w`` the mean length of top and bottom edges, ``h`` of
    the sides. Other polygons get OpenCV's minimum-area rectangle. θ is
    wrapped to ``[-π/2, π/2)`` (the same box as θ ± π).
    """
    xy = np.asarray(polygon, np.float64).reshape(-1, 2)
    if len(xy) < 3 or not np.isfinite(xy).all():
        raise ValueError(f'a text polygon needs >= 3 finite points, got {xy.tolist()}')
    if len(xy) != 4:
        import cv2
        (cx, cy), (w, h), deg = cv2.minAreaRect(xy.astype(np.float32))
        return _wrapped(np.array([cx, cy, w, h, math.radians(deg)]))
    tl, tr, br, bl = xy
    top = (tr - tl + br - bl) / 2
    side = (bl - tl + br - tr) / 2
    w, h = np.linalg.norm(top), np.linalg.norm(side)
    cx, cy = xy.mean(0)
    return _wrapped(np.array([cx, cy, w, h, math.atan2(top[1], top[0])]))


def _wrapped(rbox: np.ndarray) -> np.ndarray:
    rbox[4] = (rbox[4] + math.pi / 2) % math.pi - math.pi / 2
    return rbox


def rbox_corners(rboxes: torch.Tensor) -> torch.Tensor:
    """``(N, 5)`` boxes -> ``(N, 4, 2)`` corners (top-left, top-right,
    bottom-right, bottom-left in the box's frame)."""
    c = rboxes[:, :2, None].transpose(1, 2)
    u = torch.stack([rboxes[:, 4].cos(), rboxes[:, 4].sin()], 1)[:, None]
    v = torch.stack([-rboxes[:, 4].sin(), rboxes[:, 4].cos()], 1)[:, None]
    su = torch.tensor([-1., 1., 1., -1.])[None, :, None] * rboxes[:, 2, None, None] / 2
    sv = torch.tensor([-1., -1., 1., 1.])[None, :, None] * rboxes[:, 3, None, None] / 2
    return c + su * u + sv * v


def encode(points: torch.Tensor, rboxes: torch.Tensor) -> torch.Tensor:
    """EAST's geometry of each point in its box: distances to the top,
    right, bottom and left edges (box frame) and θ, ``(N, 5)``."""
    d = points - rboxes[:, :2]
    cos, sin = rboxes[:, 4].cos(), rboxes[:, 4].sin()
    du = d[:, 0] * cos + d[:, 1] * sin
    dv = -d[:, 0] * sin + d[:, 1] * cos
    w, h = rboxes[:, 2] / 2, rboxes[:, 3] / 2
    return torch.stack([h + dv, w - du, h - dv, w + du, rboxes[:, 4]], 1)


def decode(points: torch.Tensor, geometry: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`encode`: ``(N, 5)`` rotated boxes. Differentiable."""
    top, right, bottom, left, theta = geometry.unbind(1)
    du, dv = (right - left) / 2, (bottom - top) / 2
    cos, sin = theta.cos(), theta.sin()
    cx = points[:, 0] + du * cos - dv * sin
    cy = points[:, 1] + du * sin + dv * cos
    return torch.stack([cx, cy, left + right, top + bottom, theta], 1)


def pixel_centres(map_hw: Sequence[int], input_hw: Sequence[int]) -> torch.Tensor:
    """Input coordinates ``(H * W, 2)`` of the centres of a ``map_hw``
    feature map's pixels over an ``input_hw`` (padded) input, row-major (as
    ``map.flatten()`` orders them)."""
    (h, w), (ih, iw) = map_hw, input_hw
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    return (torch.stack([(xs + 0.5) * (iw / w), (ys + 0.5) * (ih / h)], -1)
            .reshape(-1, 2).float())
