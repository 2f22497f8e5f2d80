"""Ship the main job's baseline and pre-trained h_Φ in ``artifacts/``.

A fresh clone's default run (``make demo``) then post-tunes at once instead of
training both first (about 18 of its 21 minutes on a machine whose CRNN step
takes 0.27 s, three times that on the slower machines of the kind). Each file
is written weights-only, keyed by the settings that made it, and recorded in
``artifacts/manifest.json`` with its provenance, the package versions and the
figures it gives (baseline: test metrics; h_Φ: held-out fidelity), which the
tests reproduce.

By default the files are taken from the artifact cache, where
``tools/main_job.py --use-shipped false`` (same other options) leaves them;
``--baseline`` / ``--surrogate`` name files made by those settings instead.

``--regime converged`` ships h_Φ only (the readers ship with
``tools/ship_model.py``): the file ``tools/train_surrogate.py`` made for the
reader's LS-ED config with the job's pre-training settings (``--iters``
``--batch-size`` at their defaults, the fit weights given here), so that
``tools/main_job.py --regime converged`` finds it.
"""
import argparse
import datetime
import os.path as osp
import tempfile

from lsmmocr.cli import check_args, user_errors_exit
from lsmmocr.experiments.artifact_cache import (ArtifactCache, artifact_key,
                                                checkout_commit)
from lsmmocr.experiments.main_job import (REGIMES, JobConfig, baseline_run, ensure_data,
                                          evaluate, held_out_fidelity,
                                          job_surrogate_spec, surrogate_parts)
from lsmmocr.experiments.training_runs import artifact_parts


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--model', default='crnn', choices=sorted(
        {m for models, _ in REGIMES.values() for m in models}))
    parser.add_argument('--regime', choices=sorted(REGIMES), default='small')
    parser.add_argument('--fit-value-weight', type=float, default=1.0)
    parser.add_argument('--fit-rank-weight', type=float, default=0.0)
    parser.add_argument('--data-root', default='data/synth')
    parser.add_argument('--baseline', help='the baseline checkpoint to ship '
                        '(default: the cached one)')
    parser.add_argument('--surrogate', help='the h_Φ checkpoint to ship '
                        '(default: the cached one)')
    args = parser.parse_args()
    check_args(parser, args,
               non_negative=('fit_value_weight', 'fit_rank_weight'),
               files=('baseline', 'surrogate'),
               out_dirs=('data_root', ))
    return args


def source(kind: str, parts: dict, given: str) -> str:
    """``given``, else the cached artifact of ``parts``."""
    path = given or ArtifactCache(kind).get(artifact_key(**parts))
    if not path or not osp.isfile(path):
        raise SystemExit(
            f'no {kind} to ship ({given or "not in the artifact cache"}): run '
            'tools/main_job.py --use-shipped false first, or name the file')
    return path


@user_errors_exit
def main() -> None:
    args = parse_args()
    job = JobConfig(model=args.model, data_root=args.data_root,
                    regime=args.regime, fit_value_weight=args.fit_value_weight,
                    fit_rank_weight=args.fit_rank_weight)
    job.check()
    made = dict(date=datetime.date.today().isoformat(), commit=checkout_commit(),
                made_by=f'tools/main_job.py --model {args.model} '
                '--use-shipped false')
    if job.regime == 'small':
        ship_baseline(job, args.baseline, made)
    else:
        fit = ' '.join(f'post_tune.trainer.task.fit_loss.{k}={v}'
                       for k, v in job.fit_cfg().items())
        made['made_by'] = (
            f'tools/train_surrogate.py {job.posttune_config("lsed")} --iters '
            f'{job.surrogate_iters} --batch-size {job.surrogate_batch_size}'
            + (f' --cfg-options {fit}' if fit else ''))
    spec = job_surrogate_spec(job)
    parts = surrogate_parts(job, spec)
    path = source('surrogate', parts, args.surrogate)
    fid = held_out_fidelity(spec, path)
    held_out = {k: fid[k] for k in ('mae', 'mae_near', 'spearman')}
    print(f'surrogate {path}: {held_out}')
    print('->', ArtifactCache('surrogate').ship(parts, path, dict(
        made, held_out=held_out)))


def ship_baseline(job: JobConfig, given: str, made: dict) -> None:
    """Ship the small regime's baseline (with its test metrics)."""
    ensure_data(job)
    cfg, options, cache = baseline_run(job)
    parts = artifact_parts(cfg, options, cache)
    path = source('baseline', parts, given)
    with tempfile.TemporaryDirectory() as tmp:
        metrics = evaluate(job, path, tmp)
    print(f'baseline {path}: {metrics}')
    print('->', ArtifactCache('baseline').ship(parts, path, dict(
        made, test_metrics=metrics)))


if __name__ == '__main__':
    main()
