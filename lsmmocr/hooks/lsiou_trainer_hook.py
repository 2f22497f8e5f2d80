"""LS-IoU's surrogate trainer: h_Φ over rotated boxes, fitted alongside the
detector during post-tuning."""
from typing import List

import torch
from mmocr.registry import HOOKS

from ..losses.lsiou_module_loss import LSIoUBatch, LSIoUModuleLoss
from ..surrogates.box_pair_sampler import RotatedBoxPairSampler
from ..surrogates.pairs import Pairs
from ..surrogates.rotated_boxes import RotatedBoxSpace
from .learned_surrogate_hook import LearnedSurrogateHook


@HOOKS.register_module()
class LSIoUTrainerHook(LearnedSurrogateHook):
    """LS-IoU's instance of :class:`LearnedSurrogateHook`: local pairs are
    the detector's own boxes on the step's text pixels with their true
    boxes, labelled with mmcv's exact ``1 − IoU``; global pairs come from
    :class:`RotatedBoxPairSampler`. Checkpoints keep Φ under
    ``lsiou_surrogate``.

    Args:
        surrogate (dict): h_Φ config. Defaults to ``RotatedBoxEmbedding``.
        num_pairs (int): Local pairs per Φ step (drawn from the step's text
            pixels), and as many global ones. Defaults to 256.
        **kwargs: :class:`LearnedSurrogateHook` arguments (``sampler``:
            :class:`RotatedBoxPairSampler` keyword arguments).
    """

    LOSS_TYPE = LSIoUModuleLoss
    CKPT_KEY = 'lsiou_surrogate'
    NAME = 'lsiou'

    def __init__(self, surrogate: dict = dict(type='RotatedBoxEmbedding'),
                 num_pairs: int = 256, **kwargs) -> None:
        super().__init__(surrogate=surrogate, **kwargs)
        if num_pairs <= 0:
            raise ValueError(f'num_pairs must be positive, got {num_pairs}')
        self.num_pairs = num_pairs

    def metric_space(self, losses: List[LSIoUModuleLoss]) -> RotatedBoxSpace:
        return RotatedBoxSpace()

    def make_sampler(self, seed: int) -> RotatedBoxPairSampler:
        return RotatedBoxPairSampler(seed, **self.sampler_cfg)

    def pairs(self, batch: LSIoUBatch) -> Pairs:
        parts = []
        if self.source in ('local', 'local-global'):
            n = min(self.num_pairs, len(batch.z))
            idx = torch.from_numpy(self.sampler.rng.choice(len(batch.z), n,
                                                           replace=False))
            parts.append(self.sampler.labelled(batch.z[idx], batch.y[idx]))
        if self.source in ('global', 'local-global'):
            parts.append(self.sampler.sample(self.num_pairs))
        return Pairs.cat(parts)
