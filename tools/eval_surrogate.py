"""Evaluate a pre-trained surrogate (LS-ED or LS-IoU) on held-out pairs.

Prints mean |ê − e|, Spearman ρ, Kendall τ, the error per bucket of the true
distance (each edit distance; each tenth of IoU) and gradient-norm statistics;
writes them as JSON and a PNG scatter of ê against e into --out-dir.
"""
import argparse
import os
import os.path as osp

from mmengine.config import DictAction

import lsmmocr  # noqa: F401  (registration)
from lsmmocr.cli import check_args, user_errors_exit
from lsmmocr.engine import config_task
from lsmmocr.surrogates import load_surrogate
from lsmmocr.surrogates.pretrain import fidelity
from lsmmocr.utils import load_config, write_json
from lsmmocr.visualization import scatter_e_hat


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='the LS-ED post-tuning config, or the '
                        'config with a surrogate_task (LS-IoU)')
    parser.add_argument('checkpoint', help='surrogate checkpoint')
    parser.add_argument('--num-pairs', type=int, default=2000)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--out-dir', default='work_dirs/surrogate_eval')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    check_args(parser, args,
               files=('config', 'checkpoint'),
               positive=('num_pairs', ),
               out_dirs=('out_dir', ))
    return args


def main() -> None:
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    task = config_task(cfg)
    surrogate = load_surrogate(args.checkpoint, task.space)
    fid = fidelity(surrogate.eval(), task.held_out_pairs(args.num_pairs,
                                                         args.seed), task)
    os.makedirs(args.out_dir, exist_ok=True)
    e, e_hat = fid.pop('e'), fid.pop('e_hat')
    print(f'pairs: {len(e)}  |ê-e|: {fid["mae"]:.3f}  Spearman: '
          f'{fid["spearman"]:.4f}  Kendall: {fid["kendall"]:.4f}\n'
          f'‖∇z ê‖: mean {fid["grad_norm_mean"]:.3f}, median '
          f'{fid["grad_norm_median"]:.3f}, p95 {fid["grad_norm_p95"]:.3f}\n'
          f'|ê-e| where e <= {task.near}: {fid["mae_near"]:.3f}\n'
          f'{task.bucket_label}: count, mean |ê-e|')
    for k, (n, err) in fid['mae_by_bucket'].items():
        print(f'  {k:5g}: {n:5d}  {err:.3f}')
    write_json(osp.join(args.out_dir, 'fidelity.json'), fid, indent=2)
    png = osp.join(args.out_dir, 'scatter.png')
    scatter_e_hat(e, e_hat, png, f'Spearman {fid["spearman"]:.3f}, '
            f'|ê-e| {fid["mae"]:.2f}')
    print(f'wrote {args.out_dir}/fidelity.json and {png}')


if __name__ == '__main__':
    user_errors_exit(main)()
