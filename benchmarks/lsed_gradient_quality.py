"""Gradient quality of LS-ED surrogates on a trained recognizer's predictions.

For each surrogate checkpoint: take the recognizer's logits on held-out crops
(the test split, read at the training width), step them along the normalised
negative gradient of ê (the post-tuning loss as configured), of the proxy loss
and of a random direction, at each step size; print the total edit distance
(TED) after each step, for all crops and (in brackets) for the crops decoded
wrongly before the step, and the cosine between ∇ê and ∇proxy. Seconds per
surrogate. Example::

    python benchmarks/lsed_gradient_quality.py \\
        configs/textrecog/crnn/crnn_mini-vgg_lsed_synth.py \\
        work_dirs/main_job/baseline/iter_3000.pth \\
        work_dirs/main_job/surrogate.pth other_surrogate.pth
"""
import argparse
import json
import os.path as osp
import time

from mmengine.config import DictAction

import lsmmocr  # noqa: F401  (registration)
from lsmmocr.diagnostics import gradient_quality, load_instrument, markdown_rows
from lsmmocr.surrogates.checkpoint import load_surrogate
from lsmmocr.utils import load_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='LS-ED post-tuning config')
    parser.add_argument('checkpoint', help='the trained recognizer')
    parser.add_argument('surrogates', nargs='+', help='surrogate checkpoints')
    parser.add_argument('--step-sizes', type=float, nargs='+',
                        default=[1, 2, 4, 8, 16])
    parser.add_argument('--num-samples', type=int, default=500)
    parser.add_argument('--json', help='also write the results here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides, e.g. the loss settings '
                        'post_tune.module_loss.proxy_weight=1')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    inst = load_instrument(cfg, args.checkpoint, args.surrogates[0],
                           args.num_samples)
    sizes = ' | '.join(f'step {s:g}' for s in args.step_sizes)
    print(f'\n| surrogate | direction | cos(∇, ∇proxy) | TED before | {sizes} |\n'
          f'|---|---|---|---|{"---|" * len(args.step_sizes)}')
    results = {}
    for path in args.surrogates:
        lsed = inst['losses']['lsed']
        lsed.attach_surrogate(
            load_surrogate(path, lsed.layout, check_targets=True).eval())
        t0 = time.time()
        res = gradient_quality(inst['outputs'], inst['losses'], args.step_sizes)
        res['seconds'] = time.time() - t0
        results[path] = res
        name = osp.basename(path)
        print(markdown_rows(name, res))
        print(f'| {name} | {res["num"]} crops, {res["num_wrong"]} wrong; '
              f'{res["seconds"]:.1f} s |', flush=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()
