"""Fidelity of a globally pre-trained surrogate (LS-ED or LS-IoU), per
architecture.

Trains h_Φ for a config's task (an LS-ED post-tuning config: its layout; a
config with a ``surrogate_task``: LS-IoU) on global pairs for a fixed budget,
then reports on held-out pairs: mean |ê − e|, the same on near pairs (ED <= 3;
IoU >= 0.5), Spearman ρ, Kendall τ, Spearman over the near pairs, how often ê
orders a near pair against one of the next value as e does (mean over the
near buckets), the gradient norm's median and the training time. ``--fits``
compares the fit objectives: ``value`` (LS-ED: |ê − e|), ``rank`` (relational:
soft Spearman only), ``both``. ``untrained`` is h_Φ as initialised (0
iterations), the floor every trained surrogate must beat.
"""
import argparse
import os
import tempfile
import time
from dataclasses import replace

import torch
from mmengine.config import Config

import lsmmocr  # noqa: F401
from lsmmocr.engine import config_task
from lsmmocr.surrogates.pretrain import fidelity, pretrain_surrogate

ARCHS = {
    'EditDistanceEmbedding': {
        'conv-64': dict(type='EditDistanceEmbedding'),
        'conv-128': dict(type='EditDistanceEmbedding', hidden=128),
        'bilstm-64': dict(type='EditDistanceEmbedding', arch='bilstm',
                          num_layers=2),
    },
    'RotatedBoxEmbedding': {
        'mlp': dict(type='RotatedBoxEmbedding', num_freqs=0),
        'fourier-4': dict(type='RotatedBoxEmbedding', num_freqs=4),
        'fourier-8': dict(type='RotatedBoxEmbedding', num_freqs=8),
    },
}


# SurrogateFitLoss weights of each fit objective.
FITS = {'value': dict(value_weight=1.0, rank_weight=0.0),
        'rank': dict(value_weight=0.0, rank_weight=1.0),
        'both': dict(value_weight=1.0, rank_weight=1.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config',
                        default='configs/textrecog/crnn/crnn_mini-vgg_lsed.py')
    parser.add_argument('--archs', nargs='+',
                        help='rows (default: every architecture of the metric)')
    parser.add_argument('--iters', type=int, default=1500)
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--grad-penalty', type=float, default=0.1)
    parser.add_argument('--num-pairs', type=int, default=2000)
    parser.add_argument('--fits', nargs='+', choices=sorted(FITS),
                        default=['value'], help='fit objectives (rows)')
    parser.add_argument('--rank-tau', type=float, default=0.1)
    parser.add_argument('--untrained', action='store_true',
                        help='add the untrained row of the config\'s h_Φ')
    args = parser.parse_args()
    task = config_task(Config.fromfile(args.config))
    archs = ARCHS[task.surrogate['type']]
    rows = [(f'{name} {fit}', archs[name], args.iters, fit)
            for name in args.archs or archs for fit in args.fits]
    if args.untrained:
        rows.insert(0, ('untrained', task.surrogate, 0, 'value'))
    pairs = task.held_out_pairs(args.num_pairs, seed=1)
    print(f'{args.config}: {task.space.meta()}; {args.iters} iterations x '
          f'{args.batch_size} pairs, λ={args.grad_penalty}; {len(pairs)} '
          f'held-out pairs, e {float(pairs.e.min()):.3g}..'
          f'{float(pairs.e.max()):.3g}')
    print(f'| arch, fit | params | train s | abs(ê−e) | e <= {task.near} | '
          f'Spearman | Kendall | Spearman e <= {task.near} | neighbour order '
          '| ‖∇ê‖ median |\n' + '|---' * 10 + '|')
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, surrogate, iters, fit) in enumerate(rows):
            arch = replace(task, surrogate=surrogate, fit_loss=dict(
                type='SurrogateFitLoss', grad_penalty=args.grad_penalty,
                rank_tau=args.rank_tau, **FITS[fit]))
            t0 = time.time()
            sur = pretrain_surrogate(arch, os.path.join(tmp, f'{i}.pth'),
                                     iters=iters, batch_size=args.batch_size,
                                     save_every=10**9, log=lambda *a: None)
            secs = time.time() - t0
            fid = fidelity(sur.eval(), pairs, arch)
            n = sum(p.numel() for p in sur.parameters())
            order = [v for k, v in fid['order_by_bucket'].items()
                     if k < task.near]
            print(f'\n| {name} | {n / 1e6:.2f} M | {secs:.0f} | {fid["mae"]:.3f} | '
                  f'{fid["mae_near"]:.3f} | {fid["spearman"]:.4f} | '
                  f'{fid["kendall"]:.4f} | {fid["spearman_near"]:.4f} | '
                  f'{sum(order) / max(len(order), 1):.4f} | '
                  f'{fid["grad_norm_median"]:.2f} |', flush=True)


if __name__ == '__main__':
    torch.set_num_threads(2)
    main()
