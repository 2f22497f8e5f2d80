"""The learned-surrogate idea, once: an embedding h_Φ in which Euclidean
distance approximates a metric e, ê_Φ(z, y) = ‖h_Φ(z) − h_Φ(y)‖₂.

LS-ED (edit distance between texts) and LS-IoU (1 − IoU between rotated boxes)
are its instances (Patel, Hodaň, Matas, ECCV 2020); each subclass only says how
its objects are embedded.
"""
from typing import Callable, Sequence

import torch
from mmengine.model import BaseModule

from ..utils import frozen, unit_per_sample


class MetricEmbedding(BaseModule):
    """Base of every h_Φ: ``forward`` maps a batch of objects to ``(N, D)``."""

    def distance(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """ê(z, y) per sample, ``(N,)``: the surrogate metric.

        ``z`` and ``y`` go through one batched forward pass. A tiny epsilon
        keeps the gradient of the norm finite at ``z == y``.
        """
        hz, hy = self(torch.cat([z, y.to(z.dtype)])).chunk(2)
        return torch.sqrt((hz - hy).pow(2).sum(-1) + 1e-8)


def lookahead(surrogate: MetricEmbedding, x: torch.Tensor, y: torch.Tensor,
              step_sizes: Sequence[float],
              to_z: Callable[[torch.Tensor], torch.Tensor] = lambda x: x
              ) -> torch.Tensor:
    """Where a model's step on ê takes its predictions: ``to_z(x − s·d)``
    for each of ``step_sizes``, ``d`` the per-sample unit direction of
    ∇ₓ ê(to_z(x), y) (Φ frozen). ``x`` is what the model outputs (a
    recognizer's logits: ``to_z`` the softmax), ``(len(step_sizes) * N, ...)``."""
    x = x.detach().requires_grad_(True)
    with frozen(surrogate):
        e_hat = surrogate.distance(to_z(x), y)
    d = unit_per_sample(torch.autograd.grad(e_hat.sum(), x)[0])
    return torch.cat([to_z(x - s * d) for s in step_sizes]).detach()
