"""Training pairs ``(z, y, e)`` for the rotated-IoU surrogate (LS-IoU).

``y`` is a random text-like box; ``z`` a perturbation of it (shift along its
own axes, scale, rotation, at a random strength, so the pairs cover IoU from
1 down to 0) or, with ``random_frac``, an independent box. ``e = 1 − IoU``,
exact (``mmcv.ops.box_iou_rotated``).
"""
import math
from typing import Tuple

import numpy as np
import torch

from .pairs import Pairs
from .rotated_boxes import iou_distance


class RotatedBoxPairSampler:
    """Global pairs of rotated boxes (a :class:`~.surrogate_task.PairSource`).

    Args:
        seed (int): Seed of the sampler's own generator.
        size_range (tuple): Range of a box's long side (log-uniform), as a
            fraction of the image. Defaults to (0.03, 0.6).
        max_aspect (float): Largest long/short side ratio (log-uniform from
            1). Defaults to 8: words and lines of text.
        random_frac (float): Fraction of pairs whose ``z`` is an independent
            box. Defaults to 0.15.
        max_strength (float): Largest perturbation strength: shifts of up to
            about this many half-sides, log-scale and angle noise of up to
            ``0.5 · max_strength``. Defaults to 1.
    """

    def __init__(self,
                 seed: int = 0,
                 size_range: Tuple[float, float] = (0.03, 0.6),
                 max_aspect: float = 8.0,
                 random_frac: float = 0.15,
                 max_strength: float = 1.0) -> None:
        if not 0 < size_range[0] < size_range[1]:
            raise ValueError(f'size_range must be 0 < low < high, got {size_range}')
        if max_aspect < 1:
            raise ValueError(f'max_aspect must be >= 1, got {max_aspect}')
        self.rng = np.random.default_rng(seed)
        self.size_range = size_range
        self.max_aspect = max_aspect
        self.random_frac = random_frac
        self.max_strength = max_strength

    def state_dict(self) -> dict:
        return dict(rng=self.rng.bit_generator.state)

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state['rng']

    def boxes(self, n: int) -> np.ndarray:
        """``n`` random boxes ``(cx, cy, w, h, θ)``, tall ones included."""
        rng, (lo, hi) = self.rng, self.size_range
        long = np.exp(rng.uniform(math.log(lo), math.log(hi), n))
        short = long / np.exp(rng.uniform(0, math.log(self.max_aspect), n))
        tall = rng.random(n) < 0.5
        w, h = np.where(tall, short, long), np.where(tall, long, short)
        return np.stack([rng.uniform(0.1, 0.9, n), rng.uniform(0.1, 0.9, n),
                         w, h, rng.uniform(-math.pi / 2, math.pi / 2, n)], 1)

    def perturb(self, y: np.ndarray) -> np.ndarray:
        """``y`` moved along its own axes, rescaled and rotated, each row at
        its own random strength."""
        rng, n = self.rng, len(y)
        s = self.max_strength * rng.random(n) ** 1.5  # more small moves
        cx, cy, w, h, t = y.T
        u, v = (rng.standard_normal((2, n)) * s * np.stack([w, h]) / 2)
        c, si = np.cos(t), np.sin(t)
        return np.stack([
            cx + u * c - v * si, cy + u * si + v * c,
            w * np.exp(0.5 * s * rng.standard_normal(n)),
            h * np.exp(0.5 * s * rng.standard_normal(n)),
            t + 0.5 * s * rng.standard_normal(n)], 1)

    def labelled(self, z: torch.Tensor, y: torch.Tensor) -> Pairs:
        """Pairs of the given boxes, labelled with their exact 1 − IoU."""
        z, y = z.detach().float().cpu(), y.detach().float().cpu()
        return Pairs(z, y, iou_distance(z, y))

    def sample(self, n: int) -> Pairs:
        y = self.boxes(n)
        z = self.perturb(y)
        independent = self.rng.random(n) < self.random_frac
        z[independent] = self.boxes(int(independent.sum()))
        return self.labelled(torch.from_numpy(z), torch.from_numpy(y))
