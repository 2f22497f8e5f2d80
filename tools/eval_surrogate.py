"""Evaluate a pre-trained LS-ED surrogate on held-out pairs.

Prints mean |ê − e|, Spearman ρ, Kendall τ, the error per true edit distance
and gradient-norm statistics; writes them as JSON and a PNG scatter of ê
against e into --out-dir.
"""
import argparse
import json
import os
import os.path as osp

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

import lsmmocr  # noqa: F401,E402  (registration)
from lsmmocr.surrogates import build_surrogate, load_surrogate_file  # noqa: E402
from lsmmocr.surrogates.pretrain import (fidelity, held_out_pairs,  # noqa: E402
                                         surrogate_spec)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='the LS-ED post-tuning config')
    parser.add_argument('checkpoint', help='surrogate checkpoint')
    parser.add_argument('--num-pairs', type=int, default=2000)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--out-dir', default='work_dirs/surrogate_eval')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def scatter(e, e_hat, path: str, title: str) -> None:
    """ê against e, with the identity line."""
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(e, e_hat, s=4, alpha=0.3)
    top = max(e.max(), e_hat.max())
    ax.plot([0, top], [0, top], 'k--', lw=1)
    ax.set_xlabel('true edit distance e')
    ax.set_ylabel('surrogate ê')
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    layout = surrogate_spec(cfg)['layout']
    state = load_surrogate_file(args.checkpoint, layout)
    surrogate = build_surrogate(state['meta']['surrogate'], layout)
    surrogate.load_state_dict(state['state_dict'])
    fid = fidelity(surrogate.eval(), held_out_pairs(layout, args.num_pairs,
                                                    args.seed))
    os.makedirs(args.out_dir, exist_ok=True)
    e, e_hat = fid.pop('e'), fid.pop('e_hat')
    print(f'pairs: {len(e)}  |ê-e|: {fid["mae"]:.3f}  Spearman: '
          f'{fid["spearman"]:.4f}  Kendall: {fid["kendall"]:.4f}\n'
          f'‖∇z ê‖: mean {fid["grad_norm_mean"]:.3f}, median '
          f'{fid["grad_norm_median"]:.3f}, p95 {fid["grad_norm_p95"]:.3f}\n'
          'true ED: count, mean |ê-e|')
    for k, (n, err) in fid['mae_by_ed'].items():
        print(f'  {k:3d}: {n:5d}  {err:.3f}')
    with open(osp.join(args.out_dir, 'fidelity.json'), 'w') as f:
        json.dump(fid, f, indent=2)
    png = osp.join(args.out_dir, 'scatter.png')
    scatter(e, e_hat, png, f'Spearman {fid["spearman"]:.3f}, '
            f'|ê-e| {fid["mae"]:.2f}')
    print(f'wrote {args.out_dir}/fidelity.json and {png}')


if __name__ == '__main__':
    main()
