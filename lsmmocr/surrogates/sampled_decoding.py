"""Edit distances of a prediction's decodings: the greedy one (MMOCR's
postprocessors) and decodings sampled from the prediction's own distribution.

The edit distance of the greedy decoding is piecewise constant in the
prediction ``z``: its gradient is zero almost everywhere. Its expectation under
``z``'s own distribution, E_{π∼z}[ED(decode(π), y)], is smooth in ``z``; it is
the training signal of expected-risk (minimum word error rate) training and a
smooth label for the LS-ED surrogate.
"""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch

from ..edit_distance import edit_distances
from .sequence_layout import SequenceLayout


def greedy_edit_distances(layout: SequenceLayout, scores: torch.Tensor,
                          gt_texts: Sequence[str],
                          workers: int = 1) -> np.ndarray:
    """Edit distance of each greedy decoding of ``(N, T, C)`` scores to its
    target text (one batched rapidfuzz call)."""
    return edit_distances(layout.decode(scores), gt_texts, workers)


def sampled_edit_distances(layout: SequenceLayout, probs: torch.Tensor,
                           gt_texts: Sequence[str], num_samples: int,
                           generator: Optional[torch.Generator] = None,
                           workers: int = 1
                           ) -> Tuple[torch.Tensor, np.ndarray]:
    """Draw ``num_samples`` decodings per prediction and score them.

    Args:
        layout: The decoder's layout (how rows decode).
        probs: ``(N, T, C)`` distributions.
        gt_texts: ``N`` target texts.
        num_samples: ``S``.
        generator: Torch generator of the draws.

    Returns:
        tuple: the ``(S, N, T)`` sampled index rows and their ``(S, N)`` edit
        distances to the targets.
    """
    rows = layout.sample(probs, num_samples, generator)
    s, n, t = rows.shape
    texts = layout.decode_rows(rows.reshape(s * n, t))
    e = edit_distances(texts, list(gt_texts) * s, workers)
    return rows, e.reshape(s, n)


def expected_edit_distances(layout: SequenceLayout, probs: torch.Tensor,
                            gt_texts: Sequence[str], num_samples: int,
                            generator: Optional[torch.Generator] = None,
                            workers: int = 1) -> np.ndarray:
    """Monte-Carlo E_{π∼z}[ED(decode(π), y)] per prediction, ``(N,)``."""
    return sampled_edit_distances(layout, probs, gt_texts, num_samples,
                                  generator, workers)[1].mean(0)
