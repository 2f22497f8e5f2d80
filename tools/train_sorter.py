"""Train a SoDeep sorter on synthetic score vectors.

No data is needed: every batch is drawn afresh from the families of
``lsmmocr.ranking.sorter_data`` (uniform, normal, evenly spaced, ramps,
mixtures). The checkpoint (written atomically every --save-every steps, so
--resume continues an interrupted run) is what the SoDeep losses load by path,
e.g. ``dict(type='SoDeepSpearmanLoss', sorter='work_dirs/sorters/bilstm_n100.pth')``.
At the end the mean rank error and Spearman ρ on held-out vectors of each
family are printed.
"""
import argparse
import json
import time

import torch

from lsmmocr.cli import check_args
from lsmmocr.ranking import (DISTRIBUTIONS, fidelity_by_distribution, held_out_scores,
                             train_sorter)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--seq-len', type=int, default=100,
                        help='n, the length of the vectors (default: %(default)s)')
    parser.add_argument('--arch', choices=('bilstm', 'conv'), default='bilstm')
    parser.add_argument('--hidden', type=int, default=64)
    parser.add_argument('--num-layers', type=int,
                        help='LSTM layers or convolution blocks (default: 2 '
                        'for bilstm, 4 for conv)')
    parser.add_argument('--kernel-size', type=int, default=1,
                        help='convolution kernel of --arch conv '
                        '(default: %(default)s)')
    parser.add_argument('--iters', type=int, default=3000)
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--dists', nargs='+', default=list(DISTRIBUTIONS),
                        choices=DISTRIBUTIONS, help='training families')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='checkpoint (default: '
                        'work_dirs/sorters/<arch>_n<seq-len>.pth)')
    parser.add_argument('--save-every', type=int, default=500)
    parser.add_argument('--resume', action='store_true',
                        help='continue an interrupted run from --out')
    parser.add_argument('--eval-num', type=int, default=1000,
                        help='held-out vectors per family (0: skip)')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    check_args(parser, args,
               positive=('seq_len', 'hidden', 'iters', 'batch_size', 'lr',
                         'save_every', 'eval_num'),
               out_files=('out', ))
    return args


def main() -> None:
    args = parse_args()
    out = args.out or f'work_dirs/sorters/{args.arch}_n{args.seq_len}.pth'
    cfg = dict(seq_len=args.seq_len, arch=args.arch, hidden=args.hidden,
               num_layers=args.num_layers, kernel_size=args.kernel_size)
    print(f'sorter: {cfg}; {torch.get_num_threads()} CPU threads')
    t0 = time.time()
    sorter = train_sorter(cfg, iters=args.iters, batch_size=args.batch_size,
                          lr=args.lr, dists=args.dists, seed=args.seed,
                          out=out, save_every=args.save_every,
                          resume=args.resume, device=args.device)
    print(f'done in {time.time() - t0:.0f} s -> {out}')
    if args.eval_num > 0:
        fid = fidelity_by_distribution(
            lambda x: sorter.eval()(x.to(args.device)),
            held_out_scores(args.seq_len, args.eval_num))
        print('held-out (mean rank error in positions, Spearman rho):')
        for name, f in fid.items():
            print(f'  {name:8s} {f["rank_error"]:7.2f}  {f["spearman"]:.5f}')
        print(json.dumps(fid))


if __name__ == '__main__':
    main()
