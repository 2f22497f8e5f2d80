"""Expected-risk (minimum word error rate) training on the edit distance."""
from typing import Dict, Sequence, Union

import torch
from mmocr.models.common.dictionary import Dictionary
from mmocr.registry import MODELS
from mmocr.structures import TextRecogDataSample

from ..surrogates.sampled_decoding import greedy_edit_distances, sampled_edit_distances
from .sequence_metric_loss import SequenceMetricLoss

BASELINES = ('mean', 'greedy')


@MODELS.register_module()
class ExpectedRiskModuleLoss(SequenceMetricLoss):
    """E_{π∼p_θ}[ED(decode(π), y)] minimised with the score-function
    (REINFORCE) estimator: ``mean_s (ED_s − b) · log p_θ(π_s)``.

    Decodings are sampled position by position from the decoder's own
    distributions: for CTC the frames are independent given the image, so a
    sampled alignment is an exact sample of the model; for attention decoders
    each position is drawn from its teacher-forced distribution (given the
    ground-truth prefix, the same distributions the CE loss and LS-ED read),
    and only positions up to the first sampled end token count in
    ``log p(π)``. The baseline ``b`` is the mean of the *other* samples'
    distances (``'mean'``, leave-one-out, unbiased) or the greedy decoding's
    (``'greedy'``, self-critical training).

    Args:
        num_samples (int): Decodings sampled per image. Defaults to 8.
        baseline (str): ``'mean'`` or ``'greedy'``. Defaults to ``'mean'``.
        **kwargs: :class:`SequenceMetricLoss` arguments (``proxy``,
            ``proxy_weight``, ``ctc_seq_len``, ...).
    """

    def __init__(self,
                 dictionary: Union[dict, Dictionary],
                 max_seq_len: int = 40,
                 num_samples: int = 8,
                 baseline: str = 'mean',
                 **kwargs) -> None:
        super().__init__(dictionary, max_seq_len, **kwargs)
        if baseline not in BASELINES:
            raise ValueError(f'baseline must be one of {BASELINES}, got '
                             f'{baseline!r}')
        min_samples = 2 if baseline == 'mean' else 1
        if num_samples < min_samples:
            raise ValueError(f'baseline {baseline!r} needs num_samples >= '
                             f'{min_samples}, got {num_samples}')
        self.num_samples = num_samples
        self.baseline = baseline

    def _path_log_probs(self, logp: torch.Tensor,
                        rows: torch.Tensor) -> torch.Tensor:
        """``(S, N)`` log-probabilities of the sampled rows ``(S, N, T)``."""
        lp = logp.unsqueeze(0).expand(len(rows), -1, -1, -1).gather(
            -1, rows.unsqueeze(-1).to(logp.device)).squeeze(-1)
        if self.layout.mode == 'attention':  # nothing after the end counts
            ended = (rows == self.layout.dictionary.end_idx).long().cumsum(-1)
            before = torch.cat([torch.zeros_like(ended[..., :1]),
                                ended[..., :-1]], -1) == 0
            lp = lp * before.to(lp)
        return lp.sum(-1)

    def forward(self, outputs: Union[torch.Tensor, Dict],
                data_samples: Sequence[TextRecogDataSample]) -> Dict:
        """``loss_expected_risk`` (and the weighted proxy terms), plus the
        detached ``expected_ed`` (mean sampled edit distance) for the log."""
        losses = self.proxy_losses(outputs, data_samples)
        logp = self.logits(outputs).float().log_softmax(-1)
        gts = self.layout.texts(self.gt_indexes(data_samples))
        rows, e = sampled_edit_distances(self.layout, logp.detach().exp(), gts,
                                         self.num_samples)
        e = torch.from_numpy(e).to(logp)
        if self.baseline == 'mean':
            b = (e.sum(0, keepdim=True) - e) / (len(e) - 1)
        else:
            greedy = greedy_edit_distances(self.layout, logp.detach(), gts)
            b = torch.from_numpy(greedy).to(logp).expand_as(e)
        advantage = e - b
        risk = (advantage * self._path_log_probs(logp, rows)).mean()
        losses['loss_expected_risk'] = self.loss_weight * risk
        losses['expected_ed'] = e.mean().detach()
        return losses
