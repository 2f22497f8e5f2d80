"""The main job: a recognizer post-tuned with LS-ED against the same recognizer
post-tuned with its own proxy loss (control) and with the expected edit
distance (expected risk) -- and, with --arms ... dynamic (dynamic_unrolled,
dynamic_margin), with a learned dynamic loss (an energy model trained with
implicit gradients, or its one-step and margin variants) -- for the same time,
on built-in synthetic data (generated if missing), evaluated on a test split in
unseen fonts. `--regime converged` post-tunes the converged readers shipped in
artifacts/readers/ on fresh crops of the font stream instead, validating on
total edit distance and evaluating every arm at its best validation checkpoint.
`--task textdet` runs the detection job instead: LS-IoU vs its control on the
RBox detector (`--task textdet --help` lists its options).

Writes <work-dir>/report.md and report.json (table: word accuracy, total edit
distance, NED both ways, CER, relative changes vs control),
surrogate_scatter.png (ê vs e) and, per seed, curves.png (training curves).
"""
import argparse
from dataclasses import fields
from typing import Union

from lsmmocr.cli import check_args, user_errors_exit
from lsmmocr.engine import shipped_path
from lsmmocr.experiments import detection_job
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


TASKS = ('textrecog', 'textdet')


def task_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--task', choices=TASKS, default='textrecog',
                        help='textrecog (default: LS-ED on a recognizer) or '
                        'textdet (LS-IoU on the RBox detector)')


def add_fields(parser: argparse.ArgumentParser, config: type,
               skip: tuple = ()) -> None:
    """One ``--flag`` per field of the dataclass ``config``."""
    for f in fields(config):
        if f.name in skip:
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
            parser.add_argument(flag, type=type(f.default),
                                help=f.metadata.get('help'))


def resolve_shipped(ns: argparse.Namespace) -> None:
    """Shipped weights given by name (``lsmmocr://<kind>/<name>``) as paths."""
    for name in ('baseline_checkpoint', 'surrogate_checkpoint'):
        if getattr(ns, name):
            setattr(ns, name, shipped_path(getattr(ns, name)))


def parse_detection_args() -> detection_job.DetectionJob:
    parser = argparse.ArgumentParser(
        description=detection_job.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    task_argument(parser)
    add_fields(parser, detection_job.DetectionJob, skip=('scenes',))
    parser.add_argument('--scenes', choices=sorted(detection_job.SCENES),
                        help='hard (default: dense, rotated, perspective '
                        'scenes) or easy (the built-in scenes)')
    ns = parser.parse_args()
    resolve_shipped(ns)
    check_args(parser, ns, positive=('posttune_iters', 'batch_size', 'lr',
                                     'surrogate_iters'),
               non_negative=('seeds', 'num_plot'), out_dirs=('work_dir',),
               files=('baseline_checkpoint', 'surrogate_checkpoint'))
    args = {k: v for k, v in vars(ns).items() if v is not None and k != 'task'}
    return detection_job.DetectionJob(**args)


def parse_args() -> Union[JobConfig, detection_job.DetectionJob]:
    pre = argparse.ArgumentParser(add_help=False)
    task_argument(pre)
    if pre.parse_known_args()[0].task == 'textdet':
        return parse_detection_args()
    parser = argparse.ArgumentParser(description=__doc__)
    task_argument(parser)
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
    add_fields(parser, JobConfig, skip=('model', 'regime'))
    ns = parser.parse_args()
    resolve_shipped(ns)
    check_args(parser, ns, positive=POSITIVE, non_negative=NON_NEGATIVE,
               files=('baseline_checkpoint', 'surrogate_checkpoint'),
               out_dirs=('work_dir', 'data_root'))
    args = vars(ns)
    del args['task']
    regime = args['regime'] or 'small'
    job = dict(REGIME_DEFAULTS[regime])
    job.update(PRESETS.get(args.pop('preset'), {}), **REGIME_FIXED[regime])
    job.update({k: v for k, v in args.items() if v is not None})
    return JobConfig(**job)


@user_errors_exit
def main() -> None:
    job = parse_args()
    (detection_job.run if isinstance(job, detection_job.DetectionJob) else run)(job)


if __name__ == '__main__':
    main()
