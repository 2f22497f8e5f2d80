"""How a recognizer's decoder lays text out over its ``T`` output positions.

The surrogate compares a prediction ``z`` (``(N, T, C)`` character
distributions) with a ground truth ``y`` drawn in the same layout, and its
training labels are edit distances between the *decoded* prediction and the
target text. This module is the one place that knows both layouts:

* ``'attention'``: position ``t`` holds character ``t``, then the end token,
  then padding; decoding stops at the first end token (MMOCR's
  ``AttentionPostprocessor``). What a model outputs after the end token is
  arbitrary, because CE ignores it.
* ``'ctc'``: ``T`` frames; the blank is the dictionary's padding token (MMOCR's
  ``CTCModuleLoss``); decoding collapses repeats and drops blanks (MMOCR's
  ``CTCPostProcessor``, at ``valid_ratio`` 1). The ground truth is drawn as its
  canonical alignment: the characters, a blank between equal neighbours, then
  blanks.

Texts longer than the layout holds are truncated, as MMOCR's CE and CTC losses
truncate their targets.

A CTC text has many valid rows (alignments), all at edit distance 0 from each
other. With ``align_targets=True`` the ground truth of a prediction is drawn
in the alignment that prediction finds most likely (Viterbi forced alignment,
as CTC's own best path): the truth as the model would write it, so the
direction from ``z`` to ``y`` changes the wrong frames, not where correct
characters sit.
"""
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmocr.models.common.dictionary import Dictionary

MODES = ('attention', 'ctc')


class SequenceLayout:
    """Encode, decode and render texts in a decoder's output layout.

    Args:
        dictionary (Dictionary): The decoder's dictionary.
        mode (str): ``'attention'`` or ``'ctc'``.
        seq_len (int): Number of output positions ``T`` the surrogate sees.
        ignore_indexes (sequence of int, optional): Indexes decoding skips.
            Defaults to the padding index (MMOCR postprocessors' default).
        align_targets (bool): CTC only: :meth:`targets` draws each ground
            truth in the alignment its prediction finds most likely, instead
            of the canonical one. Defaults to False.
    """

    def __init__(self,
                 dictionary: Dictionary,
                 mode: str,
                 seq_len: int,
                 ignore_indexes: Optional[Sequence[int]] = None,
                 align_targets: bool = False) -> None:
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        if seq_len < 1:
            raise ValueError(f'seq_len must be >= 1, got {seq_len}')
        self.dictionary = dictionary
        self.mode = mode
        self.align_targets = align_targets and mode == 'ctc'
        self.seq_len = seq_len
        self.num_classes = dictionary.num_classes
        if mode == 'ctc':
            if dictionary.padding_idx is None:
                raise ValueError('a CTC layout needs a dictionary with '
                                 'with_padding=True (the blank)')
            self.fill_idx = dictionary.padding_idx
        else:
            if dictionary.end_idx is None:
                raise ValueError('an attention layout needs a dictionary '
                                 'with an end token (with_end=True or '
                                 'same_start_end=True)')
            pad = dictionary.padding_idx
            self.fill_idx = dictionary.end_idx if pad is None else pad
        if ignore_indexes is None:
            ignore_indexes = [] if dictionary.padding_idx is None else [
                dictionary.padding_idx
            ]
        self.ignore_indexes = sorted(set(ignore_indexes))
        specials = {dictionary.start_idx, dictionary.end_idx,
                    dictionary.padding_idx, dictionary.unknown_idx}
        self.char_indexes = np.array(
            [i for i in range(self.num_classes) if i not in specials])

    @property
    def capacity(self) -> int:
        """Longest text the layout can hold."""
        return self.seq_len if self.mode == 'ctc' else self.seq_len - 1

    def meta(self) -> dict:
        """What a surrogate trained for this layout must match."""
        return dict(mode=self.mode, seq_len=self.seq_len,
                    num_classes=self.num_classes,
                    chars=''.join(self.dictionary.dict),
                    align_targets=self.align_targets)

    def surrogate_args(self) -> dict:
        """What this layout fixes in h_Φ's config."""
        return dict(num_classes=self.num_classes, seq_len=self.seq_len)

    # ----------------------------------------------------------- indexes
    def indexes(self, texts: Sequence[str]) -> List[List[int]]:
        """Character indexes of ``texts`` (dictionary rules), truncated."""
        return [self.dictionary.str2idx(t)[:self.capacity] for t in texts]

    def _row(self, idx: Sequence[int]) -> List[int]:
        """One ground-truth row of length ``seq_len``."""
        if self.mode == 'attention':
            row = list(idx[:self.capacity]) + [self.dictionary.end_idx]
        else:
            row = []
            for i in idx:
                if row and row[-1] == i:
                    row.append(self.fill_idx)
                row.append(i)
            row = row[:self.seq_len]
        return row + [self.fill_idx] * (self.seq_len - len(row))

    def target_indexes(self, indexes: Sequence[Sequence[int]]) -> torch.Tensor:
        """Ground-truth rows ``(N, T)`` for character index lists."""
        return torch.tensor([self._row(i) for i in indexes], dtype=torch.long)

    def targets(self, indexes: Sequence[Sequence[int]],
                probs: torch.Tensor) -> torch.Tensor:
        """One-hot ground truths ``(N, T, C)`` for the predictions ``probs``:
        aligned to them (:meth:`forced_alignment`) if ``align_targets``, else
        the canonical rows."""
        if self.align_targets:
            rows = self.forced_alignment(indexes, probs)
        else:
            rows = self.target_indexes(indexes)
        return self.one_hot(rows).to(probs.device)

    def forced_alignment(self, indexes: Sequence[Sequence[int]],
                         probs: torch.Tensor) -> torch.Tensor:
        """The most likely CTC row ``(N, T)`` of each text under ``probs``
        (Viterbi over the blank-interleaved labels). A text that no row of
        ``T`` frames can hold keeps its canonical (truncated) row."""
        canon = self.target_indexes(indexes)
        logp = probs.detach().float().cpu().clamp_min(1e-30).log()
        n, t = canon.shape
        lengths = torch.tensor([len(i) for i in indexes])
        states = 2 * int(lengths.max()) + 1 if n else 1
        ext = torch.full((n, states), self.fill_idx, dtype=torch.long)
        for k, idx in enumerate(indexes):
            if idx:
                ext[k, 1:2 * len(idx):2] = torch.as_tensor(list(idx))
        emit = logp.gather(2, ext[:, None, :].expand(n, t, states))
        skip = torch.zeros(n, states, dtype=torch.bool)
        skip[:, 2:] = (ext[:, 2:] != self.fill_idx) & (ext[:, 2:] != ext[:, :-2])
        neg = torch.tensor(float('-inf'))
        alpha = torch.full((n, states), neg)
        alpha[:, :2] = emit[:, 0, :2]
        back = torch.zeros(n, t, states, dtype=torch.long)
        for step in range(1, t):
            stay = alpha
            one = torch.cat([torch.full((n, 1), neg), alpha[:, :-1]], 1)
            two = torch.cat([torch.full((n, 2), neg), alpha[:, :-2]], 1)
            two = torch.where(skip, two, neg)
            best, arg = torch.stack([stay, one, two]).max(0)
            alpha, back[:, step] = best + emit[:, step], arg
        last = 2 * lengths
        ends = torch.stack([alpha.gather(1, last[:, None])[:, 0],
                            alpha.gather(1, (last - 1).clamp_min(0)[:, None])[:, 0]])
        ends[1, lengths == 0] = neg
        best, pick = ends.max(0)
        state = last - pick
        rows = torch.empty(n, t, dtype=torch.long)
        for step in range(t - 1, -1, -1):
            rows[:, step] = ext.gather(1, state[:, None])[:, 0]
            state = state - back[:, step].gather(1, state[:, None])[:, 0]
        return torch.where(torch.isfinite(best)[:, None], rows, canon)

    def one_hot(self, target_indexes: torch.Tensor) -> torch.Tensor:
        """``(N, T)`` indexes to ``(N, T, C)`` float one-hot."""
        return F.one_hot(target_indexes, self.num_classes).float()

    # ----------------------------------------------------------- decoding
    def emitted(self, argmax: torch.Tensor) -> torch.Tensor:
        """``(N, T)`` bool: the positions greedy decoding of ``(N, T)`` argmax
        indexes emits as characters, as MMOCR's postprocessors decide (CTC:
        not ignored and not a repeat of the previous frame; attention: not
        ignored and before the first end token)."""
        ignore = torch.tensor(self.ignore_indexes, dtype=argmax.dtype,
                              device=argmax.device)
        keep = ~torch.isin(argmax, ignore)
        if self.mode == 'attention':
            ended = (argmax == self.dictionary.end_idx).cumsum(1) > 0
            return keep & ~ended
        prev = F.pad(argmax[:, :-1], (1, 0), value=self.fill_idx)
        return keep & (argmax != prev)

    def decode_indexes(self, argmax: torch.Tensor) -> List[List[int]]:
        """Greedy decoding of ``(N, T)`` argmax indexes, as MMOCR decodes."""
        emitted = self.emitted(argmax)
        return [row[mask].tolist() for row, mask in zip(argmax.cpu(), emitted.cpu())]

    def decode(self, probs: torch.Tensor) -> List[str]:
        """Texts of ``(N, T, C)`` scores (probabilities or logits)."""
        return self.decode_rows(probs.argmax(-1))

    def decode_rows(self, rows: torch.Tensor) -> List[str]:
        """Texts of ``(N, T)`` index rows (e.g. sampled decodings)."""
        return [self.dictionary.idx2str(s) for s in self.decode_indexes(rows)]

    def sample(self, probs: torch.Tensor, num_samples: int,
               generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``(S, N, T)`` index rows drawn position by position from ``(N, T,
        C)`` distributions. For CTC the frames are independent given the
        image, so these are exact samples of the model's alignment
        distribution; for attention decoders each position is drawn from its
        teacher-forced distribution (given the ground-truth prefix)."""
        n, t, c = probs.shape
        flat = probs.detach().float().reshape(n * t, c).clamp_min(0)
        draws = torch.multinomial(flat, num_samples, replacement=True,
                                  generator=generator)
        return draws.T.reshape(num_samples, n, t)

    def texts(self, indexes: Sequence[Sequence[int]]) -> List[str]:
        """Texts of character index lists."""
        return [self.dictionary.idx2str(list(i)) for i in indexes]

    # ----------------------------------------------------------- rendering
    def _aligned_row(self, idx: Sequence[int],
                     rng: np.random.Generator) -> List[int]:
        """A random valid row for ``idx``: random CTC frame durations, or
        random filler after the attention end token."""
        if self.mode == 'attention':
            row = self._row(idx)
            end = min(len(idx), self.capacity) + 1
            if rng.random() < 0.5:  # models emit anything after the end
                row[end:] = rng.integers(0, self.num_classes,
                                         self.seq_len - end).tolist()
            return row
        canon = self._row(idx)
        used = next((t for t in range(self.seq_len, 0, -1)
                     if canon[t - 1] != self.fill_idx), 0)
        spare = self.seq_len - used
        if used == 0 or spare == 0:
            return canon
        # Spread the spare frames over the symbols: repeats and blanks.
        extra = rng.multinomial(spare, np.ones(used + 1) / (used + 1))
        row = [self.fill_idx] * int(extra[0])
        for sym, n in zip(canon[:used], extra[1:]):
            fill = sym if rng.random() < 0.5 else self.fill_idx
            row += [sym] + [fill] * int(n)
        return row

    def render(self, indexes: Sequence[Sequence[int]],
               rng: np.random.Generator,
               sharpness: Sequence[float] = (1.0, 8.0),
               noise: Sequence[float] = (0.0, 2.0)) -> torch.Tensor:
        """Prediction-like ``(N, T, C)`` distributions for index lists.

        Each row is a random valid alignment of its text; logits are
        ``beta * one_hot + sigma * N(0, 1)`` with ``beta`` and ``sigma`` drawn
        per sample from ``sharpness`` and ``noise``, then softmax-ed. Noise can
        flip an argmax, so label such pairs with :meth:`decode`, not with the
        edit count that made them.
        """
        rows = torch.tensor([self._aligned_row(i, rng) for i in indexes],
                            dtype=torch.long)
        n = len(indexes)
        beta = torch.from_numpy(rng.uniform(*sharpness, (n, 1, 1))).float()
        sigma = torch.from_numpy(rng.uniform(*noise, (n, 1, 1))).float()
        gauss = torch.from_numpy(
            rng.standard_normal((n, self.seq_len, self.num_classes))).float()
        return (beta * self.one_hot(rows) + sigma * gauss).softmax(-1)
