"""LS-ED as a :class:`~.surrogate_task.SurrogateTask`: texts in a decoder's
sequence layout, labelled with their edit distance.

Global pairs need no recognizer and no image: ground-truth texts are real words
(``TextSampler``) and random strings of every length the layout holds, and
:meth:`PairSampler.global_pairs` turns them into labelled pairs. In
post-tuning, :class:`~lsmmocr.losses.LSEDModuleLoss` hands each step's
predictions over as a :class:`SequenceBatch`.
"""
import dataclasses
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmocr.registry import TASK_UTILS

from ..datasets.text_sampler import TextSampler
from ..utils import frozen
from .metric_embedding import lookahead
from .pair_sampler import PairSampler
from .pairs import Pairs
from .sampled_decoding import greedy_edit_distances
from .sequence_layout import SequenceLayout


@dataclass
class SequenceBatch:
    """A recognizer's predictions on one batch (detached), as its loss saw
    them."""
    probs: torch.Tensor  # (N, T, C)
    gt_indexes: List[List[int]]


def lsed_distance(surrogate: nn.Module, layout: SequenceLayout, probs: torch.Tensor,
                  gt_indexes: Sequence[Sequence[int]]) -> torch.Tensor:
    """ê of each prediction ``probs`` ``(N, T, C)`` to its ground truth, drawn
    in ``layout`` for that prediction (aligned or canonical rows), ``(N,)``.
    Φ is frozen: gradients reach ``probs`` only."""
    with frozen(surrogate):
        return surrogate.distance(probs, layout.targets(gt_indexes, probs.detach()))


class TextSource:
    """Ground-truth index lists: half real words, half random strings."""

    def __init__(self, layout: SequenceLayout, seed: int) -> None:
        self.layout = layout
        self.rng = np.random.default_rng(seed)
        charset = ''.join(layout.dictionary.dict[i] for i in layout.char_indexes)
        has_upper = any(c.isupper() for c in charset)
        self.words = TextSampler(
            charset, max_len=layout.capacity,
            case_probs=(0.5, 0.3, 0.2) if has_upper else (1, 0, 0))

    def sample(self, n: int) -> List[List[int]]:
        out = []
        for _ in range(n):
            if self.rng.random() < 0.5:
                out.append(self.layout.indexes([self.words.sample(self.rng)])[0])
            else:
                k = int(self.rng.integers(self.layout.capacity + 1))
                out.append(self.rng.choice(self.layout.char_indexes, k).tolist())
        return out


class TextPairs:
    """Global pairs of random texts (a :class:`~.surrogate_task.PairSource`)."""

    def __init__(self, layout: SequenceLayout, seed: int, **sampler) -> None:
        self.texts = TextSource(layout, seed)
        self.sampler = PairSampler(layout, seed=seed, **sampler)

    def sample(self, n: int) -> Pairs:
        return self.sampler.global_pairs(self.texts.sample(n))

    def state_dict(self) -> dict:
        return dict(sampler=self.sampler.state_dict(),
                    texts_rng=self.texts.rng.bit_generator.state)

    def load_state_dict(self, state: dict) -> None:
        self.sampler.load_state_dict(state['sampler'])
        self.texts.rng.bit_generator.state = state['texts_rng']


def held_out_pairs(layout: SequenceLayout, num: int, seed: int) -> Pairs:
    """Global pairs from generators seeded apart from training's."""
    texts = TextSource(layout, seed=10_000 + seed)
    return PairSampler(layout, seed=20_000 + seed).global_pairs(texts.sample(num))


@TASK_UTILS.register_module()
@dataclass
class EditDistanceTask:
    """LS-ED for one decoder layout (see :class:`~.surrogate_task.SurrogateTask`).

    ``sampler``: :class:`PairSampler` keyword arguments, as post-tuning uses
    them. Held-out pairs use the sampler's defaults, so variants are compared
    on the same pairs. ``layout`` is None in a post-tuning config: the hook
    binds the decoder's (:meth:`bind`).
    """
    layout: Optional[SequenceLayout] = None
    surrogate: dict = field(
        default_factory=lambda: dict(type='EditDistanceEmbedding'))
    fit_loss: dict = field(
        default_factory=lambda: dict(type='SurrogateFitLoss'))
    sampler: dict = field(default_factory=dict)
    near: float = 3  # ED <= 3: where a trained recognizer's errors are
    bucket_label: str = 'true edit distance'
    name = 'lsed'
    ckpt_key = 'lsed_surrogate'
    loss_type = 'LSEDModuleLoss'
    check_targets = True

    @property
    def space(self) -> SequenceLayout:
        if self.layout is None:
            raise ValueError('EditDistanceTask has no layout: bind() it to a '
                             "decoder's (its LSEDModuleLoss's layout)")
        return self.layout

    def global_pairs(self, seed: int) -> TextPairs:
        return TextPairs(self.space, seed, **self.sampler)

    def held_out_pairs(self, num: int, seed: int) -> Pairs:
        return held_out_pairs(self.space, num, seed)

    def buckets(self, e: np.ndarray) -> np.ndarray:
        return e  # one bucket per edit distance

    # ----------------------------------------------------------- post-tuning
    def space_of(self, losses: Sequence[nn.Module]) -> SequenceLayout:
        layout = losses[0].layout
        if any(loss.layout.meta() != layout.meta() for loss in losses):
            raise ValueError('all LSEDModuleLoss modules must share one layout')
        return layout

    def bind(self, space: SequenceLayout) -> 'EditDistanceTask':
        return dataclasses.replace(self, layout=space)

    def pair_sampler(self, seed: int) -> PairSampler:
        return PairSampler(self.space, seed=seed, **self.sampler)

    def pairs(self, sampler: PairSampler, source: str,
              batch: SequenceBatch) -> Pairs:
        return sampler.sample(source, batch.gt_indexes, batch.probs)

    def lookahead_pairs(self, network: nn.Module, sampler: PairSampler,
                        batch: SequenceBatch,
                        step_sizes: Sequence[float]) -> Pairs:
        """Moved in logit space (log-probabilities), as the recognizer's
        step moves them."""
        probs = batch.probs.to(next(network.parameters()).device)
        ahead = lookahead(network, probs.clamp_min(1e-8).log(),
                          self.space.targets(batch.gt_indexes, probs),
                          step_sizes, to_z=lambda x: x.softmax(-1))
        return sampler.labelled(ahead, list(batch.gt_indexes) * len(step_sizes))

    def distances(self, network: nn.Module, batch: SequenceBatch
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
        lay = self.space
        probs = batch.probs.to(next(network.parameters()).device)
        with torch.no_grad():
            e_hat = lsed_distance(network, lay, probs, batch.gt_indexes)
        e = greedy_edit_distances(lay, batch.probs, lay.texts(batch.gt_indexes))
        return e_hat.cpu(), torch.from_numpy(e)
