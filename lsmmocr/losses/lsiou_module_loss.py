"""LS-IoU module loss: train a rotated-box detector on a learned IoU surrogate."""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmocr.registry import MODELS
from mmocr.structures import TextDetDataSample

from ..surrogates.rotated_iou_task import BoxBatch
from ..textdet.rbox_geometry import decode
from ..textdet.rbox_module_loss import RBoxModuleLoss
from ..utils import frozen
from .attached_network import AttachedNetworkLoss


def normalised(boxes: torch.Tensor, scale: float) -> torch.Tensor:
    """Pixel boxes ``(cx, cy, w, h, θ)`` in units of ``scale`` (the padded
    input's longer side: one scale for x and y keeps angles), the space
    LS-IoU's h_Φ is pre-trained in."""
    return torch.cat([boxes[:, :4] / scale, boxes[:, 4:]], 1)


@MODELS.register_module()
class LSIoUModuleLoss(AttachedNetworkLoss, nn.Module):
    """ê_Φ(z, y) = ‖h_Φ(z) − h_Φ(y)‖₂ ≈ 1 − IoU(z, y) on the rotated box each
    text pixel of an :class:`~lsmmocr.textdet.RBoxHead` predicts, as the
    head's box loss.

    It wraps the head's own loss (:class:`RBoxModuleLoss`, the ``proxy``),
    which still builds the targets and trains the score map (ê says nothing
    about which pixels are text); its box terms (EAST's IoU and angle
    losses) can be mixed in with ``proxy_weight``. h_Φ is owned by
    :class:`~lsmmocr.hooks.LearnedSurrogateHook` and attached; each forward's
    boxes are handed to it as a :class:`BoxBatch`.

    Args:
        proxy (dict): The head's original module loss config.
        proxy_weight (float): Weight of the proxy's box terms; 0 drops them.
            Defaults to 0.
        loss_weight (float): Weight of ê. Defaults to 1.
    """

    HOOK = "LearnedSurrogateHook (task=dict(type='RotatedIoUTask'))"

    def __init__(self, proxy: Optional[dict] = None, proxy_weight: float = 0.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.proxy = MODELS.build(proxy or dict(type='RBoxModuleLoss'))
        if not isinstance(self.proxy, RBoxModuleLoss):
            raise TypeError('LSIoUModuleLoss wraps an RBoxModuleLoss (the '
                            f'RBoxHead\'s loss), got {type(self.proxy).__name__}')
        self.proxy_weight = proxy_weight
        self.loss_weight = loss_weight

    def boxes(self, t: Dict[str, torch.Tensor],
              scale: float) -> Tuple[torch.Tensor, torch.Tensor]:
        """Predicted and true boxes of the text pixels, normalised."""
        text = t['text']
        points = t['points'].expand(len(text), -1, -1)[text]
        z = decode(points, t['geometry'][text])
        return normalised(z, scale), normalised(t['boxes'][text], scale)

    def forward(self, outs: Tuple[torch.Tensor, torch.Tensor],
                data_samples: Sequence[TextDetDataSample]) -> Dict[str, torch.Tensor]:
        t = self.proxy.targets(outs, data_samples)
        losses = dict(loss_score=self.proxy.score_loss(t))
        if self.proxy_weight > 0:
            losses.update({k: v * self.proxy_weight for k, v in
                           self.proxy.geometry_losses(t).items()})
        z, y = self.boxes(t, float(max(data_samples[0].batch_input_shape)))
        if len(z) == 0:  # no text in the batch: nothing to compare
            losses['loss_lsiou'] = t['geometry'].sum() * 0
            return losses
        with frozen(self.network):
            e_hat = self.network.distance(z, y)
        losses['loss_lsiou'] = self.loss_weight * e_hat.mean()
        self.hand_off(BoxBatch(z.detach(), y.detach()))
        return losses
