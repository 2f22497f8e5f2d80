"""Curves of reader training runs on the font stream (every resumed segment
of each work dir): validation word accuracy, training loss and learning
rate against iteration, as a PNG; prints each run's validation history and
the convergence rule of "Readers that read": word accuracy changes by less
than 1 point over the last 20 % of the iterations run.
"""
import argparse
import os.path as osp

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from lsmmocr.visualization import read_scalar_history  # noqa: E402

ACC = 'Fonts/recog/word_acc_ignore_case_symbol'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('runs', nargs='+', metavar='NAME=WORK_DIR',
                        help='e.g. crnn=~/lsmmocr_runs/crnn_fonts')
    parser.add_argument('--out', default='benchmarks/reader_curves.png')
    args = parser.parse_args()
    for run in args.runs:
        name, _, work_dir = run.partition('=')
        if not work_dir or not osp.isdir(osp.expanduser(work_dir)):
            parser.error(f'{run!r}: expected NAME=WORK_DIR with an existing '
                         'work dir')
    return args


def converged(val):
    """(range of accuracy over the last 20 % of iterations, in points; rule
    met) — None before two validations fall in that window."""
    last = val[-1]['step']
    window = [r[ACC] for r in val if r['step'] >= 0.8 * last]
    if len(window) < 2:
        return None
    spread = 100 * (max(window) - min(window))
    return spread, spread < 1.0


def main() -> None:
    args = parse_args()
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    for run in args.runs:
        name, _, work_dir = run.partition('=')
        recs = read_scalar_history(osp.expanduser(work_dir))
        val = [r for r in recs if ACC in r]
        train = [r for r in recs if 'loss' in r]
        axes[0].plot([r['step'] for r in val], [100 * r[ACC] for r in val],
                     marker='o', label=name)
        axes[1].plot([r['step'] for r in train], [r['loss'] for r in train],
                     label=name)
        axes[2].plot([r['step'] for r in train], [r['lr'] for r in train],
                     label=name)
        history = ', '.join(f'{r["step"]}: {100 * r[ACC]:.1f}' for r in val)
        print(f'{name}: {len(train) and train[-1]["step"]} iterations; '
              f'val word accuracy % {history or "(none yet)"}')
        rule = converged(val) if val else None
        print('  last 20 %: ' + ('not enough validations' if rule is None else
              f'spread {rule[0]:.2f} points -> '
              f'{"converged" if rule[1] else "not converged"}'))
    for ax, title in zip(axes, ('val word accuracy (%)', 'train loss', 'lr')):
        ax.set_title(title)
        ax.set_xlabel('iteration')
        ax.legend()
    axes[1].set_yscale('log')
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f'curves: {args.out}')


if __name__ == '__main__':
    main()
