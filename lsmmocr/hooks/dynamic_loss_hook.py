"""The dynamic loss's trainer: E_ψ learned through the recognizer's step on
it (Shankar & Piratla, 2022) — implicit differentiation or one unrolled step
— or with Tu & Gimpel's margin objective (the non-implicit reference)."""
import copy
from typing import Callable, List, Optional

import numpy as np
import torch
from mmengine.logging import print_log
from mmocr.registry import DATASETS, HOOKS

from ..energy.hypergradient import (Vector, axpy, central_difference,
                                    conjugate_gradient, dot, mixed_product,
                                    neumann_inverse)
from ..losses.attached_surrogate import AttachedSurrogate
from ..losses.dynamic_energy_loss import (DynamicEnergyModuleLoss, EnergyBatch,
                                          margin_loss)
from ..losses.sequence_metric_loss import objective
from ..surrogates.checkpoint import load_surrogate
from ..surrogates.sequence_layout import SequenceLayout
from ..utils import recognizer_outputs, unwrap_model
from .attached_network_hook import AttachedNetworkHook, side_effect_free

PSI_UPDATES = ('implicit', 'unrolled', 'margin')
INVERSES = ('neumann', 'cg')


def held_out_dataset_cfg(train_dataset: dict, ann_file: str) -> dict:
    """The training dataset's config (pipeline included) reading
    ``ann_file`` instead: a single dataset, or a ``ConcatDataset`` of one."""
    cfg = copy.deepcopy(train_dataset)
    inner = cfg.get('datasets', [cfg])
    if len(inner) != 1 or 'ann_file' not in inner[0]:
        raise ValueError(
            f'held_out={ann_file!r} needs a training set of one annotation '
            f'file to swap it into; train_dataloader.dataset is a '
            f'{cfg.get("type")} of {len(inner)} dataset(s)')
    inner[0]['ann_file'] = ann_file
    return cfg


class HeldOutBatches:
    """Batches drawn at random from a dataset (collated by ``collate``), with
    a generator kept in checkpoints: the held-out batches of ψ's objective,
    apart from the training stream."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def draw(self, dataset, collate: Callable, size: int) -> dict:
        idx = self.rng.choice(len(dataset), size, replace=len(dataset) < size)
        return collate([dataset[int(i)] for i in idx])

    def state_dict(self) -> dict:
        return dict(rng=self.rng.bit_generator.state)

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state['rng']


@HOOKS.register_module()
class DynamicLossHook(AttachedNetworkHook):
    """Own E_ψ for :class:`DynamicEnergyModuleLoss` and update ψ after each
    recognizer step θ → θ' taken on it.

    ``psi_update='implicit'``: θ' is read as the optimum of the recognizer's
    training loss L_tr(θ, ψ) (E_ψ plus any proxy mixed in), so by the
    implicit-function theorem the task objective T on a held-out batch
    changes with ψ as ``dT/dψ = −∂²L_tr/∂ψ∂θ · H⁻¹ ∇_θ T`` (H: the Hessian of
    L_tr in θ, its inverse applied by ``inverse``). ``'unrolled'``: θ' is one
    gradient step, so ``dT/dψ ∝ −∂²L_tr/∂ψ∂θ · ∇_θ T`` (H⁻¹ dropped: the
    cheap baseline). Both are evaluated at the recognizer's weights after
    its step; ``∂²L_tr/∂ψ∂θ · v`` is ``∂/∂ψ ⟨∇_z E_ψ, J_θ v⟩`` over the
    step's training batch, ``J_θ v`` (how the predictions move along v) and
    the Hessian products central differences of forward and backward passes
    (:mod:`lsmmocr.energy.hypergradient`). ``'margin'``: Tu & Gimpel's
    margin-rescaled hinge with Δ = edit distance on the step's predictions
    (:func:`margin_loss`), nothing implicit.

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

    LOSS_TYPE = DynamicEnergyModuleLoss
    CKPT_KEY = 'dynamic_energy'
    NAME = 'energy'

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
        super().__init__(surrogate=energy, **kwargs)
        values = dict(psi_update=psi_update, inverse=inverse,
                      margin_weight=margin_weight, inverse_terms=inverse_terms,
                      damping=damping, fd_eps=fd_eps, interval=interval,
                      warmup_iters=warmup_iters)
        margin_ok = margin_weight > 0 if psi_update == 'margin' else margin_weight >= 0
        checks = dict(psi_update=(psi_update in PSI_UPDATES, PSI_UPDATES),
                      inverse=(inverse in INVERSES, INVERSES),
                      margin_weight=(margin_ok, "> 0 with psi_update='margin', "
                                     'else >= 0'),
                      inverse_terms=(inverse_terms >= 0, '>= 0'),
                      damping=(damping >= 0, '>= 0'), fd_eps=(fd_eps > 0, '> 0'),
                      interval=(interval >= 1, '>= 1'),
                      warmup_iters=(warmup_iters >= 0, '>= 0'))
        for name, (ok, allowed) in checks.items():
            if not ok:
                raise ValueError(f'{name} must be {allowed}, got {values[name]!r}')
        for name, value in values.items():
            setattr(self, name, value)
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
        if isinstance(self.loss.task, AttachedSurrogate):
            if not self.task_surrogate:
                raise ValueError(
                    f'the task objective {type(self.loss.task).__name__} needs '
                    'a surrogate: set task_surrogate to an h_Φ checkpoint')
            self.loss.task.attach_surrogate(load_surrogate(
                self.task_surrogate, self.loss.task.layout, check_targets=True))

    def before_train(self, runner) -> None:
        # A resumed run (or one continuing a post-tuned checkpoint) is warm.
        if self.warmup_iters and self.steps == 0 and runner.iter == 0:
            for batch in self.own_predictions(runner, self.warmup_iters):
                self.apply_step(self._margin(batch))
            print_log(f'\nenergy warmed up: {self.warmup_iters} margin steps',
                      logger='current')

    def _margin(self, batch: EnergyBatch) -> torch.Tensor:
        return margin_loss(self.surrogate, self.layout, batch)

    @property
    def layout(self) -> SequenceLayout:
        return self.space

    # ----------------------------------------------------------- ψ's update
    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        batch = self.take_batch()
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
        model = unwrap_model(runner.model)
        params = [p for p in model.parameters() if p.requires_grad]
        held_out = self.sampler.draw(self.held_out_set,
                                     runner.train_dataloader.collate_fn, size)
        seed = self.seed + self.steps  # one dropout mask for every pass
        with side_effect_free(model):
            g = self._gradient(model, params, held_out, seed,
                               self.loss.task_objective)
            v = self._inverse_hessian(model, params, data_batch, seed, g)
            dz = central_difference(
                lambda: [self._predictions(model, data_batch, seed)[1]],
                params, v, self.fd_eps)[0]
            feat, z = self._predictions(model, data_batch, seed)
        self.loss.last_batch = None
        hub = runner.message_hub
        hub.update_scalar('train/energy_inverse_gain',
                          float(dot(v, v).sqrt() / dot(g, g).sqrt().clamp_min(1e-12)))
        return -mixed_product(lambda q: self.surrogate(feat, q).mean(), z, dz)

    def _pass(self, model, batch: dict, seed: int):
        torch.manual_seed(seed)
        return recognizer_outputs(model, batch)

    def _predictions(self, model, batch: dict, seed: int):
        """The image features and the predicted distributions on ``batch``."""
        with torch.no_grad():
            outputs, _ = self._pass(model, batch, seed)
            probs = self.loss.logits(outputs).float().softmax(-1)
        return self.loss.features(), probs

    def _gradient(self, model, params: Vector, batch: dict, seed: int,
                  fn: Callable[..., torch.Tensor]) -> Vector:
        """``∇_θ fn(outputs, samples)`` on ``batch``."""
        value = fn(*self._pass(model, batch, seed))
        grads = torch.autograd.grad(value, params, allow_unused=True)
        return [torch.zeros_like(p) if d is None else d
                for p, d in zip(params, grads)]

    def _training_objective(self, outputs, samples) -> torch.Tensor:
        return objective(self.loss(outputs, samples))

    def _inverse_hessian(self, model, params: Vector, batch: dict, seed: int,
                         g: Vector) -> Vector:
        """``(H + λI)⁻¹ g`` (implicit), or ``g`` (unrolled)."""
        if self.psi_update == 'unrolled':
            return g

        def hvp(p: Vector) -> Vector:
            hp = central_difference(
                lambda: self._gradient(model, params, batch, seed,
                                       self._training_objective),
                params, p, self.fd_eps)
            return axpy(self.damping, p, hp)

        if self.inverse == 'cg':
            return conjugate_gradient(hvp, g, self.inverse_terms)
        return neumann_inverse(hvp, g, self.inverse_terms)
