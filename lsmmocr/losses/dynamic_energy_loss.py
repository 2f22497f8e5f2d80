"""The dynamic loss: a recognizer post-tuned on an energy model E_ψ(x, z)
(Shankar & Piratla, 2022, reading Tu & Gimpel's inference networks)."""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmocr.models.common.dictionary import Dictionary
from mmocr.registry import MODELS
from mmocr.structures import TextRecogDataSample

from ..surrogates.sampled_decoding import greedy_edit_distances
from ..surrogates.sequence_layout import SequenceLayout
from ..utils import frozen, objective
from .attached_network import AttachedNetworkLoss
from .sequence_metric_loss import SequenceMetricLoss


@dataclass
class EnergyBatch:
    """What the last forward saw, for the energy's trainer (detached)."""
    feat: torch.Tensor  # (N, D, H, W) the decoder's input features
    probs: torch.Tensor  # (N, T, C)
    gt_indexes: List[List[int]]


def margin_loss(energy: nn.Module, layout: SequenceLayout,
                batch: EnergyBatch) -> torch.Tensor:
    """Tu & Gimpel's margin-rescaled hinge with Δ = edit distance:
    ``mean [Δ(ẑ, y) − E_ψ(x, ẑ) + E_ψ(x, y)]₊`` over the batch's
    predictions ẑ and their truths y (one-hot rows in the layout, aligned to
    the prediction for CTC); trains ψ (the predictions are detached)."""
    y = layout.targets(batch.gt_indexes, batch.probs)
    delta = torch.from_numpy(greedy_edit_distances(
        layout, batch.probs, layout.texts(batch.gt_indexes))).to(batch.probs)
    return (delta - energy(batch.feat, batch.probs)
            + energy(batch.feat, y)).clamp_min(0).mean()


@MODELS.register_module()
class DynamicEnergyModuleLoss(AttachedNetworkLoss, SequenceMetricLoss):
    """``E_ψ(x, softmax z)`` as a decoder's loss: the recognizer steps on an
    energy model of its prediction given the image (through the decoder's
    input features, detached), which :class:`DynamicLossHook` owns, attaches
    and trains.

    The decoder's input features reach the loss through a forward pre-hook
    on the decoder (:meth:`tap`, registered by the hook).

    Args:
        task (dict, optional): The objective ψ's implicit (or unrolled)
            update lowers on held-out batches: a
            :class:`SequenceMetricLoss` config (e.g.
            ``dict(type='ExpectedRiskModuleLoss')`` or
            ``dict(type='LSEDModuleLoss')``, whose h_Φ the hook loads), built
            around the same proxy. None: the proxy loss itself.
        **kwargs: :class:`SequenceMetricLoss` arguments (``proxy``,
            ``proxy_weight``, ``loss_weight``, ``ctc_seq_len``, ``output``,
            ``align_targets``, default True: the margin compares a CTC
            prediction with its truth drawn in its own alignment).
    """

    HOOK = 'DynamicLossHook'

    def __init__(self,
                 dictionary: Union[dict, Dictionary],
                 max_seq_len: int = 40,
                 task: Optional[dict] = None,
                 align_targets: bool = True,
                 **kwargs) -> None:
        super().__init__(dictionary, max_seq_len, align_targets=align_targets,
                         **kwargs)
        shared = {k: kwargs[k] for k in ('proxy', 'ctc_seq_len', 'output')
                  if k in kwargs}
        self.task = self.proxy if task is None else MODELS.build(dict(
            shared, align_targets=align_targets, **task,
            dictionary=dictionary, max_seq_len=max_seq_len))
        self.feat: Optional[torch.Tensor] = None

    @classmethod
    def beside(cls, metric: SequenceMetricLoss, decoder: nn.Module,
               energy: nn.Module, proxy_weight: float = 0.0
               ) -> 'DynamicEnergyModuleLoss':
        """An energy loss computing ``energy`` on ``decoder``'s outputs,
        built around ``metric``'s proxy (same layout; e.g. to score E_ψ's
        gradients in a model post-tuned otherwise), the decoder tapped."""
        ctc = metric.layout.mode == 'ctc'
        loss = cls(decoder.dictionary, decoder.max_seq_len, proxy=metric.proxy,
                   proxy_weight=proxy_weight,
                   ctc_seq_len=metric.layout.seq_len if ctc else None,
                   align_targets=metric.layout.align_targets)
        loss.attach(energy)
        loss.tap(decoder)
        return loss

    def tap(self, decoder: nn.Module) -> None:
        """Keep ``decoder``'s input features (detached) for the energy."""
        def keep(module, args, kwargs):
            feat = args[0] if args else kwargs.get('feat')
            self.feat = None if feat is None else feat.detach()
        decoder.register_forward_pre_hook(keep, with_kwargs=True)

    def features(self) -> torch.Tensor:
        """The image features of the forward in progress (taken)."""
        if self.feat is None:
            raise RuntimeError(
                'DynamicEnergyModuleLoss has no image features: the decoder '
                'was not tapped (DynamicLossHook taps it before training)')
        feat, self.feat = self.feat, None
        return feat

    def energy(self, feat: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
        """``(N,)`` E_ψ of ``probs`` given ``feat``, ψ frozen."""
        with frozen(self.network):
            return self.network(feat, probs)

    def task_objective(self, outputs: Union[torch.Tensor, Dict],
                       data_samples: Sequence[TextRecogDataSample]
                       ) -> torch.Tensor:
        """The task objective on ``outputs`` (a scalar)."""
        return objective(self.task(outputs, data_samples))

    def forward(self, outputs: Union[torch.Tensor, Dict],
                data_samples: Sequence[TextRecogDataSample]) -> Dict:
        """``loss_energy`` (and the weighted proxy terms)."""
        losses = self.proxy_losses(outputs, data_samples)
        probs = self.logits(outputs).float().softmax(-1)
        feat = self.features()
        losses['loss_energy'] = self.loss_weight * self.energy(feat, probs).mean()
        self.hand_off(EnergyBatch(feat, probs.detach(),
                                  self.gt_indexes(data_samples)))
        return losses
