"""LS-ED module loss: train a recognizer on a learned edit-distance surrogate."""
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmocr.models.common.dictionary import Dictionary
from mmocr.models.textrecog.module_losses import (ABIModuleLoss, CEModuleLoss,
                                                  CTCModuleLoss)
from mmocr.registry import MODELS
from mmocr.structures import TextRecogDataSample

from ..metrics.edit_distance import edit_distances
from ..surrogates.sequence_layout import SequenceLayout


@dataclass
class LSEDBatch:
    """What the last forward saw, for the surrogate trainer (detached)."""
    probs: torch.Tensor  # (N, T, C)
    gt_indexes: List[List[int]]


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Build graphs through ``module`` without making its parameters leaves
    that receive gradients."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


def layout_for(proxy: nn.Module, max_seq_len: int,
               ctc_seq_len: Optional[int]) -> SequenceLayout:
    """The output layout of a decoder trained with ``proxy``."""
    if isinstance(proxy, CTCModuleLoss):
        if ctc_seq_len is None:
            raise ValueError(
                'LSEDModuleLoss wrapping CTCModuleLoss needs ctc_seq_len, the '
                'number of frames the decoder outputs (26 for MMOCR\'s CRNN '
                'at input width 100, 25 for SVTR at 256)')
        return SequenceLayout(proxy.dictionary, 'ctc', ctc_seq_len)
    if isinstance(proxy, ABIModuleLoss):  # CE inside, first char ignored
        return SequenceLayout(proxy.dictionary, 'attention', max_seq_len - 1)
    if isinstance(proxy, CEModuleLoss):
        skip = int(proxy.ignore_first_char)
        return SequenceLayout(proxy.dictionary, 'attention', max_seq_len - skip)
    raise TypeError(f'LSEDModuleLoss cannot wrap {type(proxy).__name__}: '
                    'expected CTCModuleLoss, CEModuleLoss or ABIModuleLoss')


@MODELS.register_module()
class LSEDModuleLoss(nn.Module):
    """ê_Φ(z, y) = ‖h_Φ(softmax z) − h_Φ(onehot y)‖₂ as a decoder's loss.

    A drop-in ``module_loss`` for MMOCR decoders. It wraps the decoder's own
    (proxy) loss, which still builds the targets the MMOCR way (``gt_text``
    through the decoder's dictionary, letter case, truncation) and can be
    mixed in with ``proxy_weight``.

    The surrogate h_Φ is *not* a submodule: :class:`SurrogateTrainerHook`
    owns it and its optimizer and attaches it with :meth:`attach_surrogate`,
    so the recognizer's optimizer never holds Φ, and this loss sends no
    gradient to Φ (Φ is frozen while the graph is built).

    Args:
        dictionary (dict or Dictionary): Injected by the decoder.
        max_seq_len (int): Injected by the decoder.
        proxy (dict): Config of the decoder's original module loss.
        proxy_weight (float): Weight of the proxy loss terms; 0 drops them.
            Defaults to 0.
        loss_weight (float): Weight of ``loss_lsed``. Defaults to 1.
        ctc_seq_len (int, optional): Frames a CTC decoder outputs.
        output (str): For ABINet's dict outputs, which prediction to post-tune:
            ``'fusion'`` (the last fuser, what inference reads) or
            ``'vision'``. Defaults to ``'fusion'``.
        feds (dict, optional): FEDS filtering (Patel & Matas, ICDAR 2021):
            ``dict(lower=a, upper=b)`` weights each sample by a ramp on the
            surrogate's error ``|ê − e|``: 1 below ``a``, 0 above ``b``,
            linear between. The paper's ramp constants are not known; the
            defaults are not guessed, both must be given.
    """

    def __init__(self,
                 dictionary: Union[dict, Dictionary],
                 max_seq_len: int = 40,
                 proxy: Optional[dict] = None,
                 proxy_weight: float = 0.0,
                 loss_weight: float = 1.0,
                 ctc_seq_len: Optional[int] = None,
                 output: str = 'fusion',
                 feds: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__()
        if proxy is None:
            raise ValueError('LSEDModuleLoss needs proxy=<the decoder\'s '
                             'original module_loss config>')
        if output not in ('fusion', 'vision'):
            raise ValueError(f"output must be 'fusion' or 'vision', got {output!r}")
        if feds is not None and not 0 <= feds['lower'] < feds['upper']:
            raise ValueError(f'feds needs 0 <= lower < upper, got {feds}')
        self.proxy = MODELS.build(
            dict(proxy, dictionary=dictionary, max_seq_len=max_seq_len))
        self.proxy_weight = proxy_weight
        self.loss_weight = loss_weight
        self.output = output
        self.feds = feds
        self.layout = layout_for(self.proxy, max_seq_len, ctc_seq_len)
        self.skip_first = isinstance(self.proxy, ABIModuleLoss) or getattr(
            self.proxy, 'ignore_first_char', False)
        self.last_batch: Optional[LSEDBatch] = None
        object.__setattr__(self, '_surrogate', None)  # not a submodule

    @property
    def surrogate(self) -> nn.Module:
        if self._surrogate is None:
            raise RuntimeError(
                'LSEDModuleLoss has no surrogate: add SurrogateTrainerHook to '
                'custom_hooks (configs/_base_/lsed_posttune.py does)')
        return self._surrogate

    def attach_surrogate(self, surrogate: nn.Module) -> None:
        """Use ``surrogate`` (owned by the caller) as h_Φ."""
        object.__setattr__(self, '_surrogate', surrogate)

    def get_targets(self, data_samples: Sequence[TextRecogDataSample]
                    ) -> Sequence[TextRecogDataSample]:
        """The proxy's targets (``gt_text.indexes`` and, for CE, padded)."""
        return self.proxy.get_targets(data_samples)

    def _logits(self, outputs: Union[torch.Tensor, Dict]) -> torch.Tensor:
        if isinstance(outputs, dict):  # ABINet
            if self.output == 'fusion' and outputs.get('out_fusers'):
                outputs = outputs['out_fusers'][-1]['logits']
            else:
                outputs = outputs['out_vis']['logits']
        if self.skip_first:
            outputs = outputs[:, :-1]
        if outputs.size(1) != self.layout.seq_len:
            raise ValueError(
                f'the decoder produced {outputs.size(1)} positions but the '
                f'LS-ED layout has {self.layout.seq_len}: set ctc_seq_len '
                '(CTC) or check max_seq_len')
        bad = ~torch.isfinite(outputs).flatten(1).all(1)
        if bad.any():
            raise FloatingPointError(
                f'LSEDModuleLoss got non-finite logits for {int(bad.sum())} of '
                f'{len(bad)} samples: the recognizer diverged (lower the '
                'learning rate or check the checkpoint in load_from)')
        return outputs

    def _feds_weights(self, probs: torch.Tensor, e_hat: torch.Tensor,
                      gt_indexes: List[List[int]]) -> torch.Tensor:
        e = edit_distances(self.layout.decode(probs),
                           self.layout.texts(gt_indexes))
        err = (e_hat.detach() - torch.from_numpy(e).to(e_hat)).abs()
        lo, hi = self.feds['lower'], self.feds['upper']
        return ((hi - err) / (hi - lo)).clamp(0, 1)

    def forward(self, outputs: Union[torch.Tensor, Dict],
                data_samples: Sequence[TextRecogDataSample]) -> Dict:
        """
        Args:
            outputs (Tensor or dict): Raw logits ``(N, T, C)`` (ABINet: its
                output dict).
            data_samples (list[TextRecogDataSample]): Processed by
                :meth:`get_targets`.

        Returns:
            dict: ``loss_lsed`` and, if ``proxy_weight > 0``, the proxy's
            weighted terms.
        """
        losses = {}
        if self.proxy_weight > 0:
            losses = {
                k: v * self.proxy_weight
                for k, v in self.proxy(outputs, data_samples).items()
            }
        probs = self._logits(outputs).float().softmax(-1)
        cap = self.layout.capacity
        gt_indexes = [ds.gt_text.indexes.tolist()[:cap] for ds in data_samples]
        y = self.layout.one_hot(self.layout.target_indexes(gt_indexes))
        surrogate = self.surrogate
        with frozen(surrogate):
            e_hat = surrogate.distance(probs, y.to(probs.device))
        if self.feds is not None:
            e_hat = e_hat * self._feds_weights(probs, e_hat, gt_indexes)
        losses['loss_lsed'] = self.loss_weight * e_hat.mean()
        self.last_batch = LSEDBatch(probs.detach(), gt_indexes)
        return losses
