"""The edit-distance family of recognition metrics, computed in one pass."""
import re
from typing import Dict, List, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmocr.registry import METRICS

from ..edit_distance import edit_distances

MODES = ('exact', 'ignore_case', 'ignore_case_symbol')


@METRICS.register_module()
class EditDistanceMetric(BaseMetric):
    """Total edit distance, NED both ways, CER and word accuracy.

    With ``ED = Levenshtein(pred, gt)`` over the ``N`` samples:

    * ``total_edit_distance``: ``Σ ED`` (LS-ED's headline number, TED);
    * ``ned_gt``: ``mean ED / len(gt)`` (clovaai's benchmark; an empty gt
      divides by 1);
    * ``1-N.E.D``: ``1 − mean ED / max(len(pred), len(gt))`` (ICDAR 2019 and
      MMOCR's ``OneMinusNEDMetric``; 0/0 counts as 0);
    * ``cer``: ``Σ ED / Σ len(gt)``;
    * ``word_acc``: fraction with ``ED == 0``.

    With ``mode='ignore_case_symbol'`` (the default, MMOCR's convention) texts
    are lower-cased and stripped of ``valid_symbol`` matches first, so
    ``1-N.E.D`` equals MMOCR's ``OneMinusNEDMetric`` and ``word_acc`` its
    ``WordMetric`` ``word_acc_ignore_case_symbol``.

    Args:
        mode (str): ``'exact'``, ``'ignore_case'`` or ``'ignore_case_symbol'``.
        valid_symbol (str): Regex of characters removed in
            ``'ignore_case_symbol'`` mode (MMOCR's default).
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): Metric name prefix. Defaults to ``'recog'``.
    """

    default_prefix = 'recog'

    def __init__(self,
                 mode: str = 'ignore_case_symbol',
                 valid_symbol: str = '[^A-Z^a-z^0-9^\u4e00-\u9fa5]',
                 collect_device: str = 'cpu',
                 prefix: str = None) -> None:
        super().__init__(collect_device, prefix)
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        self.mode = mode
        self.valid_symbol = re.compile(valid_symbol)

    def normalize(self, text: str) -> str:
        if self.mode != 'exact':
            text = text.lower()
        if self.mode == 'ignore_case_symbol':
            text = self.valid_symbol.sub('', text)
        return text

    def process(self, data_batch: Sequence[Dict],
                data_samples: Sequence[Dict]) -> None:
        for sample in data_samples:
            self.results.append(
                (self.normalize(sample['pred_text']['item']),
                 self.normalize(sample['gt_text']['item'])))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        if not results:
            raise ValueError('EditDistanceMetric got no samples')
        preds, gts = zip(*results)
        return edit_distance_summary(preds, gts)


def edit_distance_summary(preds: Sequence[str],
                          gts: Sequence[str]) -> Dict[str, float]:
    """The metrics of :class:`EditDistanceMetric` for normalised texts."""
    ed = edit_distances(preds, gts).astype(float)
    len_gt = np.array([len(g) for g in gts], dtype=float)
    len_max = np.maximum(len_gt, [len(p) for p in preds])
    return {
        'total_edit_distance': int(ed.sum()),
        'ned_gt': round(float(np.mean(ed / np.maximum(len_gt, 1))), 4),
        '1-N.E.D': round(1 - float(np.mean(
            np.divide(ed, len_max, out=np.zeros_like(ed), where=len_max > 0))), 4),
        'cer': round(float(ed.sum() / max(len_gt.sum(), 1)), 4),
        'word_acc': round(float(np.mean(ed == 0)), 4),
    }
