"""The main job's detection task: LS-IoU post-tuning vs its control.

From one trained RBox detector (by default the scene set's shipped one,
``lsmmocr://detectors/rbox_resnet18_fpnc_hard`` for the hard scenes), each
seed post-tunes it twice with the same schedule, iterations, data and seed:
the *control* on the detector's own loss (dice + EAST's IoU and angle terms),
*LS-IoU* with the box terms replaced by ê of h_Φ (given, or pre-trained once
on random boxes), fitted on the fly. Each arm's final checkpoint (one rule for
both) is evaluated on the test split (fonts never trained on) with
:class:`~lsmmocr.metrics.MatchedIoUMetric` at match IoU 0.5 (MMOCR's
standard), 0.7 and 0.8: hmean, precision, recall and the mean IoU of matched
boxes. Every training run is a subprocess of ``tools/train.py``.
"""
import glob
import os
import os.path as osp
import re
import shutil
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

import numpy as np
from mmengine.config import Config

from ..engine import SCHEME, shipped_path
from ..engine.config_task import config_task
from ..surrogates.checkpoint import load_surrogate
from ..surrogates.pretrain import fidelity
from ..utils import package_data, write_json, write_text
from ..visualization import image_grid
from .artifact_cache import cached_surrogate
from .shipping import DETECTOR
from .stages import Stages
from .testing import DET_COLUMNS as COLUMNS
from .testing import detection_config, matched_iou_test, runner_test
from .training_runs import train

# Per scene set: the detector's config, its LS-IoU post-tuning config, the
# environment variable its configs read the data root from, and its default.
SCENES = {
    'easy': ('configs/textdet/rbox/rbox_resnet18_fpnc_synth.py',
             'configs/textdet/rbox/rbox_resnet18_fpnc_lsiou_synth.py',
             'LSMMOCR_SYNTH_DET_ROOT', 'data/synth_det'),
    'hard': ('configs/textdet/rbox/rbox_resnet18_fpnc_hard.py',
             'configs/textdet/rbox/rbox_resnet18_fpnc_lsiou_hard.py',
             'LSMMOCR_SYNTH_DET_HARD_ROOT', 'data/synth_det_hard'),
}
ARMS = ('control', 'lsiou')
SURROGATE_CONFIG = 'configs/surrogates/lsiou_rotated_boxes.py'


@dataclass
class DetectionJob:
    """Settings of the detection job (``tools/main_job.py --task textdet``)."""
    baseline_checkpoint: str = field(default='', metadata=dict(
        help='the trained RBox detector both arms start from (default: '
        "the scene set's shipped detector, lsmmocr://detectors/<config "
        'name>; the hard scenes have one)'))
    surrogate_checkpoint: str = field(default='', metadata=dict(
        help="LS-IoU's h_Φ, from tools/train_surrogate.py "
        f'{SURROGATE_CONFIG} (default: pre-trained here, about a minute, '
        'cached by its settings)'))
    surrogate_iters: int = 6000  # h_Φ's pre-training, when it is made here
    scenes: str = 'hard'
    data_root: str = ''  # '': SCENES' default
    work_dir: str = 'work_dirs/detection_job'
    seeds: List[int] = field(default_factory=lambda: [0, 1, 2])
    posttune_iters: int = 300
    batch_size: int = 8
    lr: float = 1e-4
    num_plot: int = 4  # test images in boxes.png

    def check(self) -> None:
        if self.scenes not in SCENES:
            raise ValueError(f'scenes: {self.scenes!r} is not one of '
                             f'{", ".join(SCENES)}')
        if not self.baseline_checkpoint:
            self.baseline_checkpoint = shipped_detector(self.detector_config())
        self.data_root = self.data_root or SCENES[self.scenes][3]
        for split in ('train', 'test'):
            ann = osp.join(self.data_root, f'textdet_{split}.json')
            if not osp.isfile(ann):
                raise FileNotFoundError(
                    f'{ann}: no such file; make the scenes with tools/'
                    f'make_synth_data.py --task textdet --scene {self.scenes} '
                    f'--font-corpus system --out-dir {self.data_root}')

    def detector_config(self) -> str:
        return SCENES[self.scenes][0]

    def posttune_config(self) -> str:
        """Both arms' (the control unsets its ``post_tune`` loss and hook)."""
        return SCENES[self.scenes][1]


def shipped_detector(config: str) -> str:
    """The ``lsmmocr://`` name of ``config``'s shipped detector (ValueError
    if none is shipped)."""
    uri = SCHEME + DETECTOR.name(config)
    try:
        shipped_path(uri)
    except FileNotFoundError:
        raise ValueError(f'no shipped detector {uri} for {config}: give '
                         '--baseline-checkpoint') from None
    return uri


def pretrain(job: DetectionJob) -> Dict:
    """LS-IoU's h_Φ (``surrogate_checkpoint``, or pre-trained on random boxes
    once and cached by its settings) and its held-out fidelity."""
    task = config_task(Config.fromfile(package_data(SURROGATE_CONFIG)))
    parts = dict(space=task.space.meta(), surrogate=task.surrogate,
                 fit_loss=task.fit_loss, sampler=task.sampler,
                 iters=job.surrogate_iters)
    path = job.surrogate_checkpoint or cached_surrogate(
        task, job.work_dir, parts, use_shipped=False, iters=job.surrogate_iters)
    fid = fidelity(load_surrogate(path, task.space).eval(),
                   task.held_out_pairs(1000, 0), task)
    print(f'surrogate: held-out |ê-e| {fid["mae"]:.3f}, Spearman '
          f'{fid["spearman"]:.3f}', flush=True)
    return dict(path=path, **{k: fid[k] for k in ('mae', 'spearman', 'kendall')})


def arm_options(job: DetectionJob, seed: int, arm: str) -> List[str]:
    """``--cfg-options`` of one arm: same start, schedule, data and seed."""
    pt = 'post_tune.overrides.'
    opts = [f'load_from={job.baseline_checkpoint}', f'randomness.seed={seed}',
            f'train_dataloader.batch_size={job.batch_size}',
            'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
            f'{pt}train_cfg.max_iters={job.posttune_iters}',
            f'{pt}default_hooks.checkpoint.interval={job.posttune_iters}',
            f'{pt}optim_wrapper.optimizer.lr={job.lr}',
            f'default_hooks.logger.interval={max(1, job.posttune_iters // 30)}']
    if arm == 'control':  # the detector's own loss, nothing wrapped
        return opts + ['post_tune.module_loss=None', 'post_tune.trainer=None']
    return opts + [f'post_tune.trainer.pretrained={job.surrogate_checkpoint}']


def draw_boxes(job: DetectionJob, checkpoints: Dict[str, str], path: str) -> None:
    """The first ``num_plot`` test images, truth | prediction (MMOCR's
    visualizer, boxes scored >= 0.3), one row per checkpoint."""
    rows = {}
    for name, ckpt in checkpoints.items():
        cfg = detection_config(job.detector_config())
        cfg.test_dataloader.dataset.indices = job.num_plot
        cfg.default_hooks.visualization.update(enable=True, draw_gt=True,
                                               draw_pred=True)
        work = osp.join(job.work_dir, 'boxes', re.sub(r'\W+', '_', name))
        shutil.rmtree(work, ignore_errors=True)  # an earlier run's drawings
        runner_test(cfg, ckpt, work, f'boxes {name}')
        rows[f'{name}: truth | prediction'] = sorted(
            glob.glob(osp.join(work, '*', 'vis_data', 'vis_image', '*.png')))
    image_grid(rows, path, f'{job.scenes} scenes, test split (unseen fonts)')


def summarize(per_seed: Dict[int, Dict]) -> Dict:
    """Per arm and figure mean ± std over seeds; LS-IoU's relative change
    vs the control per seed."""
    summary = {}
    for arm in ARMS:
        values = {k: [per_seed[s][arm][k] for s in per_seed] for k in COLUMNS}
        summary[arm] = {k: dict(mean=float(np.mean(v)), std=float(np.std(v)))
                        for k, v in values.items()}
    summary['lsiou_vs_control_pct'] = {
        k: [relative_change(per_seed[s]['lsiou'][k], per_seed[s]['control'][k])
            for s in per_seed] for k in COLUMNS}
    return summary


def relative_change(value: float, reference: float) -> Optional[float]:
    """``value`` vs ``reference`` in per cent; None where the reference is 0."""
    return 100 * (value / reference - 1) if reference else None


def _change_line(name: str, changes: List[Optional[float]]) -> str:
    known = [c for c in changes if c is not None]
    mean = (f'{np.mean(known):+.2f} % ± {np.std(known):.2f} %' if known
            else 'n/a')
    return (f'LS-IoU {name} vs control: {mean} (per seed: ' + ', '.join(
        'n/a' if c is None else f'{c:+.2f} %' for c in changes) + ')  ')


def markdown(job: DetectionJob, baseline: Dict, per_seed: Dict[int, Dict],
             summary: Dict) -> str:
    rows = [f'### Detection job: LS-IoU vs control, {job.scenes} scenes, '
            f'{len(job.seeds)} seed(s) {job.seeds}, {job.posttune_iters} '
            'iterations', '',
            '| run | hmean@0.5 per seed | ' + ' | '.join(COLUMNS) + ' |',
            '|---|---|' + '---|' * len(COLUMNS),
            f'| baseline | {baseline["hmean@0.5"]:.4f} | '
            + ' | '.join(f'{baseline[k]:.4f}' for k in COLUMNS) + ' |']
    for arm in ARMS:
        cells = [f'{summary[arm][k]["mean"]:.4f} ± {summary[arm][k]["std"]:.4f}'
                 for k in COLUMNS]
        rows.append(f'| {arm} | ' + ' / '.join(
            f'{per_seed[s][arm]["hmean@0.5"]:.4f}' for s in per_seed)
            + ' | ' + ' | '.join(cells) + ' |')
    rows.append('')
    rows += [_change_line(k, changes)
             for k, changes in summary['lsiou_vs_control_pct'].items()]
    return '\n'.join(rows) + '\n\n![predicted boxes](boxes.png)\n'


def run(job: DetectionJob) -> Dict:
    """Baseline test, the arms of every seed, report.json/.md, boxes.png."""
    job.check()
    os.environ[SCENES[job.scenes][2]] = osp.abspath(job.data_root)
    job.work_dir = osp.abspath(job.work_dir)
    os.makedirs(job.work_dir, exist_ok=True)
    job.baseline_checkpoint = osp.abspath(shipped_path(job.baseline_checkpoint))
    stages = Stages()
    with stages('surrogate'):
        surrogate = pretrain(job)
    job.surrogate_checkpoint = osp.abspath(surrogate['path'])
    with stages('baseline test'):
        baseline = matched_iou_test(
            job.detector_config(), job.baseline_checkpoint,
            osp.join(job.work_dir, 'eval_baseline'), 'baseline test')
    per_seed, first = {}, {}  # first: the first seed's checkpoints
    for s in job.seeds:
        with stages(f'seed {s}: post-tuning and evaluation'):
            per_seed[s] = {}
            for arm in ARMS:
                work = osp.join(job.work_dir, f'seed{s}', arm)
                ckpt = train(job.posttune_config(), work,
                             arm_options(job, s, arm), f'seed {s} {arm}')
                first.setdefault(arm, ckpt)
                per_seed[s][arm] = matched_iou_test(
                    job.detector_config(), ckpt, work + '_eval',
                    f'seed {s} {arm} test')
    with stages('boxes.png'):
        draw_boxes(job, dict(baseline=job.baseline_checkpoint, **{
            f'{arm} (seed {job.seeds[0]})': c for arm, c in first.items()}),
            osp.join(job.work_dir, 'boxes.png'))
    summary = summarize(per_seed)
    report = dict(settings=dict(asdict(job), task='textdet'), baseline=baseline,
                  surrogate=surrogate, per_seed=per_seed, summary=summary,
                  stage_seconds=stages.seconds)
    write_json(osp.join(job.work_dir, 'report.json'), report, indent=2)
    md = markdown(job, baseline, per_seed, summary) + \
        f'\nStage times:\n\n{stages.markdown()}'
    write_text(osp.join(job.work_dir, 'report.md'), md)
    print(md)
    return report
