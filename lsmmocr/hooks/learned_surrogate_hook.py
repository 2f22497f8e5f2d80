"""The learned-surrogate hook of post-tuning, for any metric: its task
(:class:`~lsmmocr.surrogates.surrogate_task.SurrogateTask`: LS-ED's
``EditDistanceTask``, LS-IoU's ``RotatedIoUTask``) says which loss it serves,
the space, h_Φ, the fit objective and how a batch of the model's predictions
becomes labelled pairs; the hook owns h_Φ and fits it after every model step,
the way MMEngine's ``EMAHook`` takes its averaging strategy as a config."""
from typing import Any, List, Optional, Sequence

import torch
from mmengine.logging import print_log
from mmocr.registry import HOOKS, MODELS, TASK_UTILS
from scipy.stats import spearmanr

from ..surrogates.pairs import SOURCES, Pairs
from ..surrogates.surrogate_task import MetricSpace, SurrogateTask
from ..utils import check_settings, side_effect_free, unwrap_model
from .attached_network_hook import AttachedNetworkHook


@HOOKS.register_module()
class LearnedSurrogateHook(AttachedNetworkHook):
    """After each model step, take ``inner_steps`` steps of Φ on pairs from
    ``source`` built from that step's predictions (handed off, detached, by
    the task's module loss), so the model's next step follows a surrogate
    fitted around its current predictions. Checkpoints keep Φ under the
    task's ``ckpt_key``; ranks are kept in step
    (:class:`AttachedNetworkHook`).

    Args:
        task (dict): The metric's task (``TASK_UTILS``), without its space
            (the model's loss gives it), e.g. ``dict(type='EditDistanceTask',
            surrogate=dict(type='EditDistanceEmbedding'), fit_loss=...,
            sampler=...)``.
        pretrained (str, optional): h_Φ checkpoint from
            ``tools/train_surrogate.py`` (global pre-training).
        optimizer (dict): Φ's optimizer. Defaults to Adam, lr 1e-4.
        source (str): ``'global'``, ``'local'`` or ``'local-global'``.
        inner_steps (int): J, Φ steps per model step. 0 freezes Φ.
        warmup_iters (int): Φ steps on pairs from ``source`` (the model's own
            predictions on training batches) before the first model step,
            so its first steps follow a surrogate fitted around its
            predictions. Drawn from a separate iterator, side-effect free:
            the model starts from the same state and sees the same data
            stream as without it. Defaults to 0.
        lookahead_steps (sequence of float): Also fit Φ on *look-ahead*
            pairs: the batch's predictions moved along −∇ê by these step
            sizes (the task says in which space), labelled with their true
            distances, so Φ is corrected exactly where the model's next step
            would exploit it. Defaults to none.
        monitor_interval (int): Every this many iterations, forward the
            batch again after the model's step (side-effect free) and log
            ``train/<name>_exploit_rate``: the share of monitored steps
            after which ê on the batch fell while the true distance rose.
            0 disables it. Defaults to 0.
        proxy_from (int, optional): The switch schedule: from this
            iteration on, the task's losses train on their proxy alone (ê's
            weight 0, the proxy's 1) and Φ is no longer fitted. Defaults to
            None (ê throughout).
        seed (int): Seed of the pair sampler (plus the rank).
    """

    def __init__(self,
                 task: dict,
                 source: str = 'local-global',
                 inner_steps: int = 1,
                 warmup_iters: int = 0,
                 lookahead_steps: Sequence[float] = (),
                 monitor_interval: int = 0,
                 proxy_from: Optional[int] = None,
                 **kwargs) -> None:
        check_settings(
            source=(source, source in SOURCES, f'one of {SOURCES}'),
            inner_steps=(inner_steps, inner_steps >= 0, '>= 0'),
            warmup_iters=(warmup_iters, warmup_iters >= 0, '>= 0'),
            monitor_interval=(monitor_interval, monitor_interval >= 0, '>= 0'),
            proxy_from=(proxy_from, proxy_from is None or proxy_from >= 0,
                        'None or >= 0'))
        self.task: SurrogateTask = TASK_UTILS.build(task)
        super().__init__(network=self.task.surrogate,
                         loss_type=MODELS.get(self.task.loss_type),
                         ckpt_key=self.task.ckpt_key,
                         check_targets=self.task.check_targets, **kwargs)
        self.fit_loss = MODELS.build(self.task.fit_loss)
        self.source = source
        self.inner_steps = inner_steps
        self.warmup_iters = warmup_iters
        self.lookahead_steps = tuple(lookahead_steps)
        self.monitor_interval = monitor_interval
        self.proxy_from = proxy_from
        self.exploited = self.monitored = 0

    def metric_space(self, losses: List[torch.nn.Module]) -> MetricSpace:
        self.task = self.task.bind(self.task.space_of(losses))
        return self.task.space

    def make_sampler(self, seed: int):
        return self.task.pair_sampler(seed)

    # ----------------------------------------------------------- Φ's steps
    def pairs(self, batches: List[Any]) -> Pairs:
        """Labelled pairs for Φ from the step's batches."""
        parts = [self.task.pairs(self.sampler, self.source, b) for b in batches]
        if self.lookahead_steps:
            parts += [self.task.lookahead_pairs(self.network, self.sampler, b,
                                                self.lookahead_steps)
                      for b in batches]
        return Pairs.cat(parts)

    def fit_step(self, batches: List[Any]) -> dict:
        """One Φ step on pairs from ``batches``."""
        device = next(self.network.parameters()).device
        pairs = self.pairs(batches)
        out = self.fit_loss(self.network, pairs.z.to(device),
                            pairs.y.to(device), pairs.e.to(device))
        self.apply_step(out['loss'])
        out['e'] = pairs.e
        return out

    def before_train(self, runner) -> None:
        # A resumed run (or one continuing a post-tuned checkpoint) is warm.
        if self.warmup_iters and self.steps == 0 and runner.iter == 0:
            for batches in self.own_predictions(runner, self.warmup_iters):
                out = self.fit_step(batches)
            self._log(runner, out)
            print_log(f'\n{self.task.name} surrogate warmed up: '
                      f'{self.warmup_iters} steps, last |ê-e| '
                      f'{float(out["approx_error"]):.3f}', logger='current')

    def switched(self, runner) -> bool:
        """Whether the switch schedule has passed to the proxy."""
        return self.proxy_from is not None and runner.iter >= self.proxy_from

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        if self.switched(runner) and self.losses[0].loss_weight:
            for loss in self.losses:  # also after a resume past the switch
                loss.loss_weight, loss.proxy_weight = 0.0, 1.0
            print_log(f'iteration {runner.iter}: {self.task.name} switched '
                      'to the proxy loss', logger='current')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        batches = self.pop_batches()
        if not batches or self.switched(runner):
            return
        if (self.monitor_interval and data_batch is not None
                and (runner.iter + 1) % self.monitor_interval == 0):
            self._monitor(runner, batches, data_batch)
        for _ in range(self.inner_steps):
            out = self.fit_step(batches)
        self.steps += 1
        if self.inner_steps:
            self._log(runner, out)

    # ----------------------------------------------------------- reports
    def _totals(self, batches: List[Any]):
        """Total ê (current Φ) and total true distance of ``batches``."""
        e_hat, e = zip(*(self.task.distances(self.network, b) for b in batches))
        return float(sum(x.sum() for x in e_hat)), float(sum(x.sum() for x in e))

    def _monitor(self, runner, before: List[Any], data_batch: dict) -> None:
        """Did the model's step lower ê while the true distance rose?"""
        model = unwrap_model(runner.model)
        with side_effect_free(model), torch.no_grad():
            model(**model.data_preprocessor(data_batch, True), mode='loss')
        (e_hat0, e0), (e_hat1, e1) = map(self._totals,
                                         (before, self.pop_batches()))
        self.monitored += 1
        self.exploited += int(e_hat1 < e_hat0 and e1 > e0)
        name, hub = self.task.name, runner.message_hub
        hub.update_scalar(f'train/{name}_exploit_rate',
                          self.exploited / self.monitored)
        hub.update_scalar(f'train/{name}_step_e_change', e1 - e0)

    def _log(self, runner, out: dict) -> None:
        name, hub = self.task.name, runner.message_hub
        hub.update_scalar(f'train/{name}_approx_error',
                          float(out['approx_error']))
        hub.update_scalar(f'train/{name}_grad_norm', float(out['grad_norm']))
        e, e_hat = out['e'].numpy(), out['e_hat'].detach().cpu().numpy()
        if e.std() > 0 and e_hat.std() > 0:
            hub.update_scalar(f'train/{name}_spearman',
                              float(spearmanr(e_hat, e).statistic))

    def extra_state(self) -> dict:
        return dict(monitor=(self.exploited, self.monitored))

    def load_extra_state(self, state: dict) -> None:
        self.exploited, self.monitored = state.get('monitor', (0, 0))
