"""Base of the decoder losses that train on a sequence metric (edit distance)
instead of, or beside, the decoder's proxy loss (CTC or cross-entropy)."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmocr.models.common.dictionary import Dictionary
from mmocr.models.textrecog.module_losses import (ABIModuleLoss, CEModuleLoss,
                                                  CTCModuleLoss)
from mmocr.registry import MODELS
from mmocr.structures import TextRecogDataSample

from ..surrogates.sequence_layout import SequenceLayout


def layout_for(proxy: nn.Module, max_seq_len: int,
               ctc_seq_len: Optional[int],
               align_targets: bool = False) -> SequenceLayout:
    """The output layout of a decoder trained with ``proxy``
    (``align_targets``: see :class:`SequenceLayout`; CTC only)."""
    if isinstance(proxy, CTCModuleLoss):
        if ctc_seq_len is None:
            raise ValueError(
                f'{type(proxy).__name__} needs ctc_seq_len, the number of '
                'frames the decoder outputs (post-tuning configs find it: '
                'lsmmocr.engine.ctc_frames)')
        return SequenceLayout(proxy.dictionary, 'ctc', ctc_seq_len,
                              align_targets=align_targets)
    if isinstance(proxy, ABIModuleLoss):  # CE inside, first char ignored
        return SequenceLayout(proxy.dictionary, 'attention', max_seq_len - 1)
    if isinstance(proxy, CEModuleLoss):
        skip = int(proxy.ignore_first_char)
        return SequenceLayout(proxy.dictionary, 'attention', max_seq_len - skip)
    raise TypeError(f'cannot wrap {type(proxy).__name__}: expected '
                    'CTCModuleLoss, CEModuleLoss or ABIModuleLoss')


class SequenceMetricLoss(nn.Module):
    """A drop-in ``module_loss`` for MMOCR decoders that wraps the decoder's
    own (proxy) loss.

    The proxy still builds the targets the MMOCR way (``gt_text`` through the
    decoder's dictionary, letter case, truncation) and can be mixed in with
    ``proxy_weight``; subclasses add their metric term in :meth:`forward`.

    Args:
        dictionary (dict or Dictionary): Injected by the decoder.
        max_seq_len (int): Injected by the decoder.
        proxy (dict or nn.Module): Config of the decoder's original module
            loss (or the loss itself).
        proxy_weight (float): Weight of the proxy loss terms; 0 drops them.
            Defaults to 0.
        loss_weight (float): Weight of the metric term. Defaults to 1.
        ctc_seq_len (int, optional): Frames a CTC decoder outputs.
        output (str): For ABINet's dict outputs, which prediction to post-tune:
            ``'fusion'`` (the last fuser, what inference reads) or
            ``'vision'``. Defaults to ``'fusion'``.
        align_targets (bool): CTC: ground truths drawn in the alignment
            each prediction finds most likely (:class:`SequenceLayout`).
            Defaults to False.
    """

    def __init__(self,
                 dictionary: Union[dict, Dictionary],
                 max_seq_len: int = 40,
                 proxy: Optional[dict] = None,
                 proxy_weight: float = 0.0,
                 loss_weight: float = 1.0,
                 ctc_seq_len: Optional[int] = None,
                 output: str = 'fusion',
                 align_targets: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        if proxy is None:
            raise ValueError(f'{name} needs proxy=<the decoder\'s original '
                             'module_loss config>')
        if output not in ('fusion', 'vision'):
            raise ValueError(f"output must be 'fusion' or 'vision', got {output!r}")
        self.proxy = proxy if isinstance(proxy, nn.Module) else MODELS.build(
            dict(proxy, dictionary=dictionary, max_seq_len=max_seq_len))
        self.proxy_weight = proxy_weight
        self.loss_weight = loss_weight
        self.output = output
        self.layout = layout_for(self.proxy, max_seq_len, ctc_seq_len,
                                 align_targets)
        self.skip_first = isinstance(self.proxy, ABIModuleLoss) or getattr(
            self.proxy, 'ignore_first_char', False)

    def get_targets(self, data_samples: Sequence[TextRecogDataSample]
                    ) -> Sequence[TextRecogDataSample]:
        """The proxy's targets (``gt_text.indexes`` and, for CE, padded)."""
        return self.proxy.get_targets(data_samples)

    def logits(self, outputs: Union[torch.Tensor, Dict]) -> torch.Tensor:
        """The ``(N, T, C)`` logits in the layout, checked."""
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
                f'layout has {self.layout.seq_len}: set ctc_seq_len '
                '(CTC) or check max_seq_len')
        bad = ~torch.isfinite(outputs).flatten(1).all(1)
        if bad.any():
            raise FloatingPointError(
                f'{type(self).__name__} got non-finite logits for '
                f'{int(bad.sum())} of {len(bad)} samples: the recognizer '
                'diverged (lower the learning rate or check the checkpoint in '
                'load_from)')
        return outputs

    def gt_indexes(self, data_samples: Sequence[TextRecogDataSample]
                   ) -> List[List[int]]:
        """Target character indexes, truncated to the layout's capacity."""
        cap = self.layout.capacity
        return [ds.gt_text.indexes.tolist()[:cap] for ds in data_samples]

    def proxy_losses(self, outputs: Union[torch.Tensor, Dict],
                     data_samples: Sequence[TextRecogDataSample]) -> Dict:
        """The proxy's terms times ``proxy_weight`` (none if it is 0)."""
        if self.proxy_weight <= 0:
            return {}
        return {k: v * self.proxy_weight
                for k, v in self.proxy(outputs, data_samples).items()}
