"""Curves of training runs (every resumed segment of each work dir): the
validation metric, training loss and learning rate against iteration, as a
PNG; prints each run's validation history and the convergence rule: the
metric changes by less than the kind's tolerance over the last 20 % of the
iterations run (readers: word accuracy, 1 point, "Readers that read";
detectors: hmean at IoU 0.5, 0.5 point, "LS-IoU where detection is hard").
"""
import argparse
import os.path as osp

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from lsmmocr.experiments.shipping import DETECTOR, READER, convergence  # noqa: E402
from lsmmocr.visualization import read_scalar_history  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('runs', nargs='+', metavar='NAME=WORK_DIR',
                        help='e.g. crnn=~/lsmmocr_runs/crnn_fonts')
    parser.add_argument('--kind', choices=('readers', 'detectors'),
                        default='readers', help='what the runs trained')
    parser.add_argument('--out', default='benchmarks/reader_curves.png')
    args = parser.parse_args()
    for run in args.runs:
        name, _, work_dir = run.partition('=')
        if not work_dir or not osp.isdir(osp.expanduser(work_dir)):
            parser.error(f'{run!r}: expected NAME=WORK_DIR with an existing '
                         'work dir')
    return args


def main() -> None:
    args = parse_args()
    kind = READER if args.kind == 'readers' else DETECTOR
    key, label = kind.key, f'val {kind.key} (%)'
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    for run in args.runs:
        name, _, work_dir = run.partition('=')
        recs = read_scalar_history(osp.expanduser(work_dir))
        val = [r for r in recs if key in r]
        train = [r for r in recs if 'loss' in r]
        axes[0].plot([r['step'] for r in val], [100 * r[key] for r in val],
                     marker='o', label=name)
        axes[1].plot([r['step'] for r in train], [r['loss'] for r in train],
                     label=name)
        axes[2].plot([r['step'] for r in train], [r['lr'] for r in train],
                     label=name)
        history = ', '.join(f'{r["step"]}: {100 * r[key]:.1f}' for r in val)
        print(f'{name}: {len(train) and train[-1]["step"]} iterations; '
              f'{label} {history or "(none yet)"}')
        rule = convergence([(r['step'], r[key]) for r in val],
                           tolerance=kind.tolerance)
        print('  last 20 %: ' + ('not enough validations' if rule is None else
              f'spread {rule["spread"]:.2f} points over {rule["window"]} -> '
              f'{"converged" if rule["converged"] else "not converged"}'))
    for ax, title in zip(axes, (label, 'train loss', 'lr')):
        ax.set_title(title)
        ax.set_xlabel('iteration')
        ax.legend()
    axes[1].set_yscale('log')
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f'curves: {args.out}')


if __name__ == '__main__':
    main()
