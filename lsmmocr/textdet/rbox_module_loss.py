"""EAST's loss for :class:`~.RBoxHead`: score map and rotated-box geometry."""
from typing import Dict, Sequence, Tuple

import torch
import torch.nn as nn
from mmocr.registry import MODELS
from mmocr.structures import TextDetDataSample

from .rbox_geometry import encode, pixel_centres, quad_to_rbox

EPS = 1e-6


def rbox_targets(samples: Sequence[TextDetDataSample], map_hw: Tuple[int, int],
                 shrink: float) -> Dict[str, torch.Tensor]:
    """Per map pixel (``points``, its centre, ``(P, 2)``): ``text`` (inside a
    box shrunk by ``shrink`` × its height at every edge), ``counted`` (not
    inside an ignored box), the rotated box it belongs to (``boxes``) and its
    EAST geometry in that box (``geometry_gt``, :func:`encode`); ``(N, P)``,
    ``(N, P)``, ``(N, P, 5)``, ``(N, P, 5)``, zero off text."""
    points = pixel_centres(map_hw, samples[0].batch_input_shape)
    n, p = len(samples), len(points)
    text = torch.zeros(n, p, dtype=torch.bool)
    counted = torch.ones(n, p, dtype=torch.bool)
    boxes, geometry = torch.zeros(n, p, 5), torch.zeros(n, p, 5)
    for i, sample in enumerate(samples):
        gt = sample.gt_instances
        for polygon, ignored in zip(gt.polygons, gt.ignored.tolist()):
            rbox = torch.from_numpy(quad_to_rbox(polygon)).float()
            geo = encode(points, rbox.expand(p, 5))
            if ignored:
                counted[i] &= ~(geo[:, :4] >= 0).all(1)
                continue
            inside = (geo[:, :4] >= shrink * rbox[3]).all(1)
            text[i] |= inside
            boxes[i, inside] = rbox
            geometry[i, inside] = geo[inside]
    return dict(points=points, text=text, counted=counted, boxes=boxes,
                geometry_gt=geometry)


@MODELS.register_module()
class RBoxModuleLoss(nn.Module):
    """EAST's loss: dice loss on the score map; on text pixels, ``−log IoU``
    of the predicted and true boxes in the box's own frame (EAST's
    rotation-free IoU from the four distances) plus ``angle_weight ×
    (1 − cos Δθ)``.

    Args:
        shrink (float): Text pixels are those at least ``shrink`` × the box
            height inside every edge. Defaults to 0.2.
        angle_weight (float): EAST's λθ. Defaults to 10.
        geometry_weight (float): Weight of both geometry terms. Defaults to 1.
    """

    def __init__(self, shrink: float = 0.2, angle_weight: float = 10.0,
                 geometry_weight: float = 1.0) -> None:
        super().__init__()
        if not 0 <= shrink < 0.5:
            raise ValueError(f'shrink must be in [0, 0.5), got {shrink}')
        self.shrink = shrink
        self.angle_weight = angle_weight
        self.geometry_weight = geometry_weight

    def targets(self, outs: Tuple[torch.Tensor, torch.Tensor],
                data_samples: Sequence[TextDetDataSample]) -> Dict[str, torch.Tensor]:
        """:func:`rbox_targets` with the flattened maps: ``score`` logits
        ``(N, P)`` and ``geometry`` ``(N, P, 5)``."""
        score, geometry = outs
        t = rbox_targets(data_samples, score.shape[-2:], self.shrink)
        return dict({k: v.to(score.device) for k, v in t.items()},
                    score=score.flatten(1),
                    geometry=geometry.flatten(2).transpose(1, 2))

    def score_loss(self, t: Dict[str, torch.Tensor]) -> torch.Tensor:
        prob = t['score'].sigmoid() * t['counted']
        gt = t['text'].float()
        return 1 - 2 * (prob * gt).sum() / (prob.sum() + gt.sum() + EPS)

    def geometry_losses(self, t: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """EAST's box terms on the text pixels (zero when there are none)."""
        pred, gt = t['geometry'][t['text']], t['geometry_gt'][t['text']]
        if len(pred) == 0:  # no text in the batch: geometry has no target
            zero = t['geometry'].sum() * 0
            return dict(loss_geometry=zero, loss_angle=zero)
        box, angle = self.pixel_terms(pred, gt)
        return dict(loss_geometry=box.mean(), loss_angle=angle.mean())

    def pixel_terms(self, pred: torch.Tensor,
                    gt: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """EAST's two box terms per pixel, weighted: ``−log IoU`` of the
        edge distances and ``angle_weight × (1 − cos Δθ)``; ``(P,)`` each."""
        return (self.geometry_weight * iou_loss(pred, gt),
                self.geometry_weight * self.angle_weight * (
                    1 - torch.cos(pred[:, 4] - gt[:, 4])))

    def forward(self, outs: Tuple[torch.Tensor, torch.Tensor],
                data_samples: Sequence[TextDetDataSample]) -> Dict[str, torch.Tensor]:
        t = self.targets(outs, data_samples)
        return dict(loss_score=self.score_loss(t), **self.geometry_losses(t))


def iou_loss(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """EAST's ``−log IoU`` of two boxes given by a pixel's distances to
    their edges (top, right, bottom, left), as if they had one angle."""
    area_p = (pred[:, 0] + pred[:, 2]) * (pred[:, 1] + pred[:, 3])
    area_g = (gt[:, 0] + gt[:, 2]) * (gt[:, 1] + gt[:, 3])
    h = torch.minimum(pred[:, 0], gt[:, 0]) + torch.minimum(pred[:, 2], gt[:, 2])
    w = torch.minimum(pred[:, 1], gt[:, 1]) + torch.minimum(pred[:, 3], gt[:, 3])
    inter = w * h
    return -torch.log((inter + 1) / (area_p + area_g - inter + 1))



