"""LS-IoU as a :class:`~.surrogate_task.SurrogateTask`: rotated boxes,
labelled with ``1 − IoU`` (Patel, Hodaň, Matas, ECCV 2020, section 4). In
post-tuning, :class:`~lsmmocr.losses.LSIoUModuleLoss` hands each step's boxes
over as a :class:`BoxBatch`."""
import dataclasses
from dataclasses import dataclass, field
from typing import Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmocr.registry import TASK_UTILS

from ..utils import frozen
from .box_pair_sampler import RotatedBoxPairSampler
from .metric_embedding import lookahead
from .pairs import Pairs
from .rotated_boxes import RotatedBoxSpace, iou_distance

MIN_SIDE = 1e-4  # a look-ahead box keeps an area (normalised units)


@dataclass
class BoxBatch:
    """A detector's boxes on one batch's text pixels and their true boxes
    (detached, normalised)."""
    z: torch.Tensor  # (N, 5)
    y: torch.Tensor  # (N, 5)


def _with_area(boxes: torch.Tensor) -> torch.Tensor:
    return torch.cat([boxes[:, :2], boxes[:, 2:4].clamp_min(MIN_SIDE),
                      boxes[:, 4:]], 1)


@TASK_UTILS.register_module()
@dataclass
class RotatedIoUTask:
    """LS-IoU (see :class:`~.surrogate_task.SurrogateTask`).

    ``sampler``: :class:`RotatedBoxPairSampler` keyword arguments. Held-out
    pairs use the sampler's defaults, so variants are compared on the same
    pairs. ``num_pairs``: local pairs per Φ step in post-tuning (drawn from
    the step's text pixels), and as many global ones.
    """
    surrogate: dict = field(
        default_factory=lambda: dict(type='RotatedBoxEmbedding'))
    fit_loss: dict = field(
        default_factory=lambda: dict(type='SurrogateFitLoss'))
    sampler: dict = field(default_factory=dict)
    near: float = 0.5  # IoU >= 0.5: a detection by the usual rule
    bucket_label: str = 'IoU decile (lower bound)'
    space: RotatedBoxSpace = field(default_factory=RotatedBoxSpace)
    num_pairs: int = 256
    name = 'lsiou'
    ckpt_key = 'lsiou_surrogate'
    loss_type = 'LSIoUModuleLoss'
    check_targets = False

    def __post_init__(self) -> None:
        if self.num_pairs <= 0:
            raise ValueError(f'num_pairs must be positive, got {self.num_pairs}')

    def global_pairs(self, seed: int) -> RotatedBoxPairSampler:
        return RotatedBoxPairSampler(seed, **self.sampler)

    def held_out_pairs(self, num: int, seed: int) -> Pairs:
        return RotatedBoxPairSampler(20_000 + seed).sample(num)

    def buckets(self, e: np.ndarray) -> np.ndarray:
        """The IoU decile: 0, 0.1, ..., 0.9 (IoU 1 joins 0.9)."""
        return np.minimum(np.floor((1 - e.astype(np.float64)) * 10), 9) / 10

    # ----------------------------------------------------------- post-tuning
    def space_of(self, losses: Sequence[nn.Module]) -> RotatedBoxSpace:
        return self.space

    def bind(self, space: RotatedBoxSpace) -> 'RotatedIoUTask':
        return dataclasses.replace(self, space=space)

    pair_sampler = global_pairs

    def pairs(self, sampler: RotatedBoxPairSampler, source: str,
              batch: BoxBatch) -> Pairs:
        """Local: ``num_pairs`` of the step's text pixels' boxes; global:
        as many from the sampler."""
        parts = []
        if source in ('local', 'local-global'):
            n = min(self.num_pairs, len(batch.z))
            idx = torch.from_numpy(sampler.rng.choice(len(batch.z), n,
                                                      replace=False))
            parts.append(sampler.labelled(batch.z[idx], batch.y[idx]))
        if source in ('global', 'local-global'):
            parts.append(sampler.sample(self.num_pairs))
        return Pairs.cat(parts)

    def lookahead_pairs(self, network: nn.Module,
                        sampler: RotatedBoxPairSampler, batch: BoxBatch,
                        step_sizes: Sequence[float]) -> Pairs:
        """Moved in box space (normalised units), each side kept > 0."""
        device = next(network.parameters()).device
        z, y = batch.z.to(device), batch.y.to(device)
        ahead = lookahead(network, z, y, step_sizes, to_z=_with_area)
        return sampler.labelled(ahead, y.repeat(len(step_sizes), 1))

    def distances(self, network: nn.Module, batch: BoxBatch
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
        device = next(network.parameters()).device
        with torch.no_grad(), frozen(network):
            e_hat = network.distance(batch.z.to(device), batch.y.to(device))
        return e_hat.cpu(), iou_distance(batch.z, batch.y)
