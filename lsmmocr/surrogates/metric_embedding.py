"""The learned-surrogate idea, once: an embedding h_Φ in which Euclidean
distance approximates a metric e, ê_Φ(z, y) = ‖h_Φ(z) − h_Φ(y)‖₂.

LS-ED (edit distance between texts) and LS-IoU (1 − IoU between rotated boxes)
are its instances (Patel, Hodaň, Matas, ECCV 2020); each subclass only says how
its objects are embedded.
"""
import torch
from mmengine.model import BaseModule


class MetricEmbedding(BaseModule):
    """Base of every h_Φ: ``forward`` maps a batch of objects to ``(N, D)``."""

    def distance(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """ê(z, y) per sample, ``(N,)``: the surrogate metric.

        ``z`` and ``y`` go through one batched forward pass. A tiny epsilon
        keeps the gradient of the norm finite at ``z == y``.
        """
        hz, hy = self(torch.cat([z, y.to(z.dtype)])).chunk(2)
        return torch.sqrt((hz - hy).pow(2).sum(-1) + 1e-8)
