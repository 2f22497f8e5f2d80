"""Fidelity of the globally pre-trained LS-ED surrogate, per architecture.

Trains h_Φ for a post-tuning config's layout on global pairs for a fixed
budget, then reports on held-out pairs (ED from 0 to the layout's capacity):
mean |ê − e|, Spearman ρ, Kendall τ, gradient-norm statistics and training
time. Aims (issue "LS-ED"): ρ ≥ 0.95, |ê − e| ≤ 0.5.
"""
import argparse
import os
import tempfile
import time

import torch
from mmengine.config import Config

import lsmmocr  # noqa: F401
from lsmmocr.surrogates.pretrain import (fidelity, held_out_pairs, pretrain_surrogate,
                                         surrogate_spec)

ARCHS = {
    'conv-64': dict(type='EditDistanceEmbedding'),
    'conv-128': dict(type='EditDistanceEmbedding', hidden=128),
    'bilstm-64': dict(type='EditDistanceEmbedding', arch='bilstm', num_layers=2),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config',
                        default='configs/textrecog/crnn/crnn_mini-vgg_lsed.py')
    parser.add_argument('--archs', nargs='+', default=list(ARCHS),
                        choices=list(ARCHS))
    parser.add_argument('--iters', type=int, default=1500)
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--grad-penalty', type=float, default=0.1)
    parser.add_argument('--num-pairs', type=int, default=2000)
    args = parser.parse_args()
    spec = surrogate_spec(Config.fromfile(args.config))
    lay = spec['layout']
    pairs = held_out_pairs(lay, args.num_pairs, seed=1)
    print(f'{args.config}: {lay.mode}, T={lay.seq_len}, C={lay.num_classes}; '
          f'{args.iters} iterations x {args.batch_size} pairs, '
          f'λ={args.grad_penalty}; {len(pairs)} held-out pairs, '
          f'ED {int(pairs.e.min())}..{int(pairs.e.max())}')
    print('| arch | params | train s | abs(ê−e) | Spearman | Kendall | ‖∇ê‖ median |')
    print('|---|---|---|---|---|---|---|')
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.archs:
            spec.update(surrogate=ARCHS[name],
                        fit_loss=dict(type='SurrogateFitLoss',
                                      grad_penalty=args.grad_penalty))
            t0 = time.time()
            sur = pretrain_surrogate(spec, os.path.join(tmp, name + '.pth'),
                                     iters=args.iters,
                                     batch_size=args.batch_size,
                                     save_every=10**9, log=lambda *a: None)
            secs = time.time() - t0
            fid = fidelity(sur.eval(), pairs)
            n = sum(p.numel() for p in sur.parameters())
            print(f'\n| {name} | {n / 1e6:.2f} M | {secs:.0f} | {fid["mae"]:.3f} | '
                  f'{fid["spearman"]:.4f} | {fid["kendall"]:.4f} | '
                  f'{fid["grad_norm_median"]:.2f} |', flush=True)


if __name__ == '__main__':
    torch.set_num_threads(2)
    main()
