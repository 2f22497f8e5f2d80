"""MatchedIoUMetric: MMOCR's hmean, and the mean IoU of the boxes it matched."""
import numpy as np
import pytest
from mmocr.evaluation import HmeanIOUMetric

from lsmmocr.metrics import MatchedIoUMetric


def square(x, y, size=10.0):
    return np.array([x, y, x + size, y, x + size, y + size, x, y + size], np.float32)


def sample(preds, scores, truths):
    return dict(pred_instances=dict(polygons=preds, scores=np.array(scores)),
                gt_instances=dict(polygons=truths,
                                  ignored=np.zeros(len(truths), bool)))


def evaluate(metric, samples):
    metric.process(None, samples)
    return metric.evaluate(len(samples))


def test_hmean_as_mmocr_and_the_mean_iou_of_its_hits():
    samples = [
        # hit at IoU 90/110; a miss at IoU 50/150 (< 0.5); a low-score false positive
        sample([square(1, 0), square(105, 100), square(200, 200)], [0.9, 0.9, 0.35],
               [square(0, 0), square(100, 100)]),
        # a hit at IoU 80/120 and, later in order, a duplicate of the same truth
        sample([square(0, 2), square(0, 1)], [0.9, 0.9], [square(0, 0)]),
    ]
    ours = evaluate(MatchedIoUMetric(), samples)
    mmocr = evaluate(HmeanIOUMetric(), samples)
    assert {k: ours[f'icdar/{k}'] for k in ('hmean', 'precision', 'recall')} == \
        {k: mmocr[f'icdar/{k}'] for k in ('hmean', 'precision', 'recall')}
    # best threshold drops the 0.35 box: 2 hits of 4 predictions and 3 truths
    assert ours['icdar/precision'] == pytest.approx(2 / 4)
    assert ours['icdar/recall'] == pytest.approx(2 / 3)
    # the duplicate (IoU 90/110) comes second: first come, first matched
    assert ours['icdar/matched_iou'] == pytest.approx(
        (90 / 110 + 80 / 120) / 2, abs=1e-4)


def test_no_hit_and_other_strategies():
    samples = [sample([square(50, 50)], [0.9], [square(0, 0)])]
    assert evaluate(MatchedIoUMetric(), samples)['icdar/matched_iou'] == 0
    with pytest.raises(ValueError, match='vanilla'):
        MatchedIoUMetric(strategy='max_matching')
