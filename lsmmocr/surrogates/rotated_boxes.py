"""Rotated boxes, the objects LS-IoU compares, and their exact metric.

A box is ``(cx, cy, w, h, θ)`` in mmcv's convention (``mmcv.ops.
box_iou_rotated``: θ in radians, clockwise, ``w`` along x at θ = 0), in
coordinates normalised by the image size. Any finite θ is accepted: a box is
the same for θ and θ + π, and for ``(w, h, θ)`` and ``(h, w, θ + π/2)``.
"""
import torch
from mmcv.ops import box_iou_rotated

BOX_DIM = 5


def check_boxes(boxes: torch.Tensor, name: str = 'boxes') -> None:
    """Raise ``ValueError`` (naming the first bad row) unless ``boxes`` is
    ``(N, 5)``, finite, with positive width and height."""
    if boxes.dim() != 2 or boxes.shape[1] != BOX_DIM:
        raise ValueError(f'{name} must be (N, {BOX_DIM}) boxes (cx, cy, w, h, '
                         f'angle), got shape {tuple(boxes.shape)}')
    bad = ~torch.isfinite(boxes).all(1)
    if bad.any():
        i = int(bad.nonzero()[0])
        raise ValueError(f'{name}[{i}] is not finite: {boxes[i].tolist()}')
    flat = (boxes[:, 2:4] <= 0).any(1)
    if flat.any():
        i = int(flat.nonzero()[0])
        raise ValueError(f'{name}[{i}] has no area (w and h must be > 0): '
                         f'{boxes[i].tolist()}')


def iou_distance(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Exact ``1 − IoU`` of each pair of rows (mmcv, CPU or GPU), ``(N,)``.

    The Jaccard distance: 0 for the same box, 1 for disjoint ones."""
    check_boxes(z, 'z')
    check_boxes(y, 'y')
    z, y = z.detach().float(), y.detach().float()
    return 1 - box_iou_rotated(z, y, aligned=True).clamp(0, 1)


def box_shape(boxes: torch.Tensor) -> torch.Tensor:
    """``(N, 5)``: the centre and the symmetric square root of the box's
    second-moment matrix, ``R diag(w, h) Rᵀ / 2`` (entries xx, xy, yy).

    The same for every parameterisation of one box (θ + π; w, h swapped with
    θ + π/2) and continuous in it, unlike ``(w, h, θ)`` whose angle jumps at
    the range boundary and is undefined for squares (the boundary problem
    rotated-box regression losses such as GWD and KLD avoid the same way).
    Differentiable: the predictions' gradient flows through it."""
    c, s = torch.cos(boxes[:, 4]), torch.sin(boxes[:, 4])
    w, h = boxes[:, 2] / 2, boxes[:, 3] / 2
    return torch.stack([boxes[:, 0], boxes[:, 1], w * c * c + h * s * s,
                        (w - h) * c * s, w * s * s + h * c * c], 1)


class RotatedBoxSpace:
    """The :class:`~.surrogate_task.MetricSpace` of LS-IoU."""

    def meta(self) -> dict:
        return dict(metric='rotated_iou',
                    boxes='cx,cy,w,h,angle (mmcv, clockwise, normalised)')

    def surrogate_args(self) -> dict:
        return {}
