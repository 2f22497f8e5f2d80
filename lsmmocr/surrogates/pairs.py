"""A batch of labelled surrogate training pairs, for any learned metric."""
from dataclasses import dataclass
from typing import Sequence

import torch

# Where a surrogate's training pairs come from: generated (global), around
# the model's own predictions (local), or both.
SOURCES = ('global', 'local', 'local-global')


@dataclass
class Pairs:
    """Predictions ``z``, ground truths ``y`` and their true distances ``e``
    (edit distance of texts; 1 − IoU of rotated boxes)."""
    z: torch.Tensor  # (N, ...) predictions
    y: torch.Tensor  # (N, ...) ground truths, same shape
    e: torch.Tensor  # (N,) true distances, float

    def __len__(self) -> int:
        return len(self.e)

    @staticmethod
    def cat(parts: Sequence['Pairs']) -> 'Pairs':
        return Pairs(*(torch.cat([getattr(p, k) for p in parts])
                       for k in ('z', 'y', 'e')))
