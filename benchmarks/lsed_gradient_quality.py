"""Gradient quality of LS-ED surrogates on a trained recognizer's predictions.

For each surrogate checkpoint: take the recognizer's logits on held-out crops
(the test split, read at the training width), step them along the normalised
negative gradient of ê (the post-tuning loss as configured), of the proxy loss
and of a random direction, at each step size; print the total edit distance
(TED) after each step, for all crops and (in brackets) for the crops decoded
wrongly before the step, and the cosine between ∇ê and ∇proxy. Seconds per
surrogate.

``--parameter-step`` takes the step in the recognizer's *weights* instead, as
post-tuning does: each loss's gradient over the first ``--batches`` batches of
``--grad-split``, Adam's first update (−lr · sign g) at each ``--lrs``, and the
test TED after it (``lsmmocr.diagnostics.parameter_step``). Example::

    python benchmarks/lsed_gradient_quality.py \\
        configs/textrecog/crnn/crnn_mini-vgg_lsed_synth.py \\
        work_dirs/main_job/baseline/iter_3000.pth \\
        work_dirs/main_job/surrogate.pth other_surrogate.pth [--parameter-step]

``--trajectory`` follows each loss over ``--steps`` real Adam steps (lr the
first of ``--lrs``) on the config's own training batches (``--batch-size``;
an ``_online`` config gives batches never seen), Φ frozen, and prints test
TED, wrong crops, and the first surrogate's mean ê on the crops decoded right
and wrong after each probed step. ``--energies`` adds the energy model E_ψ
of dynamic-loss runs (their checkpoints), frozen like h_Φ, alone and beside
the proxy (as the dynamic-loss arm trains).
"""
import argparse
import json
import os.path as osp
import time
from itertools import islice

import torch
from mmengine.config import DictAction
from mmengine.runner import Runner

import lsmmocr  # noqa: F401  (registration)
from lsmmocr.diagnostics import gradient_quality, load_instrument, markdown_rows
from lsmmocr.diagnostics.gradient_quality import first_batches, training_width_loader
from lsmmocr.diagnostics.parameter_step import (markdown, parameter_step_quality,
                                                training_trajectory,
                                                trajectory_markdown)
from lsmmocr.engine.post_tune_runner import apply_post_tune
from lsmmocr.losses import DynamicEnergyModuleLoss
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
    parser.add_argument('--num-samples', type=int, default=500,
                        help='test crops scored (the first ones; every mode)')
    parser.add_argument('--json', help='also write the results here')
    parser.add_argument('--parameter-step', action='store_true',
                        help='step the weights, not the logits')
    parser.add_argument('--lrs', type=float, nargs='+',
                        default=[1e-4, 3e-4, 1e-3, 3e-3],
                        help='--parameter-step: Adam learning rates')
    parser.add_argument('--batches', type=int, default=8,
                        help='--parameter-step: batches the gradient is taken over')
    parser.add_argument('--grad-split', default='train',
                        help='--parameter-step: split of the gradient: train '
                        '(what post-tuning reads) or val (unseen crops)')
    parser.add_argument('--trajectory', action='store_true',
                        help='K real Adam steps of each loss, probed at --steps')
    parser.add_argument('--steps', type=int, nargs='+', default=[0, 10, 20, 40, 80],
                        help='--trajectory: steps after which to probe')
    parser.add_argument('--batch-size', type=int, default=16,
                        help='--trajectory: the post-tuning batch size')
    parser.add_argument('--energies', nargs='+', default=[],
                        help='--parameter-step / --trajectory: also score '
                        'E_ψ of these dynamic-loss post-tuning checkpoints')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides, e.g. the loss settings '
                        'post_tune.module_loss.proxy_weight=1')
    return parser.parse_args()


def attached(lsed, surrogate):
    """``lsed`` computed with ``surrogate`` (attached when called)."""
    def loss(logits, samples):
        lsed.attach(surrogate)
        return lsed(logits, samples)
    return loss


def weight_space_losses(args, inst) -> dict:
    """The proxy, expected-risk, each surrogate's ê and each energy's E_ψ,
    by name."""
    lsed = inst['losses']['lsed']
    losses = dict(proxy=inst['losses']['proxy'],
                  expected_risk=inst['losses']['expected_risk'])
    for path in args.surrogates:
        sur = load_surrogate(path, lsed.layout, check_targets=True).eval()
        losses[f'ê {osp.basename(path)}'] = attached(lsed, sur)
    for path in args.energies:
        energy = load_surrogate(path, lsed.layout, check_targets=True).eval()
        run = osp.basename(osp.dirname(osp.abspath(path)))
        for weight, name in ((0.0, f'E_ψ {run}'), (1.0, f'proxy + E_ψ {run}')):
            losses[name] = DynamicEnergyModuleLoss.beside(
                lsed, inst['model'].decoder, energy, proxy_weight=weight)
    return losses


def trajectory(args, cfg) -> None:
    inst = load_instrument(cfg, args.checkpoint, args.surrogates[0], 1)
    posttune = apply_post_tune(cfg.copy())
    loader = posttune.train_dataloader.copy()
    loader.update(batch_size=args.batch_size, num_workers=0,
                  persistent_workers=False)
    batches = list(islice(Runner.build_dataloader(loader, seed=0), max(args.steps)))
    test = first_batches(posttune, 'test', args.num_samples)
    lsed = inst['losses']['lsed']
    runs = {}
    for name, fn in weight_space_losses(args, inst).items():
        with torch.random.fork_rng(devices=[]):  # sampling losses: seeded
            torch.manual_seed(0)
            runs[name] = training_trajectory(
                inst['model'], fn, lsed, batches, test, args.lrs[0],
                args.steps, surrogate=lsed.network)
        print(f'{name}: done', flush=True)
    print(f'\n{max(args.steps)} Adam steps (lr {args.lrs[0]:g}, batch '
          f'{args.batch_size}); TED on the test split; ê of '
          f'{osp.basename(args.surrogates[0])}:\n')
    print(trajectory_markdown(runs))


def parameter_step(args, cfg) -> None:
    inst = load_instrument(cfg, args.checkpoint, args.surrogates[0], 1)
    posttune = apply_post_tune(cfg.copy())
    grad = Runner.build_dataloader(training_width_loader(posttune, args.grad_split))
    test = first_batches(posttune, 'test', args.num_samples)
    res = parameter_step_quality(inst['model'], weight_space_losses(args, inst),
                                 inst['losses']['lsed'], grad, test,
                                 args.batches, args.lrs)
    print(f'\ngradient over {args.batches} {args.grad_split} batches; '
          f'TED on the test split after one Adam first step:\n')
    print(markdown(res))


def main() -> None:
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    if args.trajectory:
        return trajectory(args, cfg)
    if args.parameter_step:
        return parameter_step(args, cfg)
    inst = load_instrument(cfg, args.checkpoint, args.surrogates[0],
                           args.num_samples)
    sizes = ' | '.join(f'step {s:g}' for s in args.step_sizes)
    print(f'\n| surrogate | direction | cos(∇, ∇proxy) | TED before | {sizes} |\n'
          f'|---|---|---|---|{"---|" * len(args.step_sizes)}')
    results = {}
    for path in args.surrogates:
        lsed = inst['losses']['lsed']
        lsed.attach(
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
