"""LS-ED as a :class:`~.surrogate_task.SurrogateTask`: texts in a decoder's
sequence layout, labelled with their edit distance.

Global pairs need no recognizer and no image: ground-truth texts are real words
(``TextSampler``) and random strings of every length the layout holds, and
:meth:`PairSampler.global_pairs` turns them into labelled pairs.
"""
from dataclasses import dataclass, field
from typing import List

import numpy as np
from mmengine.config import Config
from mmocr.registry import MODELS

from ..datasets.text_sampler import TextSampler
from .pair_sampler import PairSampler
from .pairs import Pairs
from .sequence_layout import SequenceLayout


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


@dataclass
class EditDistanceTask:
    """LS-ED for one decoder layout (see :class:`~.surrogate_task.SurrogateTask`).

    ``sampler``: :class:`PairSampler` keyword arguments, as post-tuning uses
    them. Held-out pairs use the sampler's defaults, so variants are compared
    on the same pairs.
    """
    layout: SequenceLayout
    surrogate: dict = field(
        default_factory=lambda: dict(type='EditDistanceEmbedding'))
    fit_loss: dict = field(
        default_factory=lambda: dict(type='SurrogateFitLoss'))
    sampler: dict = field(default_factory=dict)
    near: float = 3  # ED <= 3: where a trained recognizer's errors are
    bucket_label: str = 'true edit distance'

    @property
    def space(self) -> SequenceLayout:
        return self.layout

    def global_pairs(self, seed: int) -> TextPairs:
        return TextPairs(self.layout, seed, **self.sampler)

    def held_out_pairs(self, num: int, seed: int) -> Pairs:
        return held_out_pairs(self.layout, num, seed)

    def buckets(self, e: np.ndarray) -> np.ndarray:
        return e  # one bucket per edit distance


def surrogate_spec(cfg: Config) -> EditDistanceTask:
    """The LS-ED task of a post-tuning config: its layout and the hook's
    h_Φ, objective and sampler settings, as post-tuning will use them."""
    from ..engine.post_tune_runner import apply_post_tune
    from ..hooks.surrogate_trainer_hook import find_lsed_losses
    cfg = apply_post_tune(cfg.copy())
    losses = find_lsed_losses(MODELS.build(cfg.model.decoder))
    hooks = [h for h in cfg.get('custom_hooks', [])
             if h.get('type') == 'SurrogateTrainerHook']
    if not losses or not hooks:
        raise ValueError(f'{cfg.filename} is not an LS-ED post-tuning config '
                         '(no LSEDModuleLoss or SurrogateTrainerHook)')
    hook = hooks[0]
    return EditDistanceTask(
        layout=losses[0].layout,
        surrogate=dict(hook.get('surrogate', dict(type='EditDistanceEmbedding'))),
        fit_loss=dict(hook.get('fit_loss', dict(type='SurrogateFitLoss'))),
        sampler=dict(hook.get('sampler', {})))
