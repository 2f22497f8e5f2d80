"""A network a hook trains beside the model and attaches to the model's loss:
built (or loaded) at the start, kept out of the model's optimizer, stepped on
gradients averaged across ranks, saved in and restored from MMEngine
checkpoints. LS-ED's and LS-IoU's h_Φ (:mod:`.learned_surrogate_hook`) and
the dynamic loss's energy model E_ψ (:mod:`.dynamic_loss_hook`) are such
networks."""
from contextlib import contextmanager
from typing import Iterable, Iterator, List, Optional

import torch
from mmengine.dist import all_reduce, broadcast, get_dist_info, is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.utils import ProgressBar
from mmocr.registry import OPTIMIZERS

from ..surrogates.checkpoint import (build_surrogate, check_compatible,
                                     load_surrogate_file, surrogate_state)
from ..surrogates.surrogate_task import MetricSpace
from ..utils import unwrap_model


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


class AttachedNetworkHook(Hook):
    """Own a network (:attr:`surrogate`) and its optimizer for the model's
    losses of type :attr:`LOSS_TYPE`, which compute through it frozen
    (:class:`~lsmmocr.losses.attached_surrogate.AttachedSurrogate`).

    The network, its optimizer, the sampler's random state, the step count
    and :meth:`extra_state` are saved in MMEngine checkpoints under
    :attr:`CKPT_KEY`, so a resumed run continues exactly. Under
    torch.distributed the initial weights are broadcast from rank 0 and
    :meth:`apply_step` averages gradients across ranks, so the network stays
    identical on every rank.

    Subclasses set :attr:`LOSS_TYPE`, :attr:`CKPT_KEY`, :attr:`NAME` and
    implement :meth:`metric_space` and :meth:`make_sampler`.

    Args:
        surrogate (dict): The network's config (what the space fixes is
            added). Ignored when ``pretrained`` is set: the checkpoint's own
            is used.
        pretrained (str, optional): A checkpoint of the network.
        optimizer (dict): The network's optimizer. Defaults to Adam, lr 1e-4.
        sampler (dict): Keyword arguments of the sampler.
        seed (int): Seed of the sampler (plus the rank).
    """

    priority = 'NORMAL'
    LOSS_TYPE: type  # the module loss that computes through the network
    CKPT_KEY: str  # where checkpoints keep the network
    NAME: str  # prefix of the logged scalars
    CHECK_TARGETS = False  # require the space's ground-truth form to match

    def __init__(self,
                 surrogate: dict,
                 pretrained: Optional[str] = None,
                 optimizer: dict = dict(type='Adam', lr=1e-4),
                 sampler: dict = dict(),
                 seed: int = 0) -> None:
        self.surrogate_cfg = dict(surrogate)
        self.pretrained = pretrained
        self.optimizer_cfg = dict(optimizer)
        self.sampler_cfg = dict(sampler)
        self.seed = seed
        self.steps = 0

    def metric_space(self, losses: List[torch.nn.Module]) -> MetricSpace:
        """The space of the objects ``losses`` compare."""
        raise NotImplementedError

    def make_sampler(self, seed: int):
        """The hook's sampler (``state_dict``/``load_state_dict``)."""
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
            print_log(f'{self.NAME.upper()} network loaded from '
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
    def own_predictions(self, runner, iters: int) -> Iterator:
        """``iters`` batches of the model's own predictions (the losses'
        ``last_batch``) on training batches, before the first step: for a
        warm-up of the network. Training-mode forwards, as in post-tuning, so
        the batches are alike; drawn from a separate iterator and
        side-effect free, so the model starts from the same state and sees
        the same data stream as without the warm-up."""
        model = unwrap_model(runner.model)
        batches = _cycle(runner.train_dataloader)
        bar = ProgressBar(iters)
        with side_effect_free(model):
            for _ in range(iters):
                with torch.no_grad():
                    model(**model.data_preprocessor(next(batches), True),
                          mode='loss')
                yield self.take_batch()
                bar.update()

    def take_batch(self):
        """The last forward's batch (``last_batch`` of the losses), taken:
        a batch is used once."""
        batch = self.losses[0].last_batch
        for loss in self.losses:
            loss.last_batch = None
        return batch

    def apply_step(self, loss: torch.Tensor) -> None:
        """One optimizer step of the network on ``loss`` (gradients averaged
        across ranks)."""
        self.optimizer.zero_grad()
        loss.backward()
        if is_distributed():
            for p in self.surrogate.parameters():
                if p.grad is not None:
                    all_reduce(p.grad, op='mean')
        self.optimizer.step()

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
        # Resuming (or continuing from a post-tuned checkpoint) restores the
        # network with its optimizer and sampler, so the run continues exactly.
        self.surrogate.load_state_dict(state['state_dict'])
        self.optimizer.load_state_dict(state['optimizer'])
        self.sampler.load_state_dict(state['sampler'])
        self.steps = state['steps']
        self.load_extra_state(state)
