"""A network a hook trains beside the model and attaches to the model's loss:
built (or loaded) at the start, kept out of the model's optimizer, stepped on
gradients averaged across ranks, saved in and restored from MMEngine
checkpoints. LS-ED's and LS-IoU's h_Φ (:mod:`.learned_surrogate_hook`) and
the dynamic loss's energy model E_ψ (:mod:`.dynamic_loss_hook`) are such
networks."""
from typing import Any, Iterable, Iterator, List, Optional

import torch
from mmengine.dist import all_reduce, broadcast, get_dist_info, is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.utils import ProgressBar
from mmocr.registry import OPTIMIZERS

from ..losses.attached_network import AttachedNetworkLoss
from ..surrogates.checkpoint import (build_surrogate, check_compatible,
                                     load_surrogate_file, surrogate_state)
from ..surrogates.surrogate_task import MetricSpace
from ..utils import modules_of, side_effect_free, unwrap_model


def _cycle(loader: Iterable) -> Iterator:
    """Batches of ``loader``, restarted whenever it runs out."""
    while True:
        yield from loader


class AttachedNetworkHook(Hook):
    """Own a network (:attr:`network`) and its optimizer for the model's
    losses of type ``loss_type``, which compute through it frozen and hand
    each forward's batch back (:class:`~lsmmocr.losses.AttachedNetworkLoss`).

    The network, its optimizer, the sampler's random state, the step count
    and :meth:`extra_state` are saved in MMEngine checkpoints under
    ``ckpt_key``, so a resumed run continues exactly. Under
    torch.distributed the initial weights are broadcast from rank 0 and
    :meth:`apply_step` averages gradients across ranks, so the network stays
    identical on every rank.

    Subclasses implement :meth:`metric_space` and :meth:`make_sampler`.

    Args:
        network (dict): The network's config (what the space fixes is
            added). Ignored when ``pretrained`` is set: the checkpoint's own
            is used.
        loss_type (type): The module loss that computes through it.
        ckpt_key (str): Where checkpoints keep it.
        check_targets (bool): A loaded network's ground-truth form must
            match the model's too.
        pretrained (str, optional): A checkpoint of the network.
        optimizer (dict): The network's optimizer. Defaults to Adam, lr 1e-4.
        seed (int): Seed of the sampler (plus the rank).
    """

    priority = 'NORMAL'

    def __init__(self,
                 network: dict,
                 loss_type: type,
                 ckpt_key: str,
                 check_targets: bool = False,
                 pretrained: Optional[str] = None,
                 optimizer: dict = dict(type='Adam', lr=1e-4),
                 seed: int = 0) -> None:
        if not issubclass(loss_type, AttachedNetworkLoss):
            raise TypeError(f'{loss_type.__name__} computes through no '
                            'attached network')
        self.network_cfg = dict(network)
        self.loss_type = loss_type
        self.ckpt_key = ckpt_key
        self.check_targets = check_targets
        self.pretrained = pretrained
        self.optimizer_cfg = dict(optimizer)
        self.seed = seed
        self.steps = 0

    def metric_space(self, losses: List[AttachedNetworkLoss]) -> MetricSpace:
        """The space of the objects ``losses`` compare."""
        raise NotImplementedError

    def make_sampler(self, seed: int):
        """The hook's sampler (``state_dict``/``load_state_dict``)."""
        raise NotImplementedError

    # ----------------------------------------------------------- set-up
    def before_run(self, runner) -> None:
        self.losses = modules_of(runner.model, self.loss_type)
        if not self.losses:
            raise RuntimeError(
                f'{type(self).__name__} found no {self.loss_type.__name__} in '
                'the model: its post-tuning base config sets it through '
                'post_tune.module_loss')
        self.space = self.metric_space(self.losses)
        state = None
        if self.pretrained:
            state = load_surrogate_file(self.pretrained, self.space,
                                        check_targets=self.check_targets)
            self.network_cfg = dict(state['meta']['surrogate'])
        self.network = build_surrogate(self.network_cfg, self.space)
        if state is not None:
            self.network.load_state_dict(state['state_dict'])
            print_log(f'{self.ckpt_key} loaded from {self.pretrained}',
                      logger='current')
        device = next(runner.model.parameters()).device
        self.network.to(device)
        if is_distributed():
            for p in self.network.parameters():
                broadcast(p.data, src=0)
        self.optimizer = OPTIMIZERS.build(
            dict(self.optimizer_cfg, params=self.network.parameters()))
        rank, _ = get_dist_info()
        self.sampler = self.make_sampler(self.seed + rank)
        for loss in self.losses:
            loss.attach(self.network)

    # ----------------------------------------------------------- training
    def pop_batches(self) -> List[Any]:
        """The batches the losses handed off in the last forward (taken)."""
        batches = [loss.pop_batch() for loss in self.losses]
        return [b for b in batches if b is not None]

    def own_predictions(self, runner, iters: int) -> Iterator[List[Any]]:
        """``iters`` times the model's own predictions (:meth:`pop_batches`)
        on training batches, before the first step: for a warm-up of the
        network. Training-mode forwards, as in post-tuning, so the batches
        are alike; drawn from a separate iterator and side-effect free, so
        the model starts from the same state and sees the same data stream
        as without the warm-up."""
        model = unwrap_model(runner.model)
        batches = _cycle(runner.train_dataloader)
        bar = ProgressBar(iters)
        with side_effect_free(model):
            for _ in range(iters):
                with torch.no_grad():
                    model(**model.data_preprocessor(next(batches), True),
                          mode='loss')
                yield self.pop_batches()
                bar.update()

    def apply_step(self, loss: torch.Tensor) -> None:
        """One optimizer step of the network on ``loss`` (gradients averaged
        across ranks)."""
        self.optimizer.zero_grad()
        loss.backward()
        if is_distributed():
            for p in self.network.parameters():
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
        state = surrogate_state(self.network, self.space, self.network_cfg)
        state.update(optimizer=self.optimizer.state_dict(),
                     sampler=self.sampler.state_dict(), steps=self.steps,
                     **self.extra_state())
        checkpoint[self.ckpt_key] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(self.ckpt_key)
        if state is None:  # e.g. load_from a proxy-trained model
            return
        check_compatible(state, self.space, 'in the loaded checkpoint',
                         check_targets=self.check_targets)
        # Resuming (or continuing from a post-tuned checkpoint) restores the
        # network with its optimizer and sampler, so the run continues exactly.
        self.network.load_state_dict(state['state_dict'])
        self.optimizer.load_state_dict(state['optimizer'])
        self.sampler.load_state_dict(state['sampler'])
        self.steps = state['steps']
        self.load_extra_state(state)
