"""The main job: baseline -> LS-ED post-tuning vs a fair control, with a report.

Train a recognizer with its proxy loss until it reads (or take
``baseline_checkpoint``) and pre-train the surrogate on global pairs, both once
and shared by the seeds; then, per seed, post-tune the baseline three times
with the same schedule and iterations -- *control* (proxy loss), *LS-ED*
(local-global) and *expected risk* (the sampled expected edit distance,
:class:`ExpectedRiskModuleLoss`) -- and evaluate all on the unseen-font test
split. The seeds therefore measure the spread of post-tuning. Every training run
is a subprocess of ``tools/train.py``, as a user would run it.

Two regimes: *small* (the default: a baseline trained on a few thousand crops
on disk) and *converged* (the paper's: a reader trained to convergence on the
font stream and shipped in ``artifacts/readers/``, post-tuned on fresh stream
crops, validated on total edit distance every ``val_interval`` iterations; each
arm is evaluated at its best validation checkpoint).
"""
import json
import os
import os.path as osp
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.config import Config

from ..datasets import make_synth_dataset
from ..engine import SCHEME, shipped_path
from ..engine.config_task import config_task
from ..surrogates.checkpoint import load_surrogate
from ..surrogates.edit_distance_task import EditDistanceTask
from ..surrogates.pretrain import fidelity
from ..utils import mmocr_dict_file, package_data, write_json, write_text
from ..visualization import plot_curves, scatter_e_hat
from .artifact_cache import cached_surrogate, data_fingerprint, file_digest
from .shipping import READER, best_checkpoint, validation_curve
from .stages import Stages
from .testing import METRICS, edit_distance_test
from .training_runs import train

# Per model: the baseline's config, and its post-tuning configs, one per arm
# family (``{arm}``: control, lsed, expected-risk, dynamic), each inheriting
# the arm's post-tuning base (configs/_base_/*_posttune.py).
MODELS = {
    'crnn': ('configs/textrecog/crnn/crnn_mini-vgg_synth.py',
             'configs/textrecog/crnn/crnn_mini-vgg_{arm}_synth.py'),
    'nrtr': ('configs/textrecog/nrtr/nrtr_modality-transform_synth.py',
             'configs/textrecog/nrtr/nrtr_modality-transform_{arm}_synth.py'),
    # The paper's setting in miniature: BiLSTM encoder + attention decoder.
    'aster': ('configs/textrecog/aster/aster_mini-vgg_synth.py',
              'configs/textrecog/aster/aster_mini-vgg_{arm}_synth.py'),
}
# The converged regime: the readers of "Readers that read" (font stream).
CONVERGED_MODELS = {
    'crnn': ('configs/textrecog/crnn/crnn_mini-vgg_fonts.py',
             'configs/textrecog/crnn/crnn_mini-vgg_{arm}_fonts.py'),
    'aster': ('configs/textrecog/aster/aster_mini-vgg_fonts.py',
              'configs/textrecog/aster/aster_mini-vgg_{arm}_fonts.py'),
}
# Per regime: its models' configs and their datasets' metric prefix.
REGIMES = {'small': (MODELS, 'Synth'), 'converged': (CONVERGED_MODELS, 'Fonts')}
# What the converged regime validates on (fonts_posttune_val_ted).
VAL_TED = 'Fonts/ed/total_edit_distance'
# The stream is one fixed sequence: seed s post-tunes on its own segment,
# this many crops past the config's (seed 0: the config's own).
SEED_STREAM_STRIDE = 10**7
# Post-tuning on synthetic text rendered on the fly (``--posttune-data online``).
ONLINE_POSTTUNE = {
    'crnn': 'configs/textrecog/crnn/crnn_mini-vgg_{arm}_synth_online.py'}
# The dynamic loss's arms, by how ψ learns (DynamicLossHook's psi_update).
DYNAMIC_ARMS = {'dynamic': 'implicit', 'dynamic_unrolled': 'unrolled',
                'dynamic_margin': 'margin'}
RUNS = ('baseline', 'control', 'lsed', 'expected_risk', *DYNAMIC_ARMS)
# The config family of each arm (the dynamic variants differ in an option).
ARM_CONFIGS = dict(control='control', lsed='lsed', expected_risk='expected-risk',
                   **{arm: 'dynamic' for arm in DYNAMIC_ARMS})
ARMS = RUNS[1:]
# control, LS-ED, expected risk. The dynamic loss (`--arms ... dynamic`) costs
# about 9 recognizer passes per step: with it the default run would leave the
# demo's 20-minute budget on this machine kind's slower machines.
DEFAULT_ARMS = ARMS[:3]
# Relative TED changes the report gives besides each arm's vs the control.
PEERS = (('lsed', 'expected_risk'), ('dynamic', 'lsed'),
         ('dynamic', 'dynamic_unrolled'), ('dynamic', 'dynamic_margin'))


@dataclass
class JobConfig:
    """Sizes and schedule of the main job (defaults: the built-in run)."""
    model: str = 'crnn'
    regime: str = 'small'  # 'converged': the shipped font readers (REGIMES)
    work_dir: str = 'work_dirs/main_job'
    data_root: str = 'data/synth'
    seeds: List[int] = field(default_factory=lambda: [0])
    num_train: int = 4000
    num_val: int = 200
    num_test: int = 500
    baseline_checkpoint: str = ''  # a path, or lsmmocr://readers/<name>
    surrogate_checkpoint: str = ''  # a pre-trained h_Φ to use as it is
    baseline_iters: int = 3000
    # Then this many more proxy iterations on the post-tuning schedule (Adam,
    # constant lr), until more of them no longer lower TED: the paper's
    # "converged" start. 0: post-tune the baseline as it is.
    converge_iters: int = 0
    posttune_iters: int = 150
    # Validate every this many post-tuning iterations and evaluate each arm at
    # its best validation TED (converged regime); 0: at its last iteration.
    val_interval: int = 0
    surrogate_iters: int = 3000
    surrogate_batch_size: int = 256
    batch_size: int = 16
    lr: float = 1e-4
    inner_steps: int = 1
    warmup_iters: int = 0
    surrogate_lr: float = 1e-4
    source: str = 'local-global'
    grad_penalty: float = 0.0
    # h_Φ's fit (SurrogateFitLoss): value |ê - e| and rank (1 - soft Spearman)
    fit_value_weight: float = 1.0
    fit_rank_weight: float = 0.0
    max_edits: int = 0  # most random edits in global pairs; 0: the layout's capacity
    proxy_weight: float = 0.0
    switch_iter: int = 0  # LS-ED arm: ê, then the proxy alone from here; 0: off
    feds: str = ''  # 'LOWER,UPPER': FEDS ramp on |ê - e|; empty: off
    posttune_data: str = 'disk'  # 'online': fresh rendered batches
    expected_weight: float = 0.0  # surrogate label: (1-w) greedy ED + w E[ED]
    align_targets: bool = True  # CTC: truths aligned to the prediction
    correct_weight: float = 1.0  # LS-ED weight of already-correct samples
    logit_grad: str = 'softmax'  # 'mirror': MirrorSoftmax
    lookahead: str = ''  # 'S1,S2': look-ahead local pairs at these steps
    risk_samples: int = 8  # expected-risk arm: decodings per image
    risk_baseline: str = 'mean'  # expected-risk arm: 'mean' or 'greedy'
    energy_warmup_iters: int = 50  # dynamic arms: margin steps of ψ first
    energy_task: str = ''  # dynamic arms' objective: '' (the proxy) or a loss type
    energy_margin_weight: float = 0.0  # implicit/unrolled: margin mixed in
    energy_proxy_weight: float = 1.0  # dynamic arms: the proxy loss mixed in
    energy_held_out: str = ''  # ψ's held-out batches: '' (train set) or an ann file
    arms: List[str] = field(default_factory=lambda: list(DEFAULT_ARMS))
    # Take the baseline and h_Φ from artifacts/ when this job's settings made
    # them (tools/ship_artifacts.py); false: train them (or use the cache).
    use_shipped: bool = True

    def check(self) -> None:
        """Raise a ``ValueError`` naming the settings that do not go
        together."""
        if self.regime not in REGIMES:
            raise ValueError(f'regime must be one of {sorted(REGIMES)}, got '
                             f'{self.regime!r}')
        models = REGIMES[self.regime][0]
        if self.model not in models:
            raise ValueError(f'model {self.model!r} has no {self.regime} '
                             f'regime (models: {sorted(models)})')
        if self.regime == 'small' and self.val_interval:
            raise ValueError('val_interval needs regime "converged" (the '
                             'small regime evaluates the last checkpoint)')
        if self.val_interval > self.posttune_iters:
            raise ValueError(f'val_interval ({self.val_interval}) exceeds '
                             f'posttune_iters ({self.posttune_iters}): no '
                             'validation would choose a checkpoint')
        if self.regime == 'converged' and self.converge_iters:
            raise ValueError('converge_iters must be 0 in the converged '
                             'regime: its readers are converged already')
        for arm in self.arms:
            if not osp.isfile(package_data(self.posttune_config(arm))):
                raise ValueError(f'arm {arm!r} has no {self.regime}-regime '
                                 f'config for {self.model!r} '
                                 f'({self.posttune_config(arm)})')

    def reader_config(self) -> str:
        """The config the baseline is trained (and every arm tested) with."""
        return REGIMES[self.regime][0][self.model][0]

    def prefix(self) -> str:
        """The metric prefix of the regime's datasets."""
        return REGIMES[self.regime][1]

    def posttune_config(self, arm: str = 'lsed') -> str:
        """The post-tuning config of ``arm`` for ``model``, ``regime`` and
        ``posttune_data``."""
        if self.regime == 'converged':  # the stream: no disk/online choice
            return CONVERGED_MODELS[self.model][1].format(arm=ARM_CONFIGS[arm])
        if self.posttune_data == 'disk':
            return MODELS[self.model][1].format(arm=ARM_CONFIGS[arm])
        if self.posttune_data == 'online' and self.model in ONLINE_POSTTUNE:
            return ONLINE_POSTTUNE[self.model].format(arm=ARM_CONFIGS[arm])
        raise ValueError(
            f'posttune_data must be "disk" or "online" (models '
            f'{sorted(ONLINE_POSTTUNE)}), got {self.posttune_data!r} for '
            f'{self.model!r}')

    def sampler_cfg(self) -> Dict[str, Optional[int]]:
        """:class:`PairSampler` settings, for pre-training and post-tuning."""
        return dict(max_edits=self.max_edits or None,
                    expected_weight=self.expected_weight)

    def fit_cfg(self) -> Dict[str, float]:
        """h_Φ's fit weights where they differ from the value fit (left out
        otherwise: the cache key of the surrogates fitted before them)."""
        if (self.fit_value_weight, self.fit_rank_weight) == (1.0, 0.0):
            return {}
        return dict(value_weight=self.fit_value_weight,
                    rank_weight=self.fit_rank_weight)

    def feds_ramp(self) -> Optional[Dict[str, float]]:
        """``feds`` as the loss's ``dict(lower, upper)``, or None."""
        if not self.feds:
            return None
        try:
            lower, upper = (float(v) for v in self.feds.split(','))
        except ValueError:
            raise ValueError(f'feds must be "LOWER,UPPER", got {self.feds!r}')
        return dict(lower=lower, upper=upper)


def ensure_data(job: JobConfig) -> None:
    """Render the synthetic dataset unless it is already there (and whole:
    every split's annotation file readable); the converged regime's stream
    needs none."""
    if job.regime == 'converged':
        print('data: the font stream (rendered on the fly)')
        return
    if osp.isfile(osp.join(job.data_root, 'textrecog_test.json')):
        for split in ('train', 'val', 'test'):
            check_annotations(osp.join(job.data_root, f'textrecog_{split}.json'))
        print(f'data: reusing {job.data_root}')
        return
    make_synth_dataset(job.data_root,
                       mmocr_dict_file('lower_english_digits.txt'),
                       dict(train=job.num_train, val=job.num_val,
                            test=job.num_test), seed=0)


def check_annotations(path: str) -> None:
    """Raise a ``ValueError`` naming ``path`` unless it is an MMOCR
    annotation file (JSON with a ``data_list``)."""
    try:
        with open(path, encoding='utf-8') as f:
            ann = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f'{path} is missing: delete its folder to '
                                'render the data again') from None
    except json.JSONDecodeError as e:
        raise ValueError(f'{path} is not valid JSON ({e}): delete its folder '
                         'to render the data again') from None
    if not isinstance(ann, dict) or 'data_list' not in ann:
        raise ValueError(f'{path} is not an MMOCR annotation file (no '
                         'data_list)')


def evaluate(job: JobConfig, checkpoint: str, work_dir: str,
             label: str = 'test', split: str = 'test') -> Dict[str, float]:
    """Edit-distance metrics of ``checkpoint`` on the test (or validation)
    split; the stream's splits are cut to ``num_test`` (``num_val``) crops."""
    size = dict(test=job.num_test, val=job.num_val)[split]
    overrides = ({'test_dataloader.dataset.datasets.0.num_samples': size}
                 if job.regime == 'converged' else {})
    return edit_distance_test(package_data(job.reader_config()), checkpoint,
                              work_dir, job.prefix(), label, split, overrides)


def common_options(job: JobConfig, seed: int, iters: int,
                   validate: bool = False) -> List[str]:
    """Seed, batch, validation on ``num_val`` stream crops (or none), one
    checkpoint at the end, a log line (and so a progress update) every 2 %
    of the run."""
    run = [f'randomness.seed={seed}',
           f'train_dataloader.batch_size={job.batch_size}']
    ends = [f'default_hooks.checkpoint.interval={iters}',
            f'default_hooks.logger.interval={max(1, iters // 50)}']
    # The order is part of what identifies a run (the shipped artifacts'
    # keys, a finished run's run.json): keep each regime's as it was made.
    if validate:
        return run + ends + [
            f'val_dataloader.dataset.datasets.0.num_samples={job.num_val}']
    return run + ['val_cfg=None', 'val_dataloader=None',
                  'val_evaluator=None'] + ends


def posttune_options(job: JobConfig, seed: int, baseline: str, arm: str,
                     surrogate: Optional[str] = None) -> List[str]:
    """``--cfg-options`` of one post-tuning arm (see :data:`ARMS`)."""
    pt = 'post_tune.'
    opts = common_options(job, seed, job.posttune_iters,
                          validate=bool(job.val_interval)) + [
        f'load_from={baseline}',
        f'{pt}overrides.train_cfg.max_iters={job.posttune_iters}',
        f'{pt}overrides.train_cfg.val_interval='
        f'{job.val_interval or job.posttune_iters + 1}',
        f'{pt}overrides.default_hooks.checkpoint.interval={job.posttune_iters}',
        f'{pt}overrides.optim_wrapper.optimizer.lr={job.lr}']
    if job.regime == 'converged':  # as the readers trained (losses in fp32)
        opts.append(f'{pt}overrides.optim_wrapper.type=CPUBF16OptimWrapper')
        opts += stream_segment(job, seed)
    st, ml = f'{pt}trainer.', f'{pt}module_loss.'
    if arm == 'control':  # its config: same schedule, proxy loss, no hook
        return opts
    if arm in DYNAMIC_ARMS:
        return opts + dynamic_options(job, seed, arm, surrogate)
    if arm == 'expected_risk':
        return opts + [f'{ml}num_samples={job.risk_samples}',
                       f'{ml}baseline={job.risk_baseline}',
                       f'{ml}proxy_weight={job.proxy_weight}']
    opts += [f'{st}pretrained={surrogate}', f'{st}source={job.source}',
             f'{st}inner_steps={job.inner_steps}', f'{st}seed={seed}',
             f'{st}warmup_iters={job.warmup_iters}',
             f'{st}optimizer.lr={job.surrogate_lr}',
             f'{st}task.fit_loss.grad_penalty={job.grad_penalty}']
    opts += [f'{st}task.fit_loss.{k}={v}' for k, v in job.fit_cfg().items()]
    opts += [f'{st}task.sampler.{k}={v}' for k, v in job.sampler_cfg().items()]
    opts += [f'{ml}proxy_weight={job.proxy_weight}',
             f'{ml}logit_grad={job.logit_grad}',
             f'{ml}align_targets={job.align_targets}',
             f'{ml}correct_weight={job.correct_weight}']
    if job.lookahead:
        opts += [f'{st}lookahead_steps=[{job.lookahead}]']
    if job.switch_iter:
        opts += [f'{st}proxy_from={job.switch_iter}']
    feds = job.feds_ramp()
    if feds:  # the base's feds is None: replace it rather than merge into it
        opts += [f'{ml}feds._delete_=True'] + [
            f'{ml}feds.{k}={v}' for k, v in feds.items()]
    return opts


def stream_segment(job: JobConfig, seed: int) -> List[str]:
    """The stream offset of ``seed``'s post-tuning data: without it every
    seed would read the same crops in the same order (a sequential stream
    ignores the seed), and the control would repeat itself exactly."""
    if not seed:
        return []
    cfg = Config.fromfile(package_data(job.posttune_config('control')))
    offset = cfg.train_dataloader.sampler.offset + seed * SEED_STREAM_STRIDE
    return [f'train_dataloader.sampler.offset={offset}']


def dynamic_options(job: JobConfig, seed: int, arm: str,
                    surrogate: Optional[str] = None) -> List[str]:
    """The dynamic-loss arms' own ``--cfg-options`` (``surrogate``: the
    job's h_Φ, for an ê task objective)."""
    st, ml = 'post_tune.trainer.', 'post_tune.module_loss.'
    update = DYNAMIC_ARMS[arm]
    margin = 1.0 if update == 'margin' else job.energy_margin_weight
    opts = [f'{st}psi_update={update}', f'{st}margin_weight={margin}',
            f'{st}warmup_iters={job.energy_warmup_iters}', f'{st}seed={seed}',
            f'{ml}proxy_weight={job.energy_proxy_weight}']
    if job.energy_held_out:
        opts.append(f'{st}held_out={job.energy_held_out}')
    if job.energy_task:
        opts += [f'{ml}task.type={job.energy_task}',
                 f'{st}task_surrogate={surrogate}']
    return opts


def baseline_run(job: JobConfig) -> Tuple[str, List[str], Dict]:
    """Config, options and cache parts of the baseline's training run."""
    return (MODELS[job.model][0],
            common_options(job, 0, job.baseline_iters) +
            [f'train_cfg.max_iters={job.baseline_iters}',
             f'train_cfg.val_interval={job.baseline_iters + 1}'],
            dict(data=data_fingerprint(job.data_root)))


def train_baseline(job: JobConfig) -> str:
    """The proxy-trained recognizer every seed starts from (cached across
    work dirs by config, data and package versions; shipped for the
    default job); in the converged regime, the shipped reader."""
    if job.baseline_checkpoint:
        return job.baseline_checkpoint
    if job.regime == 'converged':
        return shipped_path(SCHEME + READER.name(job.reader_config()))
    cfg, options, cache = baseline_run(job)
    return train(cfg, osp.join(job.work_dir, 'baseline'), options, 'baseline',
                 cache, job.use_shipped)


def converge(job: JobConfig, baseline: str) -> str:
    """``baseline`` trained ``converge_iters`` more iterations with the
    proxy loss on the post-tuning schedule (the control's), or as it is."""
    if not job.converge_iters:
        return baseline
    longer = replace(job, posttune_iters=job.converge_iters)
    options = posttune_options(longer, 0, baseline, 'control')
    return train(job.posttune_config('control'),
                 osp.join(job.work_dir, 'converged'),
                 options, 'converged', dict(
                     data=data_fingerprint(job.data_root),
                     start=file_digest(baseline)), job.use_shipped)


def job_surrogate_spec(job: JobConfig) -> EditDistanceTask:
    """The surrogate spec of the job's post-tuning config and options."""
    cfg = Config.fromfile(package_data(job.posttune_config()))
    cfg.merge_from_dict(
        {'post_tune.module_loss.align_targets': job.align_targets})
    spec = config_task(cfg)
    spec.fit_loss['grad_penalty'] = job.grad_penalty
    spec.fit_loss.update(job.fit_cfg())
    spec.sampler.update(job.sampler_cfg())
    return spec


def held_out_fidelity(spec: EditDistanceTask, path: str) -> Dict:
    """:func:`fidelity` of the h_Φ checkpoint ``path`` on the job's 1000
    held-out pairs (what the report and the shipped manifest give)."""
    surrogate = load_surrogate(path, spec.layout, check_targets=True)
    return fidelity(surrogate.eval(), spec.held_out_pairs(1000, 0), spec)


def pretrain(job: JobConfig) -> Dict:
    """Globally pre-train h_Φ once (or take ``surrogate_checkpoint``); its
    held-out fidelity and scatter plot."""
    spec = job_surrogate_spec(job)
    t0 = time.time()
    path = job.surrogate_checkpoint or cached_surrogate(
        spec, job.work_dir, surrogate_parts(job, spec), job.use_shipped,
        iters=job.surrogate_iters, batch_size=job.surrogate_batch_size)
    fid = held_out_fidelity(spec, path)
    scatter_e_hat(fid['e'], fid['e_hat'],
                  osp.join(job.work_dir, 'surrogate_scatter.png'),
                  f'held-out pairs: Spearman {fid["spearman"]:.3f}, '
                  f'|ê-e| {fid["mae"]:.2f}')
    print(f'surrogate pre-trained in {time.time() - t0:.0f} s: '
          f'|ê-e| {fid["mae"]:.3f} (ED <= 3: {fid["mae_near"]:.3f}), '
          f'Spearman {fid["spearman"]:.3f}', flush=True)
    return dict(path=path, **{k: fid[k] for k in (
        'mae', 'mae_near', 'spearman', 'kendall')})


def surrogate_parts(job: JobConfig, spec: EditDistanceTask) -> Dict:
    """What identifies a pre-trained h_Φ across work dirs."""
    return dict(layout=spec.layout.meta(), iters=job.surrogate_iters,
                batch_size=job.surrogate_batch_size,
                surrogate=spec.surrogate, fit_loss=spec.fit_loss,
                sampler=spec.sampler)


def run_seed(job: JobConfig, seed: int, baseline: str, surrogate: str,
             baseline_test: Dict[str, float]) -> Dict[str, Dict[str, float]]:
    """Each arm's post-tuning for one seed, and the evaluations (the
    baseline's, the same for every seed, is ``baseline_test``)."""
    root = osp.join(job.work_dir, f'seed{seed}')
    ckpts = {}
    for arm in job.arms:
        last = train(job.posttune_config(arm), osp.join(root, arm),
                     posttune_options(job, seed, baseline, arm, surrogate),
                     f'seed {seed} {arm}')
        ckpts[arm] = (best_checkpoint(osp.join(root, arm))
                      if job.val_interval else last)
    work_dirs = {n: osp.join(root, n) for n in job.arms}
    plot_curves(work_dirs, ['loss', 'lsed_approx_error', 'lsed_exploit_rate',
                            'energy_inverse_gain'],
                osp.join(root, 'curves.png'))
    if job.val_interval:
        plot_curves(work_dirs, [VAL_TED], osp.join(root, 'val_ted.png'))
    results = {'baseline': dict(baseline_test)}
    results.update({name: evaluate(job, ckpt, osp.join(root, f'eval_{name}'),
                                   f'seed {seed} {name} test')
                    for name, ckpt in ckpts.items()})
    if job.val_interval:  # what chose each arm's checkpoint (and its config)
        for arm in job.arms:
            results[arm]['best_val_ted'] = best_validation(work_dirs[arm])
    write_json(osp.join(root, 'results.json'), results, indent=2)
    return results


def best_validation(work_dir: str) -> float:
    """The lowest validation TED of the post-tuning run in ``work_dir``."""
    return min(ted for _, ted in validation_curve(work_dir, VAL_TED))


def _ted_change(per_seed: Dict[int, Dict], run: str, ref: str):
    """Mean and std over seeds of ``run``'s relative TED change vs ``ref``."""
    rel = [(r[run]['total_edit_distance'] - r[ref]['total_edit_distance'])
           / max(r[ref]['total_edit_distance'], 1) for r in per_seed.values()]
    return float(np.mean(rel)), float(np.std(rel))


def summarize(per_seed: Dict[int, Dict]) -> Dict:
    """Mean and std over seeds of each run's metrics, and the relative TED
    changes: every arm vs the control, LS-ED vs expected risk."""
    runs = [r for r in RUNS if r in next(iter(per_seed.values()))]
    out = {}
    for run in runs:
        first = next(iter(per_seed.values()))[run]
        vals = {m: [r[run][m] for r in per_seed.values()] for m in first}
        out[run] = {m: (float(np.mean(v)), float(np.std(v)))
                    for m, v in vals.items()}
    out['ted_change_vs_control'] = {
        run: _ted_change(per_seed, run, 'control')
        for run in runs if run not in ('baseline', 'control')
    } if 'control' in runs else {}  # e.g. --arms lsed: a variant screen
    for run, ref in PEERS:
        if {run, ref} <= set(runs):
            out[f'{run}_vs_{ref}'] = _ted_change(per_seed, run, ref)
    return out


def markdown(job: JobConfig, summary: Dict) -> str:
    n = len(job.seeds)
    head = ('| run | word acc | total ED | NED (ED/len gt) | 1-N.E.D | CER |\n'
            '|---|---|---|---|---|---|\n')
    runs = [r for r in RUNS if r in summary]
    rows = ''.join(
        f'| {run} | ' + ' | '.join(
            f'{summary[run][m][0]:.4g} ± {summary[run][m][1]:.2g}'
            for m in METRICS) + ' |\n' for run in runs)
    changes = ''.join(
        f'- {run} vs control: {100 * mean:+.1f} % ± {100 * std:.1f} %\n'
        for run, (mean, std) in summary['ted_change_vs_control'].items())
    for run, ref in PEERS:
        if f'{run}_vs_{ref}' in summary:
            mean, std = summary[f'{run}_vs_{ref}']
            changes += (f'- {run} vs {ref}: {100 * mean:+.1f} % ± '
                        f'{100 * std:.1f} %\n')
    if job.val_interval:
        changes += '\nBest validation TED (what chose each checkpoint): ' + \
            ', '.join(f'{run} {summary[run]["best_val_ted"][0]:.1f} ± '
                      f'{summary[run]["best_val_ted"][1]:.1f}'
                      for run in runs if run in job.arms) + '\n'
    sur = summary['surrogate']
    selection = (f'its best validation TED (every {job.val_interval} '
                 f'iterations, {job.num_val} crops; baseline: '
                 f'{summary["baseline_val_ted"]:.0f}; per seed val_ted.png)'
                 if job.val_interval else 'its last iteration')
    return (f'# Main job: {job.model}, {job.regime} regime, {n} seed(s) '
            f'{job.seeds}\n\n'
            f'Unseen-font test split, mean ± std over seeds; each arm at '
            f'{selection}.\n\n{head}{rows}\n'
            f'Total edit distance change (negative is better):\n\n{changes}\n'
            f'Pre-trained surrogate on 1000 held-out pairs: |ê-e| '
            f'{sur["mae"]:.3f} (pairs with ED <= 3: {sur["mae_near"]:.3f}), '
            f'Spearman {sur["spearman"]:.3f}, Kendall '
            f'{sur["kendall"]:.3f}.\n\n'
            f'Settings: `{json.dumps(asdict(job))}`\n')


def run(job: JobConfig) -> Dict:
    """Run every seed and write ``report.md`` / ``report.json``."""
    job.check()
    os.environ['LSMMOCR_SYNTH_ROOT'] = osp.abspath(job.data_root)
    job.work_dir = osp.abspath(job.work_dir)
    stages = Stages()
    with stages('data'):
        ensure_data(job)
    os.makedirs(job.work_dir, exist_ok=True)
    with stages('baseline'):
        baseline = converge(job, train_baseline(job))
        baseline_test = evaluate(job, baseline,
                                 osp.join(job.work_dir, 'eval_baseline'),
                                 'baseline test')
    with stages('surrogate pre-training'):
        surrogate = pretrain(job)
    summary = {}
    if job.val_interval:  # where every arm's validation curve starts
        with stages('baseline validation'):
            summary['baseline_val_ted'] = evaluate(
                job, baseline, osp.join(job.work_dir, 'val_baseline'),
                'baseline val', 'val')['total_edit_distance']
    per_seed = {}
    for s in job.seeds:
        with stages(f'seed {s}: post-tuning and evaluation'):
            per_seed[s] = run_seed(job, s, baseline, surrogate['path'],
                                   baseline_test)
    summary.update(summarize(per_seed), surrogate=surrogate)
    summary['stage_seconds'] = stages.seconds
    report = dict(settings=asdict(job), per_seed=per_seed, summary=summary)
    write_json(osp.join(job.work_dir, 'report.json'), report, indent=2)
    md = markdown(job, summary) + f'\nStage times:\n\n{stages.markdown()}'
    write_text(osp.join(job.work_dir, 'report.md'), md)
    print(md)
    return report
