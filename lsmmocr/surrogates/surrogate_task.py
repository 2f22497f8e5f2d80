"""What the shared pre-training and fidelity code needs from one learned metric.

A *task* names the space its objects live in (its ``meta()`` travels with every
h_Φ checkpoint; its ``surrogate_args()`` complete h_Φ's config), h_Φ's config,
the fitting objective, and where labelled pairs come from. LS-ED
(:class:`~.edit_distance_task.EditDistanceTask`) and LS-IoU
(:class:`~.rotated_iou_task.RotatedIoUTask`) are its instances.
"""
from typing import Protocol

import numpy as np

from .pairs import Pairs


class MetricSpace(Protocol):
    """The objects a surrogate compares (a decoder's sequence layout, rotated
    boxes)."""

    def meta(self) -> dict:
        """What a surrogate trained for this space must match."""

    def surrogate_args(self) -> dict:
        """h_Φ constructor arguments this space fixes."""


class PairSource(Protocol):
    """An endless, seeded source of global pairs (resumable)."""

    def sample(self, n: int) -> Pairs:
        """``n`` labelled pairs."""

    def state_dict(self) -> dict:
        """Random state, for checkpoints."""

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`."""


class SurrogateTask(Protocol):
    """One learned metric: space, h_Φ, objective, pairs, how to report."""

    space: MetricSpace
    surrogate: dict  # h_Φ config (without what ``space`` fixes)
    fit_loss: dict  # objective config, e.g. SurrogateFitLoss
    sampler: dict  # keyword arguments of the pair source
    near: float  # "near" pairs have e <= near (a trained model's errors)
    bucket_label: str  # what :meth:`buckets` returns, for reports

    def global_pairs(self, seed: int) -> PairSource:
        """The pre-training pair source, seeded."""

    def held_out_pairs(self, num: int, seed: int) -> Pairs:
        """Evaluation pairs from generators seeded apart from training's."""

    def buckets(self, e: np.ndarray) -> np.ndarray:
        """The bucket of each true distance, for per-bucket errors."""
