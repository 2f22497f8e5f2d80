"""Turn any MMOCR recognizer (or rotated-box detector) config into a
post-tuning config.

MMEngine forbids two ``_base_`` files that define the same key, and every MMOCR
config already defines ``model``, ``optim_wrapper``, ``train_cfg``. So the
post-tuning base (``configs/_base_/lsed_posttune.py``) only adds new keys —
``runner_type`` and ``post_tune`` — and this runner applies ``post_tune`` to the
merged config before building anything.
"""
import copy
import logging
import warnings
from typing import Optional

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner, find_latest_checkpoint
from mmocr.models.textrecog.module_losses import CTCModuleLoss
from mmocr.registry import MODELS

from .ctc_frames import ctc_frames


def _is_ctc(loss_cfg: dict) -> bool:
    loss_type = loss_cfg.get('type')
    cls = loss_type if isinstance(loss_type, type) else MODELS.get(loss_type)
    return cls is not None and issubclass(cls, CTCModuleLoss)


def loss_owner(cfg: Config) -> dict:
    """The model part whose ``module_loss`` post-tuning wraps: a
    recognizer's ``decoder`` or a detector's ``det_head``."""
    model = cfg.get('model', {})
    for part in ('decoder', 'det_head'):
        if 'module_loss' in model.get(part, {}):
            return model[part]
    raise KeyError('post_tune.module_loss needs model.decoder.module_loss (a '
                   'recognizer) or model.det_head.module_loss (a detector) in '
                   'the config: this model has none to wrap')


def trainer_hook(post_tune: dict) -> Optional[dict]:
    """``post_tune.trainer`` (or its deprecated name ``surrogate_trainer``)."""
    if post_tune.get('surrogate_trainer'):
        warnings.warn('post_tune.surrogate_trainer is deprecated: name the '
                      'hook post_tune.trainer', FutureWarning, stacklevel=3)
        return post_tune['surrogate_trainer']
    return post_tune.get('trainer')


def apply_post_tune(cfg: Config) -> Config:
    """Apply ``cfg.post_tune`` in place and return ``cfg``.

    ``post_tune`` keys:

    * ``module_loss`` (dict or None): wraps ``model.decoder.module_loss``
      (recognizers) or ``model.det_head.module_loss`` (detectors); the
      original becomes its ``proxy``. None keeps the proxy loss (the
      control run of the main job). A CTC decoder's frame count
      (``ctc_seq_len``) is found by running the model once
      (:func:`~lsmmocr.engine.ctc_frames.ctc_frames`) unless given.
    * ``trainer`` (dict or None): the hook that trains the network the loss
      computes through (a :class:`LearnedSurrogateHook` for h_Φ, a
      :class:`DynamicLossHook` for E_ψ), appended to ``custom_hooks``.
      ``surrogate_trainer``, its earlier name, is read too (deprecated).
    * ``overrides`` (dict): merged into the config last, MMEngine style
      (``_delete_=True`` replaces a dict), e.g. the post-tuning schedule.
    """
    post_tune = cfg.get('post_tune')
    if not post_tune:
        return cfg
    post_tune = copy.deepcopy(post_tune)
    loss = post_tune.get('module_loss')
    if loss:
        owner = loss_owner(cfg)
        if _is_ctc(owner['module_loss']) and loss.get('ctc_seq_len') is None:
            loss['ctc_seq_len'] = ctc_frames(cfg)
            print_log(f'CTC decoder: {loss["ctc_seq_len"]} frames (found by '
                      'running the model on the training pipeline)',
                      logger='current')
        if owner['module_loss'].get('type') != loss.get('type'):
            owner['module_loss'] = dict(loss, proxy=owner['module_loss'])
    hook = trainer_hook(post_tune)
    if hook:
        cfg['custom_hooks'] = list(cfg.get('custom_hooks') or []) + [hook]
    cfg.merge(post_tune.get('overrides') or {})
    cfg['post_tune'] = None  # applied once
    return cfg


@RUNNERS.register_module()
class PostTuneRunner(Runner):
    """A :class:`~mmengine.runner.Runner` that first applies ``post_tune``.

    Registered in MMEngine's root runner registry so that MMOCR's
    ``tools/train.py`` and ``tools/test.py`` (which build ``runner_type`` from
    it) find it.
    """

    @classmethod
    def from_cfg(cls, cfg) -> Runner:
        if cfg.get('post_tune') and not (cfg.get('load_from') or cfg.get('resume')):
            print_log('post-tuning without load_from: the recognizer starts '
                      'from random weights; set load_from to a converged '
                      'checkpoint', logger='current', level=logging.WARNING)
        return super().from_cfg(apply_post_tune(copy.deepcopy(cfg)))

    def load_or_resume(self) -> None:
        """``load_from`` is where post-tuning *starts*; ``resume`` continues it.

        MMEngine resumes from ``load_from`` when both are set, i.e. from the
        proxy-trained recognizer (its optimizer and iteration counter), which
        silently discards the post-tuning done so far. Here ``resume``
        continues from the newest checkpoint in ``work_dir`` (recognizer, Φ,
        both optimizers, the pair sampler) and starts from ``load_from`` when
        the work dir has none yet.
        """
        if self._has_loaded or not self._resume:
            return super().load_or_resume()
        latest = find_latest_checkpoint(self.work_dir)
        if latest is not None:
            print_log(f'Resuming post-tuning from {latest}', logger='current')
            self.resume(latest)
            self._has_loaded = True
        elif self._load_from is not None:
            print_log(f'No post-tuning checkpoint in {self.work_dir} yet: '
                      f'starting from load_from={self._load_from}',
                      logger='current')
            self.load_checkpoint(self._load_from)
            self._has_loaded = True
