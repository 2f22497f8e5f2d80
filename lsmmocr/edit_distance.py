"""Batched Levenshtein distances (rapidfuzz's C++ kernels)."""
from typing import Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cpdist


def edit_distances(preds: Sequence[str], gts: Sequence[str],
                   workers: int = 1) -> np.ndarray:
    """Element-wise edit distance ``ED(preds[i], gts[i])`` as an int array.

    Args:
        preds, gts (sequence of str): Equally long lists of strings.
        workers (int): Threads rapidfuzz may use (``-1``: all cores).
    """
    if len(preds) != len(gts):
        raise ValueError(f'{len(preds)} predictions but {len(gts)} targets')
    if len(preds) == 0:
        return np.zeros(0, dtype=np.int64)
    return cpdist(list(preds), list(gts), scorer=Levenshtein.distance,
                  workers=workers).astype(np.int64)
