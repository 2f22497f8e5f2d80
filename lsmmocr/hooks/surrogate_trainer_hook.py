"""LS-ED's surrogate trainer: h_Φ trained alongside the recognizer during
post-tuning (the learned-surrogate mechanism of :mod:`.learned_surrogate_hook`
for edit distance, plus a warm-up, look-ahead pairs and the exploitation
monitor)."""
from typing import List, Sequence

import torch
from mmengine.logging import print_log
from mmocr.registry import HOOKS

from ..losses.attached_surrogate import frozen
from ..losses.lsed_module_loss import LSEDBatch, LSEDModuleLoss, lsed_distance
from ..surrogates.pair_sampler import PairSampler
from ..surrogates.pairs import Pairs
from ..surrogates.sampled_decoding import greedy_edit_distances
from ..surrogates.sequence_layout import SequenceLayout
from ..utils import unit_per_sample, unwrap_model
from .attached_network_hook import side_effect_free
from .learned_surrogate_hook import LearnedSurrogateHook

CKPT_KEY = 'lsed_surrogate'
MONITOR_INTERVAL = 10  # default: one extra forward pass every 10 steps


def find_lsed_losses(model: torch.nn.Module) -> List[LSEDModuleLoss]:
    """Every :class:`LSEDModuleLoss` inside ``model`` (unwrapped)."""
    return [m for m in unwrap_model(model).modules()
            if isinstance(m, LSEDModuleLoss)]


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
class SurrogateTrainerHook(LearnedSurrogateHook):
    """LS-ED's h_Φ trained alongside the recognizer (see
    :class:`LearnedSurrogateHook` for the shared mechanism: Φ's steps after
    each recognizer step, checkpoints under ``lsed_surrogate``, ranks kept in
    step).

    Args:
        surrogate (dict): h_Φ config, without ``num_classes``/``seq_len``
            (taken from the loss). Defaults to ``EditDistanceEmbedding``.
        pretrained, optimizer, fit_loss, source, inner_steps, seed: as
            :class:`LearnedSurrogateHook`.
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
    """

    LOSS_TYPE = LSEDModuleLoss
    CKPT_KEY = CKPT_KEY
    NAME = 'lsed'
    CHECK_TARGETS = True

    def __init__(self,
                 surrogate: dict = dict(type='EditDistanceEmbedding'),
                 warmup_iters: int = 0,
                 lookahead_steps: Sequence[float] = (),
                 monitor_interval: int = MONITOR_INTERVAL,
                 **kwargs) -> None:
        super().__init__(surrogate=surrogate, **kwargs)
        if warmup_iters < 0:
            raise ValueError(f'warmup_iters must be >= 0, got {warmup_iters}')
        if monitor_interval < 0:
            raise ValueError(
                f'monitor_interval must be >= 0, got {monitor_interval}')
        self.warmup_iters = warmup_iters
        self.lookahead_steps = tuple(lookahead_steps)
        self.monitor_interval = monitor_interval
        self.exploited = self.monitored = 0

    def metric_space(self, losses: List[LSEDModuleLoss]) -> SequenceLayout:
        layout = losses[0].layout
        if any(loss.layout.meta() != layout.meta() for loss in losses):
            raise ValueError('all LSEDModuleLoss modules must share one layout')
        return layout

    def make_sampler(self, seed: int) -> PairSampler:
        return PairSampler(self.space, seed=seed, **self.sampler_cfg)

    @property
    def layout(self) -> SequenceLayout:
        return self.space

    def before_train(self, runner) -> None:
        # A resumed run (or one continuing a post-tuned checkpoint) is warm.
        if self.warmup_iters and self.steps == 0 and runner.iter == 0:
            self._warm_up(runner)

    def _warm_up(self, runner) -> None:
        for batch in self.own_predictions(runner, self.warmup_iters):
            out = self._step(batch)
        self._log(runner, out)
        print_log(f'\nLS-ED surrogate warmed up: {self.warmup_iters} local '
                  f'steps, last |ê-e| {float(out["approx_error"]):.3f}',
                  logger='current')

    def pairs(self, batch: LSEDBatch) -> Pairs:
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

    def _distances(self, batch: LSEDBatch):
        """Total ê (current Φ) and total true edit distance of ``batch``."""
        lay, device = self.layout, next(self.surrogate.parameters()).device
        probs = batch.probs.to(device)
        with torch.no_grad():
            e_hat = lsed_distance(self.surrogate, lay, probs, batch.gt_indexes)
        e = greedy_edit_distances(lay, batch.probs, lay.texts(batch.gt_indexes))
        return float(e_hat.sum()), int(e.sum())

    def before_fit(self, runner, batch: LSEDBatch, data_batch) -> None:
        """Every ``monitor_interval`` steps: did the recognizer's step lower
        ê while the true ED rose?"""
        if not (self.monitor_interval and data_batch is not None
                and (runner.iter + 1) % self.monitor_interval == 0):
            return
        model = unwrap_model(runner.model)
        with side_effect_free(model), torch.no_grad():
            model(**model.data_preprocessor(data_batch, True), mode='loss')
        after = self.take_batch()
        (e_hat0, e0), (e_hat1, e1) = (self._distances(b) for b in (batch, after))
        self.monitored += 1
        self.exploited += int(e_hat1 < e_hat0 and e1 > e0)
        hub = runner.message_hub
        hub.update_scalar('train/lsed_exploit_rate',
                          self.exploited / self.monitored)
        hub.update_scalar('train/lsed_step_ed_change', e1 - e0)

    def extra_state(self) -> dict:
        return dict(monitor=(self.exploited, self.monitored))

    def load_extra_state(self, state: dict) -> None:
        self.exploited, self.monitored = state.get('monitor', (0, 0))
