"""LS-ED module loss: train a recognizer on a learned edit-distance surrogate."""
from typing import Dict, Optional, Sequence, Union

import torch
from mmocr.models.common.dictionary import Dictionary
from mmocr.registry import MODELS
from mmocr.structures import TextRecogDataSample

from ..surrogates.edit_distance_task import SequenceBatch, lsed_distance
from ..surrogates.sampled_decoding import greedy_edit_distances
from .attached_network import AttachedNetworkLoss
from .sequence_metric_loss import SequenceMetricLoss


class MirrorSoftmax(torch.autograd.Function):
    """Softmax forward; backward passes the centred ``∂L/∂p`` to the logits.

    That is mirror descent on each position's probability simplex: the step
    ``-(g − mean g)`` is the gradient preconditioned by a positive
    semi-definite matrix, hence still a descent direction for ``L``, but it
    does not vanish where the softmax saturates (a confidently wrong
    character), as the softmax Jacobian ``diag(p) − ppᵀ`` makes it.
    """

    @staticmethod
    def forward(ctx, logits: torch.Tensor) -> torch.Tensor:
        return logits.softmax(-1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad - grad.mean(-1, keepdim=True)


LOGIT_GRADS = ('softmax', 'mirror')


@MODELS.register_module()
class LSEDModuleLoss(AttachedNetworkLoss, SequenceMetricLoss):
    """ê_Φ(z, y) = ‖h_Φ(softmax z) − h_Φ(onehot y)‖₂ as a decoder's loss.

    A drop-in ``module_loss`` for MMOCR decoders. It wraps the decoder's own
    (proxy) loss, which still builds the targets the MMOCR way (``gt_text``
    through the decoder's dictionary, letter case, truncation) and can be
    mixed in with ``proxy_weight``.

    The surrogate h_Φ is *not* a submodule: :class:`LearnedSurrogateHook`
    owns it and its optimizer and attaches it; each forward's predictions
    are handed to the hook as a :class:`SequenceBatch`
    (:class:`~.attached_network.AttachedNetworkLoss`).

    Args:
        feds (dict, optional): FEDS filtering (Patel & Matas, ICDAR 2021):
            ``dict(lower=a, upper=b)`` weights each sample by a ramp on the
            surrogate's error ``|ê − e|``: 1 below ``a``, 0 above ``b``,
            linear between. The paper's ramp constants are not known; the
            defaults are not guessed, both must be given.
        logit_grad (str): How ``∂ê/∂p`` reaches the logits: ``'softmax'``
            (the exact gradient through the softmax) or ``'mirror'``
            (:class:`MirrorSoftmax`). Defaults to ``'softmax'``.
        align_targets (bool): CTC: compare each prediction with its ground
            truth drawn in the alignment the prediction finds most likely
            (:meth:`SequenceLayout.forced_alignment`) rather than the
            canonical one. The surrogate must be trained the same way (the
            layout's ``align_targets`` is part of its checkpoint). Measured
            (benchmarks/RESULTS_main_job.md): better fidelity, gradients
            and post-tuning than canonical rows. Defaults to True.
        correct_weight (float): Weight of the samples whose greedy decoding
            is already right (true ED 0). The edit distance is flat there:
            whatever gradient ê has on them is the surrogate's own error, not
            signal. 0 trains on the wrong samples only. Defaults to 1 (the
            paper's loss).
        **kwargs: :class:`SequenceMetricLoss` arguments (``proxy``,
            ``proxy_weight``, ``loss_weight``, ``ctc_seq_len``, ``output``).
    """

    HOOK = "LearnedSurrogateHook (task=dict(type='EditDistanceTask'))"

    def __init__(self,
                 dictionary: Union[dict, Dictionary],
                 max_seq_len: int = 40,
                 feds: Optional[dict] = None,
                 logit_grad: str = 'softmax',
                 align_targets: bool = True,
                 correct_weight: float = 1.0,
                 **kwargs) -> None:
        super().__init__(dictionary, max_seq_len,
                         align_targets=align_targets, **kwargs)
        if logit_grad not in LOGIT_GRADS:
            raise ValueError(f'logit_grad must be one of {LOGIT_GRADS}, got '
                             f'{logit_grad!r}')
        self.logit_grad = logit_grad
        self.correct_weight = correct_weight
        if feds is not None and not 0 <= feds['lower'] < feds['upper']:
            raise ValueError(f'feds needs 0 <= lower < upper, got {feds}')
        self.feds = feds

    def _feds_weights(self, e_hat: torch.Tensor,
                      e: torch.Tensor) -> torch.Tensor:
        err = (e_hat.detach() - e).abs()
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
        losses = self.proxy_losses(outputs, data_samples)
        logits = self.logits(outputs).float()
        probs = (MirrorSoftmax.apply(logits) if self.logit_grad == 'mirror'
                 else logits.softmax(-1))
        gt_indexes = self.gt_indexes(data_samples)
        e_hat = lsed_distance(self.network, self.layout, probs, gt_indexes)
        if self.feds is not None or self.correct_weight != 1:
            e = torch.from_numpy(greedy_edit_distances(
                self.layout, probs.detach(),
                self.layout.texts(gt_indexes))).to(e_hat)
            if self.correct_weight != 1:
                e_hat = e_hat * torch.where(e > 0, 1.0, self.correct_weight)
            if self.feds is not None:
                e_hat = e_hat * self._feds_weights(e_hat, e)
        losses['loss_lsed'] = self.loss_weight * e_hat.mean()
        self.hand_off(SequenceBatch(probs.detach(), gt_indexes))
        return losses
