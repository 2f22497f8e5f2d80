"""The dynamic loss's trainer: E_ψ learned through the recognizer's step on
it (Shankar & Piratla, 2022) — implicit differentiation or one unrolled step
— or with Tu & Gimpel's margin objective (the non-implicit reference)."""
from typing import List, Optional

import torch
from mmengine.logging import print_log
from mmocr.registry import DATASETS, HOOKS

from ..datasets.held_out import HeldOutBatches, held_out_dataset_cfg
from ..energy.psi_objective import INVERSES, PSI_UPDATES, PsiObjective
from ..losses.attached_network import AttachedNetworkLoss
from ..losses.dynamic_energy_loss import (DynamicEnergyModuleLoss, EnergyBatch,
                                          margin_loss)
from ..surrogates.checkpoint import load_surrogate
from ..surrogates.sequence_layout import SequenceLayout
from ..utils import check_settings, unwrap_model
from .attached_network_hook import AttachedNetworkHook


@HOOKS.register_module()
class DynamicLossHook(AttachedNetworkHook):
    """Own E_ψ for :class:`DynamicEnergyModuleLoss` and update ψ after each
    recognizer step θ → θ' taken on it.

    ``psi_update='implicit'`` or ``'unrolled'``: ψ steps on the
    hypergradient of the task objective on a held-out batch through the
    recognizer's step (:class:`~lsmmocr.energy.PsiObjective`).
    ``'margin'``: Tu & Gimpel's margin-rescaled hinge with Δ = edit distance
    on the step's predictions (:func:`margin_loss`), nothing implicit.

    Held-out batches are drawn at random from ``held_out`` (default: the
    training set) by a generator kept in checkpoints, apart from the
    training stream. Every pass is
    side-effect free (BatchNorm statistics, random state) and restores the
    recognizer's weights bit for bit. Checkpoints keep E_ψ under
    ``dynamic_energy``; ranks are kept in step
    (:class:`AttachedNetworkHook`).

    Args:
        energy (dict): E_ψ's config (``num_classes``/``seq_len`` from the
            loss). Defaults to :class:`SequenceEnergy`.
        psi_update (str): ``'implicit'``, ``'unrolled'`` or ``'margin'``.
        margin_weight (float): Weight of the margin objective added to the
            implicit or unrolled one (``'margin'``: its weight, > 0).
            Defaults to 0.
        inverse (str): ``'neumann'`` (series of ``inverse_terms`` products)
            or ``'cg'`` (``inverse_terms`` conjugate-gradient steps).
        inverse_terms (int): Hessian products per ψ update. Defaults to 3.
        damping (float): λ added to H's diagonal. Defaults to 0.
        fd_eps (float): Parameter-space norm of the central differences.
            Defaults to 1e-2.
        interval (int): Update ψ every this many recognizer steps.
        warmup_iters (int): Margin steps of ψ on the recognizer's own
            predictions before its first step (E_ψ starts at random).
        task_surrogate (str, optional): h_Φ checkpoint, when the loss's
            ``task`` is ê (``LSEDModuleLoss``).
        held_out (str, optional): Annotation file of the held-out batches,
            read like the training set (its pipeline, its data root), e.g.
            ``'textrecog_val.json'``. None: the training set itself (fresh
            crops for a rendered-on-the-fly set; crops the recognizer may
            have memorised for a set on disk).
        pretrained, optimizer, seed: :class:`AttachedNetworkHook`.
    """

    def __init__(self,
                 energy: dict = dict(type='SequenceEnergy'),
                 psi_update: str = 'implicit',
                 margin_weight: float = 0.0,
                 inverse: str = 'neumann',
                 inverse_terms: int = 3,
                 damping: float = 0.0,
                 fd_eps: float = 1e-2,
                 interval: int = 1,
                 warmup_iters: int = 0,
                 task_surrogate: Optional[str] = None,
                 held_out: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(network=energy, loss_type=DynamicEnergyModuleLoss,
                         ckpt_key='dynamic_energy', **kwargs)
        margin_ok = margin_weight > 0 if psi_update == 'margin' else margin_weight >= 0
        check_settings(
            psi_update=(psi_update, psi_update in PSI_UPDATES, PSI_UPDATES),
            inverse=(inverse, inverse in INVERSES, INVERSES),
            margin_weight=(margin_weight, margin_ok,
                           "> 0 with psi_update='margin', else >= 0"),
            inverse_terms=(inverse_terms, inverse_terms >= 0, '>= 0'),
            damping=(damping, damping >= 0, '>= 0'),
            fd_eps=(fd_eps, fd_eps > 0, '> 0'),
            interval=(interval, interval >= 1, '>= 1'),
            warmup_iters=(warmup_iters, warmup_iters >= 0, '>= 0'))
        self.psi_update = psi_update
        self.margin_weight = margin_weight
        self.interval = interval
        self.warmup_iters = warmup_iters
        self.psi_objective = PsiObjective(psi_update, inverse, inverse_terms,
                                          damping, fd_eps)
        self.task_surrogate = task_surrogate
        self.held_out = held_out

    def metric_space(self, losses: List[DynamicEnergyModuleLoss]) -> SequenceLayout:
        layout = losses[0].layout
        if len(losses) > 1:
            raise ValueError('DynamicLossHook serves one DynamicEnergyModuleLoss, '
                             f'the model has {len(losses)}')
        return layout

    def make_sampler(self, seed: int) -> HeldOutBatches:
        return HeldOutBatches(seed)

    @property
    def loss(self) -> DynamicEnergyModuleLoss:
        return self.losses[0]

    def before_run(self, runner) -> None:
        super().before_run(runner)
        model = unwrap_model(runner.model)
        owner = next(m for m in model.modules()
                     if getattr(m, 'module_loss', None) is self.loss)
        self.loss.tap(owner)
        self.held_out_set = runner.train_dataloader.dataset
        if self.held_out:
            self.held_out_set = DATASETS.build(held_out_dataset_cfg(
                runner.cfg.train_dataloader.dataset, self.held_out))
        if isinstance(self.loss.task, AttachedNetworkLoss):
            if not self.task_surrogate:
                raise ValueError(
                    f'the task objective {type(self.loss.task).__name__} needs '
                    'a surrogate: set task_surrogate to an h_Φ checkpoint')
            self.loss.task.attach(load_surrogate(
                self.task_surrogate, self.loss.task.layout, check_targets=True))

    def before_train(self, runner) -> None:
        # A resumed run (or one continuing a post-tuned checkpoint) is warm.
        if self.warmup_iters and self.steps == 0 and runner.iter == 0:
            for (batch, ) in self.own_predictions(runner, self.warmup_iters):
                self.apply_step(self._margin(batch))
            print_log(f'\nenergy warmed up: {self.warmup_iters} margin steps',
                      logger='current')

    def _margin(self, batch: EnergyBatch) -> torch.Tensor:
        return margin_loss(self.network, self.layout, batch)

    @property
    def layout(self) -> SequenceLayout:
        return self.space

    # ----------------------------------------------------------- ψ's update
    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        batch = self.loss.pop_batch()
        if batch is None:
            return
        self.steps += 1
        if (self.steps - 1) % self.interval:
            return
        parts = {}
        if self.margin_weight:
            parts['margin'] = self.margin_weight * self._margin(batch)
        if self.psi_update != 'margin':
            parts['hyper'] = self._hyper_loss(runner, data_batch, len(batch.probs))
        self.apply_step(sum(parts.values()))
        for name, value in parts.items():
            runner.message_hub.update_scalar(f'train/energy_{name}',
                                              float(value.detach()))

    def _hyper_loss(self, runner, data_batch: dict, size: int) -> torch.Tensor:
        """A loss whose gradient in ψ is the implicit (or unrolled)
        hypergradient of the task objective on a held-out batch."""
        held_out = self.sampler.draw(self.held_out_set,
                                     runner.train_dataloader.collate_fn, size)
        loss, gain = self.psi_objective(
            unwrap_model(runner.model), self.loss, self.network, data_batch,
            held_out, seed=self.seed + self.steps)
        self.loss.pop_batch()  # the passes' own batches
        runner.message_hub.update_scalar('train/energy_inverse_gain', gain)
        return loss
