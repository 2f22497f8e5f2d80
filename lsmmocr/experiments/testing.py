"""A model's metrics on a config's test split, through MMEngine's runner as
``tools/test.py`` computes them: a recognizer's edit-distance family, a
detector's matched-IoU family, or any evaluator's (:func:`runner_test`)."""
import itertools
import os
import os.path as osp
from contextlib import redirect_stderr, redirect_stdout
from typing import Dict, Optional

import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint

from ..utils import package_data

# The figures every report and manifest gives (EditDistanceMetric's keys).
METRICS = ('word_acc', 'total_edit_distance', 'ned_gt', '1-N.E.D', 'cer')
# A detector's: MatchedIoUMetric's figures at each match IoU (0.5: MMOCR's).
MATCH_IOUS = (0.5, 0.7, 0.8)
DET_FIGURES = ('hmean', 'precision', 'recall', 'matched_iou')
# The ones a report's table and the console line give.
DET_COLUMNS = ('hmean@0.5', 'precision@0.5', 'recall@0.5', 'matched_iou@0.5',
               'hmean@0.7', 'hmean@0.8')
# A runner's visualizer is a global instance found by name (MMOCR's configs
# name it 'visualizer'): a second test in one process would write into the
# first's work dir, perhaps deleted by then. Each test gets its own name.
_RUNS = itertools.count()


def edit_distance_test(config: str, checkpoint: str, work_dir: str,
                       prefix: str, label: str = 'test', split: str = 'test',
                       overrides: Optional[Dict] = None) -> Dict[str, float]:
    """:data:`METRICS` of ``checkpoint`` (a path or a ``lsmmocr://`` name) on
    ``config``'s test (or ``'val'``) split, whose dataset prefix is
    ``prefix``; ``overrides`` (``--cfg-options`` style) apply to the config
    after the split is chosen. MMEngine's output (environment, config,
    progress) goes to ``<work_dir>/stdout.log``; the console gets one line."""
    cfg = Config.fromfile(config)
    if split not in ('test', 'val'):
        raise ValueError(f'split must be "test" or "val", got {split!r}')
    if split == 'val':
        cfg.test_dataloader = cfg.val_dataloader
    cfg.merge_from_dict(overrides or {})
    cfg.test_evaluator = dict(
        type='MultiDatasetsEvaluator', dataset_prefixes=[prefix],
        metrics=[dict(type='EditDistanceMetric')])
    metrics = runner_test(cfg, checkpoint, work_dir, label)
    metrics = {k: metrics[f'{prefix}/recog/{k}'] for k in METRICS}
    print(f'{label}: ' + ', '.join(f'{k} {v:.4g}' for k, v in metrics.items()),
          flush=True)
    return metrics


def detection_config(config: str) -> Config:
    """``config``'s test set-up, evaluated at every :data:`MATCH_IOUS` by
    :class:`~lsmmocr.metrics.MatchedIoUMetric` (prefix ``@<match IoU>``)."""
    cfg = Config.fromfile(package_data(config))
    cfg.test_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.test_evaluator = [dict(type='MatchedIoUMetric', match_iou_thr=t,
                               prefix=f'@{t}') for t in MATCH_IOUS]
    return cfg


def matched_iou_test(config: str, checkpoint: str, work_dir: str,
                     label: str = 'test') -> Dict[str, float]:
    """:data:`DET_FIGURES` of a detector ``checkpoint`` on ``config``'s test
    split, as ``'<figure>@<match IoU>'``; the console gets one line."""
    metrics = runner_test(detection_config(config), checkpoint, work_dir, label)
    metrics = {f'{k}@{t}': float(metrics[f'@{t}/{k}'])
               for t in MATCH_IOUS for k in DET_FIGURES}
    print(f'{label}: ' + ', '.join(f'{k} {metrics[k]:.4f}' for k in DET_COLUMNS),
          flush=True)
    return metrics


def load_model(cfg: Config, checkpoint: str) -> nn.Module:
    """``cfg``'s model (MMOCR's scope) with the weights of ``checkpoint`` (a
    path or a ``lsmmocr://`` name) on the CPU, in eval mode: what an
    instrument scores outside a runner."""
    from mmocr.registry import MODELS
    init_default_scope('mmocr')
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    return model.eval()


def runner_test(cfg: Config, checkpoint: str, work_dir: str,
                label: str = 'test') -> Dict[str, float]:
    """``Runner.test()`` of ``checkpoint`` with ``cfg`` (its evaluator set),
    MMEngine's output in ``<work_dir>/stdout.log``; its metrics."""
    name = f'{label}-{os.getpid()}-{next(_RUNS)}'
    cfg.update(work_dir=work_dir, load_from=checkpoint, experiment_name=name)
    if cfg.get('visualizer'):
        cfg.visualizer.name = name
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, 'stdout.log'), 'w') as log, \
            redirect_stdout(log), redirect_stderr(log):
        runner = Runner.from_cfg(cfg)  # its console handler writes to `log`
        metrics = runner.test()
        for handler in list(runner.logger.handlers):
            if getattr(handler, 'stream', None) is log:
                runner.logger.removeHandler(handler)
    return metrics
