"""Post-tuning step time: LS-ED vs the plain proxy loss, same batch.

One LS-ED step = the recognizer's forward/backward/update on ê plus the
surrogate trainer's ``inner_steps`` Φ updates (pair sampling, edit-distance
labels, the fit loss and its gradient-norm diagnostic). The peer is the same
recognizer's step on its own proxy loss (CTC or CE). Prints seconds per step
and the ratio, for CRNN (CTC) and one attention model.
"""
import argparse
import os.path as osp
import statistics
import tempfile
import time

import torch
from mmengine.config import Config

import lsmmocr  # noqa: F401
from lsmmocr.datasets import make_synth_dataset
from lsmmocr.engine import PostTuneRunner
from lsmmocr.hooks import LearnedSurrogateHook
from lsmmocr.utils import mmocr_dict_file, train_on_synth_split

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODELS = dict(
    crnn='configs/textrecog/crnn/crnn_mini-vgg_lsed.py',
    nrtr='configs/textrecog/nrtr/nrtr_modality-transform_lsed.py',
    aster='configs/textrecog/aster/aster_lsed.py',
    svtr='configs/textrecog/svtr/svtr-tiny_lsed.py')


ARMS = ('proxy', 'lsed', 'monitored')
# The LS-ED base config's exploitation-monitor interval (its default).
MONITOR_INTERVAL = Config.fromfile(osp.join(
    REPO, 'configs/_base_/lsed_posttune.py')).post_tune.trainer.monitor_interval


def build(cfg_path: str, data_root: str, work_dir: str, batch_size: int,
          arm: str):
    """A runner ready to step: ``proxy`` (no LS-ED), ``lsed`` (the
    exploitation monitor off; the step clock never advances it) or
    ``monitored`` (the monitor's extra forward pass at every step)."""
    cfg = train_on_synth_split(Config.fromfile(osp.join(REPO, cfg_path)),
                               data_root, batch_size)
    cfg.update(work_dir=work_dir, load_from=None)
    if arm == 'proxy':
        cfg.merge_from_dict({'post_tune.module_loss': None,
                             'post_tune.trainer': None})
    else:
        cfg.merge_from_dict({'post_tune.trainer.monitor_interval':
                             int(arm == 'monitored')})
    runner = PostTuneRunner.from_cfg(cfg)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.call_hook('before_run')
    hooks = [h for h in runner.hooks if isinstance(h, LearnedSurrogateHook)]
    return runner, hooks


def step(runner, hooks, batch, i: int) -> float:
    """Seconds of one post-tuning step (the recognizer's, then the hooks')."""
    t0 = time.perf_counter()
    runner.model.train_step(batch, optim_wrapper=runner.optim_wrapper)
    for hook in hooks:
        hook.after_train_iter(runner, i, batch)
    return time.perf_counter() - t0


def interleaved_medians(runs: dict, steps: int, warmup: int) -> dict:
    """Median seconds per step of each ``(runner, hooks, batch)``, their
    steps taken in turn so that load changes hit all of them alike."""
    times = {k: [] for k in runs}
    for i in range(warmup + steps):
        for k, (runner, hooks, batch) in runs.items():
            t = step(runner, hooks, batch, i)
            if i >= warmup:
                times[k].append(t)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--models', nargs='+', default=['crnn', 'nrtr'],
                        choices=sorted(MODELS))
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        make_synth_dataset(tmp, mmocr_dict_file('lower_english_digits.txt'),
                           dict(train=args.batch_size), seed=0, max_len=10)
        print(f'batch {args.batch_size}, {args.steps} timed steps each '
              f'(interleaved, median) after {args.warmup} warm-up, '
              f'{args.threads} threads')
        for name in args.models:
            runs = {}
            for arm in ARMS:
                runner, hooks = build(MODELS[name], tmp,
                                      osp.join(tmp, f'{name}_{arm}'),
                                      args.batch_size, arm)
                runs[arm] = (runner, hooks, next(iter(runner.train_dataloader)))
            t = interleaved_medians(runs, args.steps, args.warmup)
            # The monitor runs every `monitor_interval` steps.
            default = t['lsed'] + (t['monitored'] - t['lsed']) / MONITOR_INTERVAL
            print(f'{name:6s} proxy {t["proxy"]:.3f} s/step  LS-ED '
                  f'{t["lsed"]:.3f} s/step (+ monitor every step '
                  f'{t["monitored"]:.3f}; every {MONITOR_INTERVAL}th, the '
                  f'default: {default:.3f})  ratio {default / t["proxy"]:.2f}x')


if __name__ == '__main__':
    main()
