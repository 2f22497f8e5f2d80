"""Rotated boxes from :class:`~.RBoxHead`'s maps, as MMOCR polygons."""
from typing import Optional, Sequence, Tuple

import torch
from mmcv.ops import nms_rotated
from mmengine.structures import InstanceData
from mmocr.models.textdet.postprocessors import BaseTextDetPostProcessor
from mmocr.registry import MODELS
from mmocr.structures import TextDetDataSample

from .rbox_geometry import decode, pixel_centres, rbox_corners


@MODELS.register_module()
class RBoxPostprocessor(BaseTextDetPostProcessor):
    """Pixels scoring above ``score_thr`` vote for their boxes; rotated NMS
    (mmcv) keeps the best; each box becomes a 4-point polygon in the
    original image (``pred_instances.polygons``, ``scores``), which MMOCR's
    ``HmeanIOUMetric`` evaluates.

    Args:
        score_thr (float): Minimum text probability of a voting pixel.
            Defaults to 0.7.
        nms_thr (float): Rotated-IoU threshold of the NMS. Defaults to 0.2.
        min_side (float): Boxes with a side shorter than this (input pixels)
            are dropped. Defaults to 4.
        max_candidates (int): Most voting pixels per image (highest scores
            first). Defaults to 2000.
        **kwargs: :class:`BaseTextDetPostProcessor` arguments.
    """

    def __init__(self, score_thr: float = 0.7, nms_thr: float = 0.2,
                 min_side: float = 4.0, max_candidates: int = 2000,
                 text_repr_type: str = 'quad',
                 rescale_fields: Optional[Sequence[str]] = ('polygons',),
                 **kwargs) -> None:
        super().__init__(text_repr_type=text_repr_type,
                         rescale_fields=list(rescale_fields or []) or None,
                         **kwargs)
        self.score_thr = score_thr
        self.nms_thr = nms_thr
        self.min_side = min_side
        self.max_candidates = max_candidates

    def boxes(self, score: torch.Tensor, geometry: torch.Tensor,
              input_hw: Tuple[int, int]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Kept rotated boxes ``(K, 5)`` (input pixels) and their scores."""
        prob = score.detach().sigmoid().flatten()
        geo = geometry.detach().flatten(1).t()
        keep = (prob > self.score_thr).nonzero().flatten()
        keep = keep[prob[keep].argsort(descending=True)[:self.max_candidates]]
        points = pixel_centres(score.shape[-2:], input_hw).to(prob.device)
        boxes = decode(points[keep], geo[keep]).float().cpu()
        scores = prob[keep].float().cpu()
        big = (boxes[:, 2:4] >= self.min_side).all(1)
        boxes, scores = boxes[big], scores[big]
        if len(boxes) == 0:
            return boxes, scores
        # mmcv's rotated IoU is unreliable for nearly coincident boxes (about
        # 2 % of pairs 1e-6 px apart score IoU 0: neighbouring pixels' votes
        # would survive NMS); on a 1/8-pixel, 1e-3-radian grid they coincide
        # exactly, which it gets right.
        boxes = torch.cat([(boxes[:, :4] * 8).round() / 8,
                           (boxes[:, 4:] * 1e3).round() / 1e3], 1)
        _, kept = nms_rotated(boxes, scores, self.nms_thr)
        return boxes[kept], scores[kept]

    def get_text_instances(self, pred_results: Sequence[torch.Tensor],
                           data_sample: TextDetDataSample,
                           **kwargs) -> TextDetDataSample:
        score, geometry = pred_results
        boxes, scores = self.boxes(score, geometry, data_sample.batch_input_shape)
        polygons = rbox_corners(boxes).reshape(-1, 8).numpy()
        data_sample.pred_instances = InstanceData(
            polygons=list(polygons), scores=scores)
        return data_sample
