"""Post-tuning step time: LS-ED vs the plain proxy loss, same batch.

One LS-ED step = the recognizer's forward/backward/update on ê plus the
surrogate trainer's ``inner_steps`` Φ updates (pair sampling, edit-distance
labels, the fit loss and its gradient-norm diagnostic). The peer is the same
recognizer's step on its own proxy loss (CTC or CE). Prints seconds per step
and the ratio, for CRNN (CTC) and one attention model.
"""
import argparse
import os.path as osp
import tempfile
import time

import torch
from mmengine.config import Config

import lsmmocr  # noqa: F401
from lsmmocr.datasets import make_synth_dataset
from lsmmocr.engine import PostTuneRunner
from lsmmocr.hooks import SurrogateTrainerHook
from lsmmocr.utils import mmocr_dict_file, train_on_synth_split

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODELS = dict(
    crnn='configs/textrecog/crnn/crnn_mini-vgg_lsed.py',
    nrtr='configs/textrecog/nrtr/nrtr_modality-transform_lsed.py',
    aster='configs/textrecog/aster/aster_lsed.py',
    svtr='configs/textrecog/svtr/svtr-tiny_lsed.py')


def build(cfg_path: str, data_root: str, work_dir: str, batch_size: int,
          lsed: bool):
    cfg = train_on_synth_split(Config.fromfile(osp.join(REPO, cfg_path)),
                               data_root, batch_size)
    cfg.update(work_dir=work_dir, load_from=None)
    if not lsed:
        cfg.merge_from_dict({'post_tune.module_loss': None,
                             'post_tune.surrogate_trainer': None})
    runner = PostTuneRunner.from_cfg(cfg)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.call_hook('before_run')
    hooks = [h for h in runner.hooks if isinstance(h, SurrogateTrainerHook)]
    return runner, hooks


def seconds_per_step(runner, hooks, batch, steps: int, warmup: int) -> float:
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        runner.model.train_step(batch, optim_wrapper=runner.optim_wrapper)
        for hook in hooks:
            hook.after_train_iter(runner, i, batch)
        times.append(time.perf_counter() - t0)
    return sum(times[warmup:]) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--models', nargs='+', default=['crnn', 'nrtr'],
                        choices=sorted(MODELS))
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        make_synth_dataset(tmp, mmocr_dict_file('lower_english_digits.txt'),
                           dict(train=args.batch_size), seed=0, max_len=10)
        print(f'batch {args.batch_size}, {args.steps} timed steps after '
              f'{args.warmup} warm-up, {args.threads} threads')
        for name in args.models:
            res = {}
            for lsed in (False, True):
                runner, hooks = build(MODELS[name], tmp, osp.join(tmp, name),
                                      args.batch_size, lsed)
                batch = next(iter(runner.train_dataloader))
                res[lsed] = seconds_per_step(runner, hooks, batch, args.steps,
                                             args.warmup)
            print(f'{name:6s} proxy {res[False]:.3f} s/step  LS-ED '
                  f'{res[True]:.3f} s/step  ratio {res[True] / res[False]:.2f}x')


if __name__ == '__main__':
    main()
