"""Why does (or doesn't) LS-ED beat the control? One setting changed at a time.

Every variant is the main job (``lsmmocr.experiments.main_job``) for the same
seed(s), baseline checkpoint and pre-trained surrogate; the control
post-tuning (proxy loss, same schedule) does not depend on the LS-ED settings,
so it is trained once and shared. Prints one Markdown row per variant: test
total edit distance (TED) and word accuracy of the LS-ED model, TED change vs
the control, and the surrogate's local fit over the last quarter of
post-tuning (mean |ê − e| and Spearman on the pairs it trained on).

Example::

    python benchmarks/lsed_diagnosis.py \\
        --baseline-checkpoint work_dirs/main_job/baseline/crnn_3000it.pth \\
        --variants reference j4 warmup proxy
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, List

import numpy as np

from lsmmocr.experiments.main_job import JobConfig, run
from lsmmocr.visualization import read_scalars

# name -> JobConfig fields changed from the reference.
VARIANTS: Dict[str, Dict] = {
    'reference': {},
    'j4': dict(inner_steps=4),
    'warmup': dict(warmup_iters=200),
    'proxy': dict(proxy_weight=1.0),
    'online': dict(posttune_data='online'),
    'online-proxy': dict(posttune_data='online', proxy_weight=1.0),
    'feds': dict(feds='1,3'),
    'frozen': dict(inner_steps=0),
    'lr3e-5': dict(lr=3e-5),
    'phi-lr1e-3': dict(surrogate_lr=1e-3),
    'lambda0.1': dict(grad_penalty=0.1),
    'edits4': dict(max_edits=4),
    'local': dict(source='local'),
    'global': dict(source='global'),
    # Issue "LS-ED must beat its control": one change each.
    'canonical': dict(align_targets=False),
    'wrong-only': dict(correct_weight=0.0),
    'mirror': dict(logit_grad='mirror'),
    'expected': dict(expected_weight=1.0),
    'expected-mix': dict(expected_weight=0.5),
    'lookahead': dict(lookahead='1,2,4'),
}


# Settings the control run depends on: a variant changing one trains its own.
CONTROL_FIELDS = ('lr', 'posttune_iters', 'batch_size', 'model',
                  'baseline_checkpoint', 'posttune_data')
# Settings the global pre-training of h_Φ depends on.
SURROGATE_FIELDS = ('grad_penalty', 'surrogate_iters', 'surrogate_batch_size',
                    'max_edits', 'model', 'expected_weight', 'align_targets',
                    'surrogate_checkpoint')


def link(src: str, dst: str) -> None:
    """Share ``src`` as ``dst`` (absolute symlink) unless ``dst`` exists."""
    if osp.exists(src) and not osp.lexists(dst):
        os.makedirs(osp.dirname(dst), exist_ok=True)
        os.symlink(osp.abspath(src), dst)


def local_fit(work_dir: str) -> Dict[str, float]:
    """Surrogate fit on its own training pairs, last quarter of the run."""
    recs = [r for r in read_scalars(work_dir) if 'lsed_approx_error' in r]
    tail = recs[-max(1, len(recs) // 4):]
    return {k: float(np.mean([r[k] for r in tail if k in r]))
            for k in ('lsed_approx_error', 'lsed_spearman')} if recs else {}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS),
                        choices=list(VARIANTS))
    parser.add_argument('--work-dir', default='work_dirs/lsed_diagnosis')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--reference', default='{}',
                        help='JSON of JobConfig fields every variant shares, '
                        'e.g. \'{"surrogate_iters": 2000, "grad_penalty": 0}\'')
    parser.add_argument('--baseline-checkpoint', required=True)
    parser.add_argument('--posttune-iters', type=int, default=150)
    args = parser.parse_args()
    shared = dict(json.loads(args.reference), seeds=args.seeds,
                  baseline_checkpoint=args.baseline_checkpoint,
                  posttune_iters=args.posttune_iters)
    first = osp.join(args.work_dir, args.variants[0])
    rows: List[str] = []
    for name in args.variants:
        job = JobConfig(**dict(shared, **VARIANTS[name]),
                        work_dir=osp.join(args.work_dir, name),
                        arms=['control', 'lsed'])
        if not set(VARIANTS[name]) & set(CONTROL_FIELDS):
            for seed in args.seeds:  # the first variant's control is shared
                link(osp.join(first, f'seed{seed}', 'control'),
                     osp.join(job.work_dir, f'seed{seed}', 'control'))
        if not set(VARIANTS[name]) & set(SURROGATE_FIELDS):
            link(osp.join(first, 'surrogate.pth'),
                 osp.join(job.work_dir, 'surrogate.pth'))
        summary = run(job)['summary']
        fit = [local_fit(osp.join(job.work_dir, f'seed{s}', 'lsed'))
               for s in args.seeds]
        ted, acc = summary['lsed']['total_edit_distance'], summary['lsed']['word_acc']
        change = summary['ted_change_vs_control']['lsed']
        rows.append(
            f'| {name} | {json.dumps(VARIANTS[name])} | {ted[0]:.0f} ± {ted[1]:.0f} '
            f'| {acc[0]:.3f} | {100 * change[0]:+.1f} % | '
            f'{np.mean([f.get("lsed_approx_error", np.nan) for f in fit]):.2f} | '
            f'{np.mean([f.get("lsed_spearman", np.nan) for f in fit]):.3f} |')
        control = summary['control']['total_edit_distance'][0]
        print(f'\ncontrol TED {control:.0f}; pre-trained surrogate '
              f'|ê-e| {summary["surrogate"]["mae"]:.2f}, Spearman '
              f'{summary["surrogate"]["spearman"]:.3f}')
        print('| variant | change | LS-ED TED | word acc | TED vs control '
              '| local abs(ê-e) | local Spearman |\n|---|---|---|---|---|---|---|')
        print('\n'.join(rows), flush=True)


if __name__ == '__main__':
    main()
