"""SoDeep sorters vs torchsort's soft rank vs exact ranks, at n = 100 and 1000.

For every vector length n, prints one markdown table row per method:
rank fidelity on held-out synthetic vectors of all families (mean rank error
in positions and Spearman ρ against the exact ranks, averaged over the
families) and the median wall time per batch of --batch vectors, forward
only and forward + backward (differentiable methods). Exact ranks (a sort)
are the reference: fidelity 0 / 1 by definition, no gradient. Sorters are
the checkpoints given (or found as work_dirs/sorters/<arch>_n<n>.pth) whose
length is n. torchsort runs on the raw scores at each --reg strength.
"""
import argparse
import os.path as osp
import statistics
import time
from typing import Callable, Dict, List

import torch

from lsmmocr.ranking import (exact_ranks, fidelity_by_distribution, held_out_scores,
                             load_sorter)
from lsmmocr.ranking.soft_rank_peers import torchsort_peers


def per_batch_seconds(fn: Callable[[torch.Tensor], torch.Tensor],
                      x: torch.Tensor, backward: bool,
                      repeats: int) -> float:
    """Median wall time of ``fn(x)`` (and a backward pass through it)."""
    times = []
    for i in range(repeats + 2):  # 2 warm-up calls
        xi = x.clone().requires_grad_(backward)
        t = time.perf_counter()
        r = fn(xi)
        if backward:
            (r * torch.linspace(0, 1, r.shape[-1])).sum().backward()
        if i >= 2:
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def sorters_for(n: int, paths: List[str]) -> Dict[str, torch.nn.Module]:
    """``{'SoDeep <arch> (<file>)': sorter}`` for the checkpoints of length n."""
    if not paths:
        paths = [f'work_dirs/sorters/{a}_n{n}.pth' for a in ('bilstm', 'conv')]
        paths = [p for p in paths if osp.isfile(p)]
    out = {}
    for p in paths:
        s = load_sorter(p).eval()
        if s.seq_len == n:
            out[f'SoDeep {s.arch} ({osp.basename(p)})'] = s
    return out


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--sorters', nargs='*', default=[],
                        help='sorter checkpoints (default: '
                        'work_dirs/sorters/{bilstm,conv}_n<n>.pth)')
    parser.add_argument('--sizes', type=int, nargs='+', default=[100, 1000])
    parser.add_argument('--batch', type=int, default=32,
                        help='vectors per timed batch (default: %(default)s)')
    parser.add_argument('--num', type=int, default=200,
                        help='held-out vectors per family for fidelity')
    parser.add_argument('--reg', type=float, nargs='*',
                        default=[0.0001, 0.001, 0.01, 0.1, 1.0],
                        help='torchsort regularisation strengths')
    parser.add_argument('--repeats', type=int, default=10)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    print(f'torch {torch.__version__}, {torch.get_num_threads()} CPU threads, '
          f'batch {args.batch}')
    peers = torchsort_peers(args.reg) if args.reg else {}
    for n in args.sizes:
        scores = held_out_scores(n, args.num)
        x = torch.cat(list(scores.values()))[torch.randperm(
            len(scores) * args.num)[:args.batch]]
        methods = {'exact (sort)': exact_ranks, **peers,
                   **sorters_for(n, args.sorters)}
        print(f'\n### n = {n}\n\n| method | rank error | Spearman | '
              'ms / batch fwd | ms / batch fwd+bwd |\n|---|---|---|---|---|')
        for name, fn in methods.items():
            fid = fidelity_by_distribution(fn, scores).values()
            err = statistics.mean(f['rank_error'] for f in fid)
            rho = statistics.mean(f['spearman'] for f in fid)
            with torch.no_grad():
                fwd = per_batch_seconds(fn, x, False, args.repeats)
            bwd = ('—' if fn is exact_ranks else
                   f'{1e3 * per_batch_seconds(fn, x, True, args.repeats):.2f}')
            print(f'| {name} | {err:.2f} | {rho:.4f} | {1e3 * fwd:.2f} | '
                  f'{bwd} |', flush=True)


if __name__ == '__main__':
    main()
