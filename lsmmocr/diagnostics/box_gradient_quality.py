"""Quality of a box loss's gradient: the LS-IoU analogue of
:mod:`.gradient_quality`.

The predictions are either held-out pairs' ``z`` boxes (perturbations of ``y``
at every strength) or a trained detector's own boxes (:func:`detector_pairs`:
the box each text pixel predicts, with its truth). Each is stepped along the
normalised negative gradient of a loss with respect to its ``(cx, cy, w, h,
θ)``, at several step sizes, and the exact mean IoU with its ground truth is
read afterwards. A loss whose gradient points toward the truth raises the IoU
at small steps. Peers: the regression loss of rotated-box detectors (smooth L1
on the usual deltas: centre offset over the truth's size, log size ratio,
angle difference), a random direction and, on a detector's pixels, EAST's own
box loss (:func:`east_loss`).
"""
from typing import Callable, Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..losses.lsiou_module_loss import normalised
from ..surrogates.pairs import Pairs
from ..surrogates.rotated_boxes import iou_distance
from ..textdet.rbox_geometry import decode, encode
from ..textdet.rbox_module_loss import RBoxModuleLoss
from ..utils import unit_per_sample

# (predicted boxes, true boxes) -> per-box loss, (N,)
BoxLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
REFERENCE = 'smooth L1 deltas'  # the peer every direction is compared with


def delta_smooth_l1(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The usual rotated-box regression loss, per box: smooth L1 on
    ``((cx−cx*)/w*, (cy−cy*)/h*, log w/w*, log h/h*, θ − θ*)``."""
    d = torch.stack([(z[:, 0] - y[:, 0]) / y[:, 2],
                     (z[:, 1] - y[:, 1]) / y[:, 3],
                     torch.log(z[:, 2] / y[:, 2]),
                     torch.log(z[:, 3] / y[:, 3]),
                     z[:, 4] - y[:, 4]], 1)
    return F.smooth_l1_loss(d, torch.zeros_like(d), reduction='none').sum(1)


def east_loss(points: torch.Tensor, scale: torch.Tensor,
              east: Optional[RBoxModuleLoss] = None) -> BoxLoss:
    """EAST's box loss (:meth:`RBoxModuleLoss.pixel_terms`, by default with
    its default weights: ``−log IoU`` of the distances from each box's text
    pixel to its edges plus ``10 × (1 − cos Δθ)``) as a box loss on
    normalised boxes: ``points`` (the text pixels) and the boxes are in units
    of ``scale`` (per pair), the loss is computed in input pixels as the
    detector's (its IoU's ``+1`` smoothing is in pixels)."""
    east = east or RBoxModuleLoss()

    def pixels(boxes: torch.Tensor) -> torch.Tensor:
        return torch.cat([boxes[:, :4] * scale[:, None], boxes[:, 4:]], 1)

    def loss(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        p = points * scale[:, None]
        box, angle = east.pixel_terms(encode(p, pixels(z)), encode(p, pixels(y)))
        return box + angle
    return loss


def detector_pairs(model: nn.Module, samples: Sequence[dict],
                   max_pairs: int, seed: int = 0
                   ) -> Tuple[Pairs, torch.Tensor, torch.Tensor]:
    """A trained RBox detector's own boxes on ``samples`` (dataset items,
    the test pipeline's): the box each text pixel (:class:`RBoxModuleLoss`'s
    targets) predicts and its truth, at most ``max_pairs`` drawn at random,
    normalised as LS-IoU's loss normalises them (by the padded input's longer
    side); and the pixels' centres and that scale (for :func:`east_loss`)."""
    targets = RBoxModuleLoss()
    zs, ys, ps, scales = [], [], [], []
    with torch.no_grad():
        for item in samples:
            data = model.data_preprocessor(
                dict(inputs=[item['inputs']],
                     data_samples=[item['data_samples']]), False)
            outs = model.det_head(model.extract_feat(data['inputs']))
            t = targets.targets(outs, data['data_samples'])
            scale = float(max(data['data_samples'][0].batch_input_shape))
            text = t['text'][0]
            points = t['points'][text]
            zs.append(normalised(decode(points, t['geometry'][0][text]), scale))
            ys.append(normalised(t['boxes'][0][text], scale))
            ps.append(points / scale)
            scales.append(torch.full((len(points),), scale))
    z, y, points, scale = (torch.cat(v).float() for v in (zs, ys, ps, scales))
    keep = torch.randperm(len(z), generator=torch.Generator().manual_seed(
        seed))[:max_pairs]
    z, y = z[keep], y[keep]
    return Pairs(z, y, iou_distance(z, y)), points[keep], scale[keep]


def surrogate_loss(surrogate: nn.Module) -> BoxLoss:
    """ê(z, y) of a pre-trained LS-IoU h_Φ, as a box loss."""
    return lambda z, y: surrogate.distance(z, y)


def box_gradient_quality(pairs: Pairs, losses: Dict[str, BoxLoss],
                         steps: Sequence[float],
                         seed: int = 0) -> Dict[str, Dict[str, object]]:
    """For each loss (and the :data:`REFERENCE` smooth-L1 delta loss and
    ``random``, always added): mean IoU of the boxes after a step of each size
    along its normalised negative gradient, and the mean cosine of that
    gradient with the smooth-L1 one's. A step's L2 norm in box-parameter
    space is its size times the predicted box's own scale ``sqrt(w h)``, so
    a step means the same for small and large boxes."""
    z, y = pairs.z.float(), pairs.y.float()
    gen = torch.Generator().manual_seed(seed)
    directions = {'random': unit_per_sample(torch.randn(z.shape, generator=gen))}
    for name, loss in {REFERENCE: delta_smooth_l1, **losses}.items():
        zz = z.clone().requires_grad_(True)
        grad = torch.autograd.grad(loss(zz, y).sum(), zz)[0]
        directions[name] = -unit_per_sample(grad)
    ref = directions[REFERENCE]
    scale = (z[:, 2] * z[:, 3]).sqrt()[:, None]
    out = {}
    for name, d in directions.items():
        iou = {}
        for s in steps:
            moved = z + s * scale * d
            moved[:, 2:4] = moved[:, 2:4].clamp_min(1e-4)  # keep boxes valid
            iou[s] = float(1 - iou_distance(moved, y).mean())
        out[name] = dict(iou=iou, cos=float((d * ref).sum(1).mean()))
    return out
