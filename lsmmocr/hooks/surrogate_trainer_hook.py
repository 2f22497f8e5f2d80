"""Train h_Φ alongside the recognizer during LS-ED post-tuning."""
from contextlib import contextmanager
from typing import Iterable, Iterator, List, Optional, Sequence

import torch
from mmengine.dist import all_reduce, broadcast, get_dist_info, is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.utils import ProgressBar
from mmocr.registry import HOOKS, MODELS, OPTIMIZERS
from scipy.stats import spearmanr

from ..losses.lsed_module_loss import LSEDBatch, LSEDModuleLoss, frozen
from ..surrogates.checkpoint import (build_surrogate, check_compatible,
                                     load_surrogate_file, surrogate_state)
from ..surrogates.pair_sampler import SOURCES, PairSampler
from ..surrogates.pairs import Pairs
from ..surrogates.sampled_decoding import greedy_edit_distances
from ..utils import unit_per_sample, unwrap_model

CKPT_KEY = 'lsed_surrogate'
MONITOR_INTERVAL = 10  # default: one extra forward pass every 10 steps


def find_lsed_losses(model: torch.nn.Module) -> List[LSEDModuleLoss]:
    """Every :class:`LSEDModuleLoss` inside ``model`` (unwrapped)."""
    return [m for m in unwrap_model(model).modules()
            if isinstance(m, LSEDModuleLoss)]


def _cycle(loader: Iterable) -> Iterator:
    """Batches of ``loader``, restarted whenever it runs out."""
    while True:
        yield from loader


@contextmanager
def side_effect_free(model: torch.nn.Module) -> Iterator[None]:
    """Forward passes inside leave no trace on training: torch's random state
    and the model's buffers (BatchNorm statistics) are restored."""
    buffers = {k: v.clone() for k, v in model.named_buffers()}
    with torch.random.fork_rng(devices=[]):
        yield
    for k, v in model.named_buffers():
        v.copy_(buffers[k])


def lookahead(surrogate: torch.nn.Module, probs: torch.Tensor,
              y: torch.Tensor, step_sizes: Sequence[float]) -> torch.Tensor:
    """``probs`` moved along the normalised −∇ê over the logits (log-probs)
    by each of ``step_sizes``: where the recognizer's next step takes its
    predictions. ``(len(step_sizes) * N, T, C)``."""
    logits = probs.clamp_min(1e-8).log().requires_grad_(True)
    with frozen(surrogate):
        e_hat = surrogate.distance(logits.softmax(-1), y)
    grad = torch.autograd.grad(e_hat.sum(), logits)[0]
    d = unit_per_sample(grad)
    return torch.cat([(logits - s * d).softmax(-1) for s in step_sizes]).detach()


@HOOKS.register_module()
class SurrogateTrainerHook(Hook):
    """Own h_Φ and its optimizer; after each recognizer step, take
    ``inner_steps`` steps of Φ on pairs from ``source``.

    The pairs of iteration ``t`` are built from the predictions of that
    iteration's forward pass (kept, detached, by :class:`LSEDModuleLoss`), so
    no second forward pass is needed; the recognizer's step ``t + 1`` then
    follows a surrogate fitted around its current predictions. Φ, its
    optimizer, the pair sampler's random state and the step count are saved in
    MMEngine checkpoints under ``lsed_surrogate``, so a resumed run continues
    exactly. Under torch.distributed, Φ's gradients are averaged across ranks
    and its initial weights broadcast from rank 0, so Φ stays identical.

    Args:
        surrogate (dict): h_Φ config, without ``num_classes``/``seq_len``
            (taken from the loss). Ignored for the architecture when
            ``pretrained`` is set: the checkpoint's own config is used.
        pretrained (str, optional): Surrogate checkpoint from
            ``tools/train_surrogate.py`` (global pre-training).
        optimizer (dict): Φ's optimizer. Defaults to Adam, lr 1e-4.
        fit_loss (dict): The surrogate objective.
            Defaults to ``SurrogateFitLoss(grad_penalty=0)``.
        source (str): ``'global'``, ``'local'`` or ``'local-global'``.
        inner_steps (int): J, Φ steps per recognizer step. Defaults to 1.
        warmup_iters (int): Φ steps on pairs from ``source`` (the model's own
            predictions on training batches) before the first
            recognizer step, so the model's first steps follow a surrogate
            fitted around its predictions rather than only the global
            pre-training. The warm-up draws its batches from a separate
            iterator and restores torch's random state and the model's
            buffers, so the recognizer starts from the same state and sees
            the same data stream as without it. Defaults to 0.
        lookahead_steps (sequence of float): Also fit Φ on *look-ahead*
            local pairs: the batch's predictions moved along −∇ê (logit
            steps of these L2 norms per sample), labelled with their true
            distances, so Φ is corrected exactly where the recognizer's next
            step would exploit it. Defaults to none.
        monitor_interval (int): Every this many iterations, forward the
            batch again after the recognizer's step (side-effect free) and
            log ``train/lsed_exploit_rate``: the share of monitored steps
            after which ê on the batch fell while its true total edit
            distance rose. 0 disables it. Defaults to 10 (one extra forward pass
            every 10 steps).
        sampler (dict): Keyword arguments of :class:`PairSampler`.
        seed (int): Seed of the pair sampler (plus the rank).
    """

    priority = 'NORMAL'

    def __init__(self,
                 surrogate: dict = dict(type='EditDistanceEmbedding'),
                 pretrained: Optional[str] = None,
                 optimizer: dict = dict(type='Adam', lr=1e-4),
                 fit_loss: dict = dict(type='SurrogateFitLoss',
                                       grad_penalty=0.0),
                 source: str = 'local-global',
                 inner_steps: int = 1,
                 warmup_iters: int = 0,
                 lookahead_steps: Sequence[float] = (),
                 monitor_interval: int = MONITOR_INTERVAL,
                 sampler: dict = dict(),
                 seed: int = 0) -> None:
        if source not in SOURCES:
            raise ValueError(f'source must be one of {SOURCES}, got {source!r}')
        if inner_steps < 0:
            raise ValueError(f'inner_steps must be >= 0, got {inner_steps}')
        if warmup_iters < 0:
            raise ValueError(f'warmup_iters must be >= 0, got {warmup_iters}')
        if monitor_interval < 0:
            raise ValueError(
                f'monitor_interval must be >= 0, got {monitor_interval}')
        self.surrogate_cfg = dict(surrogate)
        self.pretrained = pretrained
        self.optimizer_cfg = dict(optimizer)
        self.fit_loss = MODELS.build(fit_loss)
        self.source = source
        self.inner_steps = inner_steps
        self.warmup_iters = warmup_iters
        self.lookahead_steps = tuple(lookahead_steps)
        self.monitor_interval = monitor_interval
        self.exploited = self.monitored = 0
        self.sampler_cfg = dict(sampler)
        self.seed = seed
        self.steps = 0

    # ----------------------------------------------------------- set-up
    def before_run(self, runner) -> None:
        self.losses = find_lsed_losses(runner.model)
        if not self.losses:
            raise RuntimeError(
                'SurrogateTrainerHook found no LSEDModuleLoss in the model: '
                'set model.decoder.module_loss (configs/_base_/lsed_posttune.py '
                'does it through post_tune)')
        self.layout = self.losses[0].layout
        if any(loss.layout.meta() != self.layout.meta() for loss in self.losses):
            raise ValueError('all LSEDModuleLoss modules must share one layout')
        state = None
        if self.pretrained:
            state = load_surrogate_file(self.pretrained, self.layout,
                                        check_targets=True)
            self.surrogate_cfg = dict(state['meta']['surrogate'])
        self.surrogate = build_surrogate(self.surrogate_cfg, self.layout)
        if state is not None:
            self.surrogate.load_state_dict(state['state_dict'])
            print_log(f'LS-ED surrogate loaded from {self.pretrained}',
                      logger='current')
        device = next(runner.model.parameters()).device
        self.surrogate.to(device)
        if is_distributed():
            for p in self.surrogate.parameters():
                broadcast(p.data, src=0)
        self.optimizer = OPTIMIZERS.build(
            dict(self.optimizer_cfg, params=self.surrogate.parameters()))
        rank, _ = get_dist_info()
        self.sampler = PairSampler(self.layout, seed=self.seed + rank,
                                   **self.sampler_cfg)
        for loss in self.losses:
            loss.attach_surrogate(self.surrogate)

    def before_train(self, runner) -> None:
        # A resumed run (or one continuing a post-tuned checkpoint) is warm.
        if self.warmup_iters and self.steps == 0 and runner.iter == 0:
            self._warm_up(runner)

    def _warm_up(self, runner) -> None:
        # Training-mode forwards, as in post-tuning, so the pairs are alike.
        model = unwrap_model(runner.model)
        batches = _cycle(runner.train_dataloader)
        bar = ProgressBar(self.warmup_iters)
        with side_effect_free(model):
            for _ in range(self.warmup_iters):
                with torch.no_grad():
                    data = model.data_preprocessor(next(batches), True)
                    model(**data, mode='loss')
                out = self._step(self._take_batch())
                bar.update()
        self._log(runner, out)
        print_log(f'\nLS-ED surrogate warmed up: {self.warmup_iters} local '
                  f'steps, last |ê-e| {float(out["approx_error"]):.3f}',
                  logger='current')

    # ----------------------------------------------------------- training
    def _take_batch(self) -> Optional[LSEDBatch]:
        """The last forward's predictions, taken (a batch is used once)."""
        batch = self.losses[0].last_batch
        for loss in self.losses:
            loss.last_batch = None
        return batch

    def _pairs(self, batch: LSEDBatch) -> Pairs:
        pairs = self.sampler.sample(self.source, batch.gt_indexes, batch.probs)
        if not self.lookahead_steps:
            return pairs
        device = next(self.surrogate.parameters()).device
        probs = batch.probs.to(device)
        ahead = lookahead(self.surrogate, probs,
                          self.layout.targets(batch.gt_indexes, probs),
                          self.lookahead_steps)
        k = len(self.lookahead_steps)
        return Pairs.cat([pairs, self.sampler.labelled(
            ahead, list(batch.gt_indexes) * k)])

    def _step(self, batch: LSEDBatch) -> dict:
        device = next(self.surrogate.parameters()).device
        pairs = self._pairs(batch)
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

    def _distances(self, batch: LSEDBatch):
        """Total ê (current Φ) and total true edit distance of ``batch``."""
        lay, device = self.layout, next(self.surrogate.parameters()).device
        probs = batch.probs.to(device)
        with torch.no_grad():
            e_hat = self.surrogate.distance(
                probs, lay.targets(batch.gt_indexes, probs))
        e = greedy_edit_distances(lay, batch.probs, lay.texts(batch.gt_indexes))
        return float(e_hat.sum()), int(e.sum())

    def _monitor(self, runner, before: LSEDBatch, data_batch) -> None:
        """Did the recognizer's step lower ê while the true ED rose?"""
        model = unwrap_model(runner.model)
        with side_effect_free(model), torch.no_grad():
            model(**model.data_preprocessor(data_batch, True), mode='loss')
        after = self._take_batch()
        (e_hat0, e0), (e_hat1, e1) = (self._distances(b) for b in (before, after))
        self.monitored += 1
        self.exploited += int(e_hat1 < e_hat0 and e1 > e0)
        hub = runner.message_hub
        hub.update_scalar('train/lsed_exploit_rate',
                          self.exploited / self.monitored)
        hub.update_scalar('train/lsed_step_ed_change', e1 - e0)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        batch = self._take_batch()
        if batch is None:
            return
        if (self.monitor_interval and data_batch is not None
                and (runner.iter + 1) % self.monitor_interval == 0):
            self._monitor(runner, batch, data_batch)
        for _ in range(self.inner_steps):
            out = self._step(batch)
        self.steps += 1
        if self.inner_steps:
            self._log(runner, out)

    def _log(self, runner, out: dict) -> None:
        hub = runner.message_hub
        hub.update_scalar('train/lsed_approx_error',
                          float(out['approx_error']))
        hub.update_scalar('train/lsed_grad_norm', float(out['grad_norm']))
        e, e_hat = out['e'].numpy(), out['e_hat'].cpu().numpy()
        if e.std() > 0 and e_hat.std() > 0:
            hub.update_scalar('train/lsed_spearman',
                              float(spearmanr(e_hat, e).statistic))

    # ----------------------------------------------------------- checkpoints
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = surrogate_state(self.surrogate, self.layout, self.surrogate_cfg)
        state.update(optimizer=self.optimizer.state_dict(),
                     sampler=self.sampler.state_dict(), steps=self.steps,
                     monitor=(self.exploited, self.monitored))
        checkpoint[CKPT_KEY] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(CKPT_KEY)
        if state is None:  # e.g. load_from a proxy-trained recognizer
            return
        check_compatible(state, self.layout, 'in the loaded checkpoint',
                         check_targets=True)
        # Resuming (or continuing from a post-tuned checkpoint) restores Φ
        # with its optimizer and sampler, so the run continues exactly.
        self.surrogate.load_state_dict(state['state_dict'])
        self.optimizer.load_state_dict(state['optimizer'])
        self.sampler.load_state_dict(state['sampler'])
        self.steps = state['steps']
        self.exploited, self.monitored = state.get('monitor', (0, 0))
