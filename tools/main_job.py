"""The main job: a recognizer post-tuned with LS-ED against the same recognizer
post-tuned with its own proxy loss (control) and with the expected edit
distance (expected risk) -- and, with --arms ... dynamic (dynamic_unrolled,
dynamic_margin), with a learned dynamic loss (an energy model trained with
implicit gradients, or its one-step and margin variants) -- for the same time,
on built-in synthetic data (generated if missing), evaluated on a test split in
unseen fonts. `--regime converged` post-tunes the converged readers shipped in
artifacts/readers/ on fresh crops of the font stream instead, validating on
total edit distance and evaluating every arm at its best validation checkpoint.

Writes <work-dir>/report.md and report.json (table: word accuracy, total edit
distance, NED both ways, CER, relative changes vs control),
surrogate_scatter.png (ê vs e) and, per seed, curves.png (training curves).
"""
import argparse
from dataclasses import fields

from lsmmocr.cli import check_args, user_errors_exit
from lsmmocr.engine import shipped_path
from lsmmocr.experiments.main_job import ARMS, DEFAULT_ARMS, REGIMES, JobConfig, run

PRESETS = {
    # Tiny sizes for tests: minutes become seconds.
    'quick': dict(num_train=64, num_val=8, num_test=16, baseline_iters=4,
                  converge_iters=2, posttune_iters=2, surrogate_iters=4,
                  surrogate_batch_size=16, batch_size=8, energy_warmup_iters=2),
    # A longer, stronger run.
    'long': dict(num_train=40000, num_test=2000, baseline_iters=6000,
                 posttune_iters=1500, surrogate_iters=6000, seeds=[0, 1, 2]),
}
# Each regime's defaults (a preset, then the flags given, override them),
# and what it fixes against a preset (flags given are checked instead).
REGIME_DEFAULTS = {
    'small': {},
    # "LS-ED vs its control on converged readers": >= 1000 iterations on
    # fresh crops, validation TED every 100 on 1000 validation-family crops,
    # the 5000-crop unseen-family test set, 3 seeds.
    'converged': dict(posttune_iters=1000, val_interval=100, num_val=1000,
                      num_test=5000, seeds=[0, 1, 2]),
}
REGIME_FIXED = {'small': {}, 'converged': dict(converge_iters=0)}

# Sizes that must be positive, and settings that must not be negative.
POSITIVE = ('num_train', 'num_test', 'baseline_iters', 'posttune_iters',
            'surrogate_iters', 'surrogate_batch_size', 'batch_size', 'lr',
            'surrogate_lr', 'risk_samples')
NON_NEGATIVE = ('seeds', 'num_val', 'converge_iters', 'val_interval',
                'inner_steps', 'warmup_iters', 'fit_value_weight',
                'fit_rank_weight',
                'grad_penalty', 'max_edits', 'proxy_weight', 'switch_iter',
                'expected_weight',
                'correct_weight', 'energy_warmup_iters', 'energy_margin_weight',
                'energy_proxy_weight')


def parse_args() -> JobConfig:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--preset', choices=sorted(PRESETS),
                        help='quick (for tests) or long (stronger)')
    parser.add_argument('--model', choices=sorted(
        {m for models, _ in REGIMES.values() for m in models}),
                        help='crnn (CTC, default), aster (mini-VGG + BiLSTM + '
                        'attention decoder, the paper\'s setting in miniature) '
                        'or nrtr (small regime only)')
    parser.add_argument('--regime', choices=sorted(REGIMES),
                        help='small (default: a baseline trained here on a '
                        'few thousand crops) or converged (the shipped font '
                        'readers, post-tuned on the font stream; defaults: '
                        f'{REGIME_DEFAULTS["converged"]})')
    for f in fields(JobConfig):
        if f.name in ('model', 'regime'):
            continue
        flag = '--' + f.name.replace('_', '-')
        if f.name == 'seeds':
            parser.add_argument(flag, type=int, nargs='+')
        elif f.name == 'arms':
            parser.add_argument(flag, nargs='+', choices=ARMS,
                                help='post-tuning arms (default: '
                                f'{" ".join(DEFAULT_ARMS)})')
        elif isinstance(f.default, bool):
            parser.add_argument(flag, type=lambda v: v.lower() in ('1', 'true'),
                                metavar='{true,false}')
        else:
            parser.add_argument(flag, type=type(f.default))
    ns = parser.parse_args()
    for name in ('baseline_checkpoint', 'surrogate_checkpoint'):
        if getattr(ns, name):  # shipped weights by name: lsmmocr://<kind>/<name>
            setattr(ns, name, shipped_path(getattr(ns, name)))
    check_args(parser, ns, positive=POSITIVE, non_negative=NON_NEGATIVE,
               files=('baseline_checkpoint', 'surrogate_checkpoint'),
               out_dirs=('work_dir', 'data_root'))
    args = vars(ns)
    regime = args['regime'] or 'small'
    job = dict(REGIME_DEFAULTS[regime])
    job.update(PRESETS.get(args.pop('preset'), {}), **REGIME_FIXED[regime])
    job.update({k: v for k, v in args.items() if v is not None})
    return JobConfig(**job)


@user_errors_exit
def main() -> None:
    run(parse_args())


if __name__ == '__main__':
    main()
