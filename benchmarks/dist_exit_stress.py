"""Stress the exit of two-process (gloo) training: run each post-tuning
config N times as a user does (``torch.distributed.run --standalone
--nproc_per_node=2 tools/train.py CONFIG --launcher pytorch``, 3 iterations
on a tiny rendered set, no checkpoint needed to start) and count the runs
whose launcher reports failure, e.g. a rank that aborts at interpreter exit
(``terminate called without an active exception``).

Prints one line per failed run and a table of failures per config.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsmmocr.cli import check_args
from lsmmocr.datasets import make_synth_dataset
from lsmmocr.utils import mmocr_dict_file

REPO = Path(__file__).resolve().parents[1]
CONFIGS = dict(
    lsed='configs/textrecog/crnn/crnn_mini-vgg_lsed_synth.py',
    dynamic='configs/textrecog/crnn/crnn_mini-vgg_dynamic_synth.py',
    lsiou='configs/textdet/rbox/rbox_resnet18_fpnc_lsiou_synth.py')
OPTIONS = ['post_tune.overrides.train_cfg.max_iters=3',
           'post_tune.overrides.train_cfg.val_interval=1000',
           'post_tune.overrides.default_hooks.checkpoint.interval=3',
           'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
           'train_dataloader.persistent_workers=False',
           'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
           'randomness.seed=0', 'load_from=None']


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--runs', type=int, default=20,
                        help='runs per config (default: %(default)s)')
    parser.add_argument('--configs', nargs='+', choices=sorted(CONFIGS),
                        default=sorted(CONFIGS))
    parser.add_argument('--timeout', type=int, default=600,
                        help='seconds before one run counts as hung')
    args = parser.parse_args()
    check_args(parser, args, positive=('runs', 'timeout'))
    return args


def one_run(config: str, data: Path, work: Path, timeout: int) -> str:
    """'' if the run exited 0, else why it did not."""
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone',
           '--nproc_per_node=2', 'tools/train.py', config, '--launcher',
           'pytorch', '--work-dir', str(work), '--cfg-options', *OPTIONS]
    env = dict(os.environ, LSMMOCR_SYNTH_ROOT=str(data / 'rec'),
               LSMMOCR_SYNTH_DET_ROOT=str(data / 'det'))
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f'hung for {timeout} s'
    if proc.returncode == 0:
        return ''
    lines = [ln for ln in proc.stderr.splitlines()
             if 'terminate called' in ln or 'exitcode' in ln or 'Error' in ln]
    return f'exit {proc.returncode}: ' + ' | '.join(lines[:4])


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        dict_file = mmocr_dict_file('lower_english_digits.txt')
        make_synth_dataset(str(data / 'rec'), dict_file, dict(train=16),
                           max_len=8)
        make_synth_dataset(str(data / 'det'), dict_file, dict(train=8),
                           task='textdet')
        failures = {}
        for name in args.configs:
            t0, failed = time.time(), 0
            for i in range(args.runs):
                why = one_run(CONFIGS[name], data, data / f'work_{name}_{i}',
                              args.timeout)
                failed += bool(why)
                print(f'{name} run {i + 1}/{args.runs}: {why or "ok"} '
                      f'({failed} failed, {time.time() - t0:.0f} s)', flush=True)
            failures[name] = (failed, time.time() - t0)
    print(f'\n{"config":<10}{"runs":>6}{"failed":>8}{"s/run":>8}')
    for name, (failed, secs) in failures.items():
        print(f'{name:<10}{args.runs:>6}{failed:>8}{secs / args.runs:>8.1f}')


if __name__ == '__main__':
    main()
