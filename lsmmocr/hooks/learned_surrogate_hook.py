"""The learned-surrogate mechanism of post-tuning, for any metric: own h_Φ
and its optimizer, fit Φ on pairs around the model's own predictions after
each model step, keep it in checkpoints and in step across ranks.

LS-ED (:class:`~.SurrogateTrainerHook`) and LS-IoU (:class:`~.LSIoUTrainerHook`)
are its instances; each says which module loss it serves, the metric space,
and how a batch of the model's predictions becomes labelled pairs.
"""
from contextlib import contextmanager
from typing import Iterator, List, Optional

import torch
from mmengine.dist import all_reduce, broadcast, get_dist_info, is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmocr.registry import MODELS, OPTIMIZERS
from scipy.stats import spearmanr

from ..surrogates.checkpoint import (build_surrogate, check_compatible,
                                     load_surrogate_file, surrogate_state)
from ..surrogates.pairs import SOURCES, Pairs
from ..surrogates.surrogate_task import MetricSpace
from ..utils import unwrap_model


@contextmanager
def side_effect_free(model: torch.nn.Module) -> Iterator[None]:
    """Forward passes inside leave no trace on training: torch's random state
    and the model's buffers (BatchNorm statistics) are restored."""
    buffers = {k: v.clone() for k, v in model.named_buffers()}
    with torch.random.fork_rng(devices=[]):
        yield
    for k, v in model.named_buffers():
        v.copy_(buffers[k])


class LearnedSurrogateHook(Hook):
    """After each model step, take ``inner_steps`` steps of Φ on pairs from
    ``source`` built from that step's predictions (kept, detached, by the
    module loss as ``last_batch``), so the model's next step follows a
    surrogate fitted around its current predictions. Φ, its optimizer, the
    pair sampler's random state and the step count are saved in MMEngine
    checkpoints under :attr:`CKPT_KEY`, so a resumed run continues exactly.
    Under torch.distributed, Φ's gradients are averaged across ranks and its
    initial weights broadcast from rank 0, so Φ stays identical.

    Subclasses set :attr:`LOSS_TYPE`, :attr:`CKPT_KEY`, :attr:`NAME` and
    implement :meth:`metric_space`, :meth:`make_sampler` and :meth:`pairs`.

    Args:
        surrogate (dict): h_Φ config (what the space fixes is added).
            Ignored when ``pretrained`` is set: the checkpoint's own is used.
        pretrained (str, optional): Surrogate checkpoint from
            ``tools/train_surrogate.py`` (global pre-training).
        optimizer (dict): Φ's optimizer. Defaults to Adam, lr 1e-4.
        fit_loss (dict): The surrogate objective.
        source (str): ``'global'``, ``'local'`` or ``'local-global'``.
        inner_steps (int): J, Φ steps per model step. 0 freezes Φ.
        sampler (dict): Keyword arguments of the pair sampler.
        seed (int): Seed of the pair sampler (plus the rank).
    """

    priority = 'NORMAL'
    LOSS_TYPE: type  # the module loss whose ê this hook's Φ computes
    CKPT_KEY: str  # where checkpoints keep Φ
    NAME: str  # 'lsed', 'lsiou': prefix of the logged scalars
    CHECK_TARGETS = False  # require the space's ground-truth form to match

    def __init__(self,
                 surrogate: dict,
                 pretrained: Optional[str] = None,
                 optimizer: dict = dict(type='Adam', lr=1e-4),
                 fit_loss: dict = dict(type='SurrogateFitLoss', grad_penalty=0.0),
                 source: str = 'local-global',
                 inner_steps: int = 1,
                 sampler: dict = dict(),
                 seed: int = 0) -> None:
        if source not in SOURCES:
            raise ValueError(f'source must be one of {SOURCES}, got {source!r}')
        if inner_steps < 0:
            raise ValueError(f'inner_steps must be >= 0, got {inner_steps}')
        self.surrogate_cfg = dict(surrogate)
        self.pretrained = pretrained
        self.optimizer_cfg = dict(optimizer)
        self.fit_loss = MODELS.build(fit_loss)
        self.source = source
        self.inner_steps = inner_steps
        self.sampler_cfg = dict(sampler)
        self.seed = seed
        self.steps = 0

    # ------------------------------------------------------ what a metric says
    def metric_space(self, losses: List[torch.nn.Module]) -> MetricSpace:
        """The space of the objects ``losses`` compare."""
        raise NotImplementedError

    def make_sampler(self, seed: int):
        """The pair sampler (``state_dict``/``load_state_dict``)."""
        raise NotImplementedError

    def pairs(self, batch) -> Pairs:
        """Labelled pairs for Φ from a module loss's ``last_batch``."""
        raise NotImplementedError

    # ----------------------------------------------------------- set-up
    def before_run(self, runner) -> None:
        self.losses = [m for m in unwrap_model(runner.model).modules()
                       if isinstance(m, self.LOSS_TYPE)]
        if not self.losses:
            raise RuntimeError(
                f'{type(self).__name__} found no {self.LOSS_TYPE.__name__} in '
                'the model: its post-tuning base config sets it through '
                'post_tune.module_loss')
        self.space = self.metric_space(self.losses)
        state = None
        if self.pretrained:
            state = load_surrogate_file(self.pretrained, self.space,
                                        check_targets=self.CHECK_TARGETS)
            self.surrogate_cfg = dict(state['meta']['surrogate'])
        self.surrogate = build_surrogate(self.surrogate_cfg, self.space)
        if state is not None:
            self.surrogate.load_state_dict(state['state_dict'])
            print_log(f'{self.NAME.upper()} surrogate loaded from '
                      f'{self.pretrained}', logger='current')
        device = next(runner.model.parameters()).device
        self.surrogate.to(device)
        if is_distributed():
            for p in self.surrogate.parameters():
                broadcast(p.data, src=0)
        self.optimizer = OPTIMIZERS.build(
            dict(self.optimizer_cfg, params=self.surrogate.parameters()))
        rank, _ = get_dist_info()
        self.sampler = self.make_sampler(self.seed + rank)
        for loss in self.losses:
            loss.attach_surrogate(self.surrogate)

    # ----------------------------------------------------------- training
    def _take_batch(self):
        """The last forward's predictions, taken (a batch is used once)."""
        batch = self.losses[0].last_batch
        for loss in self.losses:
            loss.last_batch = None
        return batch

    def _step(self, batch) -> dict:
        device = next(self.surrogate.parameters()).device
        pairs = self.pairs(batch)
        out = self.fit_loss(self.surrogate, pairs.z.to(device),
                            pairs.y.to(device), pairs.e.to(device))
        self.optimizer.zero_grad()
        out['loss'].backward()
        if is_distributed():
            for p in self.surrogate.parameters():
                if p.grad is not None:
                    all_reduce(p.grad, op='mean')
        self.optimizer.step()
        out['e'] = pairs.e
        return out

    def before_fit(self, runner, batch, data_batch) -> None:
        """Called with each step's predictions before Φ fits them."""

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        batch = self._take_batch()
        if batch is None:
            return
        self.before_fit(runner, batch, data_batch)
        for _ in range(self.inner_steps):
            out = self._step(batch)
        self.steps += 1
        if self.inner_steps:
            self._log(runner, out)

    def _log(self, runner, out: dict) -> None:
        hub = runner.message_hub
        hub.update_scalar(f'train/{self.NAME}_approx_error',
                          float(out['approx_error']))
        hub.update_scalar(f'train/{self.NAME}_grad_norm', float(out['grad_norm']))
        e, e_hat = out['e'].numpy(), out['e_hat'].detach().cpu().numpy()
        if e.std() > 0 and e_hat.std() > 0:
            hub.update_scalar(f'train/{self.NAME}_spearman',
                              float(spearmanr(e_hat, e).statistic))

    # ----------------------------------------------------------- checkpoints
    def extra_state(self) -> dict:
        """More of a subclass's state for checkpoints."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        """Restore :meth:`extra_state`."""

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = surrogate_state(self.surrogate, self.space, self.surrogate_cfg)
        state.update(optimizer=self.optimizer.state_dict(),
                     sampler=self.sampler.state_dict(), steps=self.steps,
                     **self.extra_state())
        checkpoint[self.CKPT_KEY] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(self.CKPT_KEY)
        if state is None:  # e.g. load_from a proxy-trained model
            return
        check_compatible(state, self.space, 'in the loaded checkpoint',
                         check_targets=self.CHECK_TARGETS)
        # Resuming (or continuing from a post-tuned checkpoint) restores Φ
        # with its optimizer and sampler, so the run continues exactly.
        self.surrogate.load_state_dict(state['state_dict'])
        self.optimizer.load_state_dict(state['optimizer'])
        self.sampler.load_state_dict(state['sampler'])
        self.steps = state['steps']
        self.load_extra_state(state)
