"""Why a detector misses words at match IoU 0.5: each true word of the test
split is *found* (a predicted box with IoU >= 0.5), *inside a larger box*
(not found, but one predicted box covers >= half of it and is at least
1.5x its area: words of one line joined into one box), *loosely boxed*
(not found, but some predicted box has IoU >= 0.1 with it) or *missed*
(nothing overlaps it). Predictions scored >= ``--score-thr``; IoU of the
polygons (shapely), as MMOCR's HmeanIOUMetric computes it. Several
checkpoints, one table.

Example::

    LSMMOCR_SYNTH_DET_HARD_ROOT=~/lsmmocr_runs/data/synth_det_hard \\
    python benchmarks/detection_errors.py \\
        configs/textdet/rbox/rbox_resnet18_fpnc_hard.py \\
        baseline=lsmmocr://detectors/rbox_resnet18_fpnc_hard \\
        lsiou=~/lsmmocr_runs/lsiou_hard/seed0/lsiou/iter_300.pth
"""
import argparse
import os.path as osp
from collections import Counter
from typing import Dict, List

import torch
from mmengine.config import Config
from mmocr.registry import DATASETS
from shapely.geometry import Polygon

import lsmmocr  # noqa: F401
from lsmmocr.experiments.testing import load_model

KINDS = ('found', 'inside a larger box', 'loosely boxed', 'missed')


def word_kind(truth: Polygon, preds: List[Polygon]) -> str:
    """Which of :data:`KINDS` a true word is, given the predicted boxes."""
    ious, covers = [0.0], [0.0]
    for p in preds:
        inter = truth.intersection(p).area
        ious.append(inter / (truth.area + p.area - inter))
        covers.append(inter / truth.area if p.area >= 1.5 * truth.area else 0.0)
    if max(ious) >= 0.5:
        return KINDS[0]
    if max(covers) >= 0.5:
        return KINDS[1]
    return KINDS[2] if max(ious) >= 0.1 else KINDS[3]


def polygon(points) -> Polygon:
    return Polygon(torch.as_tensor(points).reshape(-1, 2).tolist()).buffer(0)


def classify(config: str, checkpoint: str, num_images: int,
             score_thr: float) -> Counter:
    """:data:`KINDS` counts of the true words of the first ``num_images``
    test scenes."""
    cfg = Config.fromfile(config)
    model = load_model(cfg, checkpoint)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    counts = Counter()
    for i in range(min(num_images, len(dataset))):
        item = dataset[i]
        with torch.no_grad():
            out = model.test_step(dict(inputs=[item['inputs']],
                                       data_samples=[item['data_samples']]))[0]
        pred = out.pred_instances
        preds = [polygon(p) for p, s in zip(pred.polygons, pred.scores)
                 if s >= score_thr]
        gt = out.gt_instances
        for points, ignored in zip(gt.polygons, gt.ignored.tolist()):
            if not ignored:
                counts[word_kind(polygon(points), preds)] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the detector config (its test split)')
    parser.add_argument('checkpoints', nargs='+', metavar='NAME=CHECKPOINT')
    parser.add_argument('--num-images', type=int, default=500)
    parser.add_argument('--score-thr', type=float, default=0.5)
    args = parser.parse_args()
    runs: Dict[str, str] = {}
    for arg in args.checkpoints:
        name, _, path = arg.partition('=')
        if not path:
            parser.error(f'{arg!r}: expected NAME=CHECKPOINT')
        runs[name] = osp.expanduser(path)
    print(f'true words of the first {args.num_images} test scenes, predictions '
          f'scored >= {args.score_thr}:\n')
    print('| checkpoint | words | ' + ' | '.join(KINDS) + ' |')
    print('|---|---|' + '---|' * len(KINDS))
    for name, path in runs.items():
        counts = classify(args.config, path, args.num_images, args.score_thr)
        total = sum(counts.values())
        print(f'| {name} | {total} | ' + ' | '.join(
            f'{counts[k]} ({100 * counts[k] / total:.1f} %)' for k in KINDS) + ' |',
            flush=True)


if __name__ == '__main__':
    main()
