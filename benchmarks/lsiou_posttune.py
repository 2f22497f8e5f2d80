"""LS-IoU post-tuning against its control on the RBox detector.

From one trained detector (``--baseline``), each seed runs two arms for the
same iterations with the same schedule (``configs/_base_/lsiou_posttune.py``:
Adam 1e-4, constant): the control continues with the detector's own loss
(EAST's IoU + angle terms), LS-IoU replaces those box terms with ê from a
pre-trained h_Φ (``--surrogate``, ``tools/train_surrogate.py
configs/surrogates/lsiou_rotated_boxes.py``) fitted on the fly. Each final
checkpoint is evaluated on the test split (fonts never seen in training) with
MMOCR's ``HmeanIOUMetric`` at its standard match threshold IoU 0.5 and at the
stricter 0.7 and 0.8 (how tight the boxes are: what an IoU surrogate should
improve); printed: hmean (and precision, recall at 0.5) per arm, mean ± std
over seeds, and LS-IoU's relative hmean change vs the control.
Finished runs in ``--work-dir`` are reused. Example::

    python tools/make_synth_data.py --task textdet
    python tools/train.py configs/textdet/rbox/rbox_resnet18_fpnc_synth.py \\
        --work-dir work_dirs/rbox_synth
    python benchmarks/lsiou_posttune.py work_dirs/rbox_synth/iter_2000.pth \\
        work_dirs/surrogates/lsiou_6k.pth --seeds 0 1 2 --iters 300
"""
import argparse
import json
import os.path as osp
from typing import Dict, List

import numpy as np
from mmengine.config import Config
from mmengine.runner import Runner

import lsmmocr  # noqa: F401  (registration)
from lsmmocr.experiments.main_job import REPO, train

DETECTOR = 'configs/textdet/rbox/rbox_resnet18_fpnc_synth.py'
LSIOU = 'configs/textdet/rbox/rbox_resnet18_fpnc_lsiou_synth.py'
ARMS = ('control', 'lsiou')
MATCH_IOUS = (0.5, 0.7, 0.8)
METRICS = ('hmean@0.5', 'precision@0.5', 'recall@0.5', 'hmean@0.7', 'hmean@0.8')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('baseline', help='the trained detector checkpoint')
    parser.add_argument('surrogate', help='pre-trained LS-IoU h_Φ checkpoint')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--iters', type=int, default=300,
                        help='post-tuning iterations per arm')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--work-dir', default='work_dirs/lsiou_posttune')
    return parser.parse_args()


def arm_options(args, seed: int, arm: str) -> List[str]:
    """``--cfg-options`` of one arm: same start, schedule, data and seed."""
    opts = [f'load_from={osp.abspath(args.baseline)}', f'randomness.seed={seed}',
            f'train_dataloader.batch_size={args.batch_size}',
            'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
            f'post_tune.overrides.train_cfg.max_iters={args.iters}',
            f'post_tune.overrides.default_hooks.checkpoint.interval={args.iters}',
            f'default_hooks.logger.interval={max(1, args.iters // 30)}']
    if arm == 'control':  # the detector's own loss, nothing wrapped
        return opts + ['post_tune.module_loss=None', 'post_tune.trainer=None']
    surrogate = osp.abspath(args.surrogate)
    return opts + [f'post_tune.trainer.pretrained={surrogate}']


def evaluate(checkpoint: str, work_dir: str) -> Dict[str, float]:
    """hmean, precision and recall of ``checkpoint`` on the test split at
    each of :data:`MATCH_IOUS`, as ``'<name>@<iou>'``."""
    cfg = Config.fromfile(osp.join(REPO, DETECTOR))
    cfg.test_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.test_evaluator = [dict(type='HmeanIOUMetric', match_iou_thr=t, prefix=f'@{t}')
                          for t in MATCH_IOUS]
    cfg.update(work_dir=work_dir, load_from=checkpoint)
    metrics = Runner.from_cfg(cfg).test()
    return {f'{k}@{t}': float(metrics[f'@{t}/{k}']) for t in MATCH_IOUS
            for k in ('hmean', 'precision', 'recall')}


def markdown(results: Dict, seeds: List[int]) -> str:
    rows = ['| run | hmean@0.5 per seed | ' + ' | '.join(METRICS) + ' |',
            '|---|---|' + '---|' * len(METRICS)]
    base = results['baseline']
    rows.append(f'| baseline | {base["hmean@0.5"]:.4f} | '
                + ' | '.join(f'{base[k]:.4f}' for k in METRICS) + ' |')
    for arm in ARMS:
        per = [results[str(s)][arm] for s in seeds]
        cells = [f'{np.mean([p[k] for p in per]):.4f} ± '
                 f'{np.std([p[k] for p in per]):.4f}' for k in METRICS]
        rows.append(f'| {arm} | ' + ' / '.join(f'{p["hmean@0.5"]:.4f}' for p in per)
                    + ' | ' + ' | '.join(cells) + ' |')
    rows.append('')
    for t in MATCH_IOUS:
        change = [100 * (results[str(s)]['lsiou'][f'hmean@{t}'] / results[str(s)]
                         ['control'][f'hmean@{t}'] - 1) for s in seeds]
        rows.append(f'LS-IoU hmean@{t} vs control: {np.mean(change):+.2f} % ± '
                    f'{np.std(change):.2f} % (per seed: '
                    + ', '.join(f'{c:+.2f} %' for c in change) + ')  ')
    return '\n'.join(rows)


def main() -> None:
    args = parse_args()
    results = dict(baseline=evaluate(args.baseline,
                                     osp.join(args.work_dir, 'eval_baseline')))
    for seed in args.seeds:
        results[str(seed)] = {}
        for arm in ARMS:
            work = osp.join(args.work_dir, f'seed{seed}', arm)
            ckpt = train(LSIOU, work, arm_options(args, seed, arm),
                         f'seed {seed} {arm}')
            results[str(seed)][arm] = evaluate(ckpt, work + '_eval')
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(dict(args=vars(args), results=results), f, indent=2)
    print('\n' + markdown(results, args.seeds))


if __name__ == '__main__':
    main()
