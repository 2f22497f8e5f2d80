"""Everything about one learned metric that pre-training, fidelity reports
and post-tuning (:class:`~lsmmocr.hooks.LearnedSurrogateHook`) need.

A *task* names the space its objects live in (its ``meta()`` travels with every
h_Φ checkpoint; its ``surrogate_args()`` complete h_Φ's config), h_Φ's config,
the fitting objective, where labelled pairs come from (generated, or around a
model's own predictions) and how true and surrogate distances of a model's
batch are measured. LS-ED (:class:`~.edit_distance_task.EditDistanceTask`)
and LS-IoU (:class:`~.rotated_iou_task.RotatedIoUTask`) are its instances,
registered in ``TASK_UTILS``.
"""
from typing import Any, Protocol, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

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


class PairSampler(Protocol):
    """Labelled pairs around a model's predictions; resumable."""

    def state_dict(self) -> dict:
        """Random state, for checkpoints."""

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`."""


class SurrogateTask(Protocol):
    """One learned metric: space, h_Φ, objective, pairs, how to report."""

    space: MetricSpace  # unset until :meth:`bind` (post-tuning)
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

    # ----------------------------------------------------------- post-tuning
    name: str  # prefix of logged scalars
    ckpt_key: str  # where post-tuning checkpoints keep h_Φ
    loss_type: str  # the module loss (``MODELS`` name) that computes ê
    check_targets: bool  # a checkpoint's ground-truth form must match too

    def space_of(self, losses: Sequence[nn.Module]) -> MetricSpace:
        """The space of the objects the model's ``losses`` compare."""

    def bind(self, space: MetricSpace) -> 'SurrogateTask':
        """This task for ``space``."""

    def pair_sampler(self, seed: int) -> PairSampler:
        """The post-tuning pair sampler, seeded."""

    def pairs(self, sampler: PairSampler, source: str, batch: Any) -> Pairs:
        """Labelled pairs from ``source`` (:data:`~.pairs.SOURCES`) for a
        batch of the model's predictions (handed off by its loss)."""

    def lookahead_pairs(self, network: nn.Module, sampler: PairSampler,
                        batch: Any, step_sizes: Sequence[float]) -> Pairs:
        """The batch's predictions moved along −∇ê by each step size,
        labelled: where the model's next step takes them."""

    def distances(self, network: nn.Module,
                  batch: Any) -> Tuple[torch.Tensor, torch.Tensor]:
        """ê (no gradient) and the true distance of each prediction."""
