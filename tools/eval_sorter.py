"""Rank fidelity of trained SoDeep sorters against exact ranks and torchsort.

For each sorter checkpoint, prints the mean rank error (|r̂ − r| in positions)
and Spearman ρ between its ranks and the exact ranks, per synthetic family
(held-out vectors) and on real score vectors (``--real``: an .npz/.npy of
scores, e.g. a recognizer's word and character confidences written by
``tools/confidence_ranking.py --dump-scores``; vectors of length n are random
subsets of each array). torchsort's soft rank (Blondel et al., ICML 2020) is
the peer at each ``--reg`` strength, on the raw scores as a user would call
it. Writes ``fidelity.json`` and, per sorter, a PNG of sorter rank against
exact rank into --out-dir.
"""
import argparse
import os
import os.path as osp
from typing import Dict, Optional

import matplotlib
import numpy as np
import torch

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from mmocr.registry import MODELS  # noqa: E402

from lsmmocr.cli import check_args  # noqa: E402
from lsmmocr.ranking import (exact_ranks, fidelity_by_distribution,  # noqa: E402
                             held_out_scores, load_sorter)
from lsmmocr.ranking.soft_rank_peers import RankFn, torchsort_peers  # noqa: E402
from lsmmocr.utils import write_json  # noqa: E402
from lsmmocr.visualization import save_figure  # noqa: E402


def real_scores(path: str, seq_len: int, num: int,
                seed: int = 0) -> Dict[str, torch.Tensor]:
    """``{'real:<array>': (num, seq_len)}``: random length-``seq_len`` subsets
    of each floating-point array in ``path`` (.npz or .npy) that has enough
    entries."""
    data = np.load(path)
    arrays = dict(data) if isinstance(data, np.lib.npyio.NpzFile) else {
        osp.splitext(osp.basename(path))[0]: data}
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, a in arrays.items():
        if not np.issubdtype(a.dtype, np.floating):
            continue  # e.g. the edit distances next to the confidences
        a = torch.as_tensor(np.asarray(a, dtype=np.float32).ravel())
        if len(a) < seq_len:
            print(f'{path}:{name} has {len(a)} scores, fewer than n={seq_len}: '
                  'skipped')
            continue
        idx = torch.rand(num, len(a), generator=g).argsort(1)[:, :seq_len]
        out[f'real:{name}'] = a[idx]
    return out


def plot_ranks(sorter: RankFn, scores: Dict[str, torch.Tensor], path: str,
               title: str, vectors: int = 4) -> None:
    """Sorter rank against exact rank, one panel per score family."""
    cols = min(4, len(scores))
    nrows = -(-len(scores) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 3.2 * nrows),
                             squeeze=False)
    for ax in axes.flat[len(scores):]:
        ax.axis('off')
    for ax, (name, x) in zip(axes.flat, scores.items()):
        x = x[:vectors]
        with torch.no_grad():
            r_hat = sorter(x).cpu()
        n = x.shape[-1]
        ax.scatter(exact_ranks(x).flatten() * (n - 1),
                   r_hat.flatten() * (n - 1), s=3, alpha=0.4)
        ax.plot([0, n - 1], [0, n - 1], 'k--', lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel('exact rank')
        ax.set_ylabel('sorter rank')
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


def print_table(results: Dict[str, Dict[str, Dict[str, float]]]) -> None:
    """Rows: methods; columns: families; cells: rank error / Spearman."""
    families = list(next(iter(results.values())))
    print(f'{"method":32s}' + ''.join(f'{f:>20s}' for f in families))
    for method, fid in results.items():
        print(f'{method:32s}' + ''.join(
            f'{fid[f]["rank_error"]:9.2f} / {fid[f]["spearman"]:.4f}'
            for f in families))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('checkpoints', nargs='+', help='sorter checkpoints')
    parser.add_argument('--num', type=int, default=1000,
                        help='vectors per family (default: %(default)s)')
    parser.add_argument('--real', help='.npz/.npy of real scores')
    parser.add_argument('--reg', type=float, nargs='*',
                        default=[0.0001, 0.001, 0.01, 0.1, 1.0],
                        help='torchsort regularisation strengths '
                        '(default: %(default)s; none: no peer)')
    parser.add_argument('--random', action='store_true',
                        help='also rank with an untrained sorter of each '
                        'architecture')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out-dir', default='work_dirs/sorter_eval')
    args = parser.parse_args()
    check_args(parser, args,
               files=('checkpoints', 'real'),
               positive=('num', ),
               out_dirs=('out_dir', ))
    return args


def evaluate(checkpoint: str, args: argparse.Namespace,
             peers: Dict[str, RankFn]) -> Dict[str, Dict]:
    """Fidelity of the sorter in ``checkpoint`` and of the peers, at its n."""
    sorter = load_sorter(checkpoint).eval()
    n = sorter.seq_len
    scores = held_out_scores(n, args.num, args.seed)
    if args.real:
        scores.update(real_scores(args.real, n, args.num, args.seed))
    methods: Dict[str, Optional[RankFn]] = {'sorter': sorter, **peers}
    if args.random:
        torch.manual_seed(args.seed)
        methods['untrained sorter'] = MODELS.build(sorter.cfg)
    results = {m: fidelity_by_distribution(fn, scores)
               for m, fn in methods.items()}
    name = osp.splitext(osp.basename(checkpoint))[0]
    png = osp.join(args.out_dir, f'{name}_ranks.png')
    plot_ranks(sorter, scores, png, f'{name} (n={n}): sorter vs exact rank')
    print(f'\n{checkpoint} (n={n}), cells: mean rank error / Spearman')
    print_table(results)
    print(f'plot: {png}')
    return dict(seq_len=n, results=results, plot=png)


def main() -> None:
    args = parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    peers = torchsort_peers(args.reg) if args.reg else {}
    report = {ckpt: evaluate(ckpt, args, peers) for ckpt in args.checkpoints}
    out = osp.join(args.out_dir, 'fidelity.json')
    write_json(out, report, indent=1)
    print(f'\n-> {out}')


if __name__ == '__main__':
    main()
