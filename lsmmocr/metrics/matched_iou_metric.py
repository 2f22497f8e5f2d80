"""Detection hmean and how tight its hits are: the mean IoU of matched boxes."""
from typing import Dict, List, Sequence, Tuple

import numpy as np
from mmocr.evaluation import HmeanIOUMetric
from mmocr.evaluation.functional import compute_hmean
from mmocr.registry import METRICS


def first_come_matches(iou: np.ndarray, match_iou_thr: float) -> List[float]:
    """IoUs of the truth–prediction pairs that MMOCR's ``'vanilla'`` strategy
    matches in ``iou`` ``(truths, predictions)``: pairs above
    ``match_iou_thr`` in row-major order, each box matched at most once."""
    used_gt, used_pred, ious = set(), set(), []
    for g, p in zip(*np.nonzero(iou > match_iou_thr)):
        if g not in used_gt and p not in used_pred:
            used_gt.add(g)
            used_pred.add(p)
            ious.append(float(iou[g, p]))
    return ious


@METRICS.register_module()
class MatchedIoUMetric(HmeanIOUMetric):
    """MMOCR's :class:`~mmocr.evaluation.HmeanIOUMetric` (``'vanilla'``
    matching) plus ``matched_iou``: the mean IoU of the pairs matched at its
    best prediction-score threshold. Hmean counts a hit at IoU 0.51 like one
    at 0.99; ``matched_iou`` says how tight the hits are (what an IoU loss
    should change). Arguments as :class:`HmeanIOUMetric`'s but ``strategy``.
    """

    def __init__(self, **kwargs) -> None:
        if kwargs.pop('strategy', 'vanilla') != 'vanilla':
            raise ValueError("MatchedIoUMetric: strategy must be 'vanilla'")
        super().__init__(strategy='vanilla', **kwargs)

    def _hits(self, results: Sequence[Dict], thr: float) -> Tuple[List[float], int]:
        """Matched IoUs and prediction count at score threshold ``thr``."""
        ious, preds = [], 0
        for r in results:
            keep = r['pred_scores'] >= thr
            ious += first_come_matches(r['iou_metric'][:, keep], self.match_iou_thr)
            preds += int(keep.sum())
        return ious, preds

    def compute_metrics(self, results: List[Dict]) -> Dict:
        """One matching per score threshold (MMOCR's counts): hmean,
        precision and recall at the first best threshold, and ``matched_iou``
        there."""
        truths = sum(r['iou_metric'].shape[0] for r in results)
        hits = [self._hits(results, thr) for thr in self.pred_score_thrs]
        scores = [compute_hmean(len(i), len(i), truths, n) for i, n in hits]
        best = int(np.argmax([hmean for _, _, hmean in scores]))
        recall, precision, hmean = scores[best]
        ious = hits[best][0]
        return dict(precision=precision, recall=recall, hmean=hmean,
                    matched_iou=float(np.mean(ious)) if ious else 0.0)
