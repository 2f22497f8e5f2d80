"""Training pairs ``(z, y, e)`` for the edit-distance surrogate.

* ``global``: independent of the model. Each ground truth is edited at random
  (insert / delete / substitute, ``0..max_edits`` times) or replaced by a random
  string, then rendered as a prediction-like distribution.
* ``local``: the model's own predictions on the batch, plus perturbed copies
  (Gaussian noise on the log-probabilities at a random temperature).
* ``local-global``: both, concatenated.

``z`` is always a distribution over classes per position, ``y`` the one-hot
ground truth and ``e`` the true edit distance between the *decoded* ``z`` and
the target text, computed in one batched rapidfuzz call: the greedy decoding's
(the paper's label), the expected one under ``z``'s own distribution
(:mod:`.sampled_decoding`), or a mix (``expected_weight``).
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch

from .pairs import SOURCES, Pairs
from .sampled_decoding import expected_edit_distances, greedy_edit_distances
from .sequence_layout import SequenceLayout


def random_edits(idx: Sequence[int], num_edits: int, alphabet: np.ndarray,
                 capacity: int, rng: np.random.Generator) -> List[int]:
    """Apply ``num_edits`` random inserts, deletes or substitutions."""
    s = list(idx)
    for _ in range(num_edits):
        op = int(rng.integers(3)) if s else 0
        if op == 0 and len(s) < capacity:
            s.insert(int(rng.integers(len(s) + 1)), int(rng.choice(alphabet)))
        elif op == 1 and s:
            del s[int(rng.integers(len(s)))]
        elif s:
            s[int(rng.integers(len(s)))] = int(rng.choice(alphabet))
    return s


class PairSampler:
    """Draw surrogate training pairs for one :class:`SequenceLayout`.

    Args:
        layout (SequenceLayout): The decoder's layout.
        seed (int): Seed of the sampler's own generator (its state is part of
            checkpoints, see :meth:`state_dict`).
        max_edits (int, optional): Most random edits of a ground truth.
            Defaults to the layout's capacity.
        random_frac (float): Fraction of global pairs whose prediction is a
            random string of random length. Defaults to 0.25.
        num_perturb (int): Perturbed copies per local prediction. Defaults to 2.
        noise (tuple): Range of the Gaussian noise std on log-probabilities of
            local perturbations. Defaults to (0.5, 4.0).
        workers (int): rapidfuzz threads for the labels. Defaults to 1.
        expected_weight (float): Label ``e = (1 − w)·ED(greedy) + w·E[ED]``,
            the expectation over ``num_samples`` decodings sampled from ``z``.
            0 is the paper's label (piecewise constant in ``z``); > 0 makes it
            smooth. Defaults to 0.
        num_samples (int): Sampled decodings per pair for ``E[ED]``.
            Defaults to 16.
    """

    def __init__(self,
                 layout: SequenceLayout,
                 seed: int = 0,
                 max_edits: Optional[int] = None,
                 random_frac: float = 0.25,
                 num_perturb: int = 2,
                 noise: Tuple[float, float] = (0.5, 4.0),
                 workers: int = 1,
                 expected_weight: float = 0.0,
                 num_samples: int = 16) -> None:
        if not 0 <= expected_weight <= 1:
            raise ValueError('expected_weight must be in [0, 1], got '
                             f'{expected_weight}')
        if num_samples < 1:
            raise ValueError(f'num_samples must be >= 1, got {num_samples}')
        self.layout = layout
        self.rng = np.random.default_rng(seed)
        self.max_edits = layout.capacity if max_edits is None else max_edits
        self.random_frac = random_frac
        self.num_perturb = num_perturb
        self.noise = noise
        self.workers = workers
        self.expected_weight = expected_weight
        self.num_samples = num_samples

    def state_dict(self) -> dict:
        return dict(rng=self.rng.bit_generator.state)

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state['rng']

    def _label(self, z: torch.Tensor, gt_texts: Sequence[str],
               y: torch.Tensor) -> Pairs:
        e = greedy_edit_distances(self.layout, z, gt_texts,
                                  self.workers).astype(np.float64)
        w = self.expected_weight
        if w > 0:
            gen = torch.Generator().manual_seed(int(self.rng.integers(2**62)))
            e_exp = expected_edit_distances(self.layout, z, gt_texts,
                                            self.num_samples, gen, self.workers)
            e = (1 - w) * e + w * e_exp
        return Pairs(z.float(), y, torch.from_numpy(e).float())

    def labelled(self, z: torch.Tensor,
                 gt_indexes: Sequence[Sequence[int]]) -> Pairs:
        """Pairs of the given predictions ``z`` ``(N, T, C)``, labelled."""
        lay, z = self.layout, z.detach().float().cpu()
        return self._label(z, lay.texts(gt_indexes), lay.targets(gt_indexes, z))

    def global_pairs(self, gt_indexes: Sequence[Sequence[int]]) -> Pairs:
        """One global pair per ground truth."""
        lay, rng = self.layout, self.rng
        preds = []
        for idx in gt_indexes:
            if rng.random() < self.random_frac:
                n = int(rng.integers(lay.capacity + 1))
                preds.append(rng.choice(lay.char_indexes, n).tolist())
            else:
                k = int(rng.integers(self.max_edits + 1))
                preds.append(random_edits(idx, k, lay.char_indexes,
                                          lay.capacity, rng))
        z = lay.render(preds, rng)
        return self._label(z, lay.texts(gt_indexes), lay.targets(gt_indexes, z))

    def local_pairs(self, probs: torch.Tensor,
                    gt_indexes: Sequence[Sequence[int]]) -> Pairs:
        """The predictions ``probs`` ``(N, T, C)`` and perturbed copies."""
        lay = self.layout
        probs = probs.detach().float().cpu()
        n = len(probs)
        logp = probs.clamp_min(1e-8).log()
        copies = [probs]
        for _ in range(self.num_perturb):
            sigma = torch.from_numpy(self.rng.uniform(*self.noise, (n, 1, 1)))
            temp = torch.from_numpy(self.rng.uniform(0.5, 2.0, (n, 1, 1)))
            gauss = torch.from_numpy(self.rng.standard_normal(logp.shape))
            copies.append(((logp + sigma.float() * gauss.float()) /
                           temp.float()).softmax(-1))
        reps = len(copies)
        z, gts = torch.cat(copies), list(gt_indexes) * reps
        return self._label(z, lay.texts(gts), lay.targets(gts, z))

    def sample(self, source: str, gt_indexes: Sequence[Sequence[int]],
               probs: Optional[torch.Tensor] = None) -> Pairs:
        """Pairs from ``source`` (one of :data:`SOURCES`)."""
        if source not in SOURCES:
            raise ValueError(f'source must be one of {SOURCES}, got {source!r}')
        parts = []
        if source in ('global', 'local-global'):
            parts.append(self.global_pairs(gt_indexes))
        if source in ('local', 'local-global'):
            if probs is None:
                raise ValueError(f'source {source!r} needs the predictions')
            parts.append(self.local_pairs(probs, gt_indexes))
        return Pairs.cat(parts)
