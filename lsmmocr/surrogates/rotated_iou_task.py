"""LS-IoU as a :class:`~.surrogate_task.SurrogateTask`: rotated boxes,
labelled with ``1 − IoU`` (Patel, Hodaň, Matas, ECCV 2020, section 4)."""
from dataclasses import dataclass, field

import numpy as np
from mmocr.registry import TASK_UTILS

from .box_pair_sampler import RotatedBoxPairSampler
from .pairs import Pairs
from .rotated_boxes import RotatedBoxSpace


@TASK_UTILS.register_module()
@dataclass
class RotatedIoUTask:
    """LS-IoU (see :class:`~.surrogate_task.SurrogateTask`).

    ``sampler``: :class:`RotatedBoxPairSampler` keyword arguments. Held-out
    pairs use the sampler's defaults, so variants are compared on the same
    pairs.
    """
    surrogate: dict = field(
        default_factory=lambda: dict(type='RotatedBoxEmbedding'))
    fit_loss: dict = field(
        default_factory=lambda: dict(type='SurrogateFitLoss'))
    sampler: dict = field(default_factory=dict)
    near: float = 0.5  # IoU >= 0.5: a detection by the usual rule
    bucket_label: str = 'IoU decile (lower bound)'
    space: RotatedBoxSpace = field(default_factory=RotatedBoxSpace)

    def global_pairs(self, seed: int) -> RotatedBoxPairSampler:
        return RotatedBoxPairSampler(seed, **self.sampler)

    def held_out_pairs(self, num: int, seed: int) -> Pairs:
        return RotatedBoxPairSampler(20_000 + seed).sample(num)

    def buckets(self, e: np.ndarray) -> np.ndarray:
        """The IoU decile: 0, 0.1, ..., 0.9 (IoU 1 joins 0.9)."""
        return np.minimum(np.floor((1 - e.astype(np.float64)) * 10), 9) / 10
