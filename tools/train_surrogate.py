"""Globally pre-train a learned-surrogate h_Φ: LS-ED or LS-IoU.

LS-ED: the config is an LS-ED post-tuning config; it fixes the dictionary, the
decoder layout (CTC frames or attention positions) and h_Φ's architecture; only
random texts and random edits are used. Point the config's
``post_tune.trainer.pretrained`` at the output.
LS-IoU: the config names a ``surrogate_task`` (e.g.
``configs/surrogates/lsiou_rotated_boxes.py``); random rotated boxes and
perturbations of them, labelled with mmcv's exact rotated IoU, are used.
No data and no model are needed for either.
"""
import argparse
import os.path as osp
import time

from mmengine.config import DictAction

import lsmmocr  # noqa: F401  (registration)
from lsmmocr.cli import check_args, user_errors_exit
from lsmmocr.engine import config_task
from lsmmocr.surrogates.pretrain import fidelity, pretrain_surrogate
from lsmmocr.utils import load_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='an LS-ED post-tuning config, or a '
                        'config with a surrogate_task (LS-IoU)')
    parser.add_argument('--out', help='output checkpoint (default: '
                        'work_dirs/surrogates/<config name>.pth)')
    parser.add_argument('--iters', type=int, default=3000)
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--save-every', type=int, default=500)
    parser.add_argument('--resume', action='store_true',
                        help='continue an interrupted run from --out')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args()
    check_args(parser, args,
               files=('config', ),
               positive=('iters', 'batch_size', 'lr', 'save_every'),
               out_files=('out', ))
    return args


def main() -> None:
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    out = args.out or osp.join(
        'work_dirs', 'surrogates',
        osp.splitext(osp.basename(args.config))[0] + '.pth')
    task = config_task(cfg)
    print(f'space: {task.space.meta()}; surrogate: {task.surrogate}')
    t0 = time.time()
    surrogate = pretrain_surrogate(
        task, out, iters=args.iters, batch_size=args.batch_size, lr=args.lr,
        seed=args.seed, save_every=args.save_every, resume=args.resume,
        device=args.device)
    fid = fidelity(surrogate.eval(), task.held_out_pairs(1000, args.seed), task)
    print(f'done in {time.time() - t0:.0f} s -> {out}\n'
          f'held-out: |ê-e| {fid["mae"]:.3f}, Spearman {fid["spearman"]:.4f}, '
          f'Kendall {fid["kendall"]:.4f}')


if __name__ == '__main__':
    user_errors_exit(main)()
