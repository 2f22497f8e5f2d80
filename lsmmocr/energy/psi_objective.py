"""ψ's objective through the recognizer's step on E_ψ (Shankar & Piratla,
2022): a loss whose gradient in ψ is the implicit (or one-step unrolled)
hypergradient of a task objective on a held-out batch, built from the
primitives of :mod:`.hypergradient`."""
from typing import Callable, Tuple

import torch
import torch.nn as nn

from ..utils import objective, recognizer_outputs, side_effect_free
from .hypergradient import (Vector, axpy, central_difference, conjugate_gradient, dot,
                            mixed_product, neumann_inverse)

PSI_UPDATES = ('implicit', 'unrolled', 'margin')
INVERSES = ('neumann', 'cg')


class PsiObjective:
    """``psi_update='implicit'``: θ' (the recognizer after its step) is read
    as the optimum of its training loss L_tr(θ, ψ), so by the
    implicit-function theorem the task objective T on a held-out batch
    changes with ψ as ``dT/dψ = −∂²L_tr/∂ψ∂θ · H⁻¹ ∇_θ T`` (H: the Hessian
    of L_tr in θ, its inverse applied by ``inverse``). ``'unrolled'``: θ' is
    one gradient step, so H⁻¹ is dropped. ``∂²L_tr/∂ψ∂θ · v`` is
    ``∂/∂ψ ⟨∇_z E_ψ, J_θ v⟩`` over the step's training batch; ``J_θ v`` and
    the Hessian products are central differences of forward and backward
    passes. Every pass is side-effect free and restores the weights bit for
    bit.

    The loss (a :class:`~lsmmocr.losses.DynamicEnergyModuleLoss`) gives the
    logits, the image features of the forward in progress, the training
    objective (its forward) and the task objective.
    """

    def __init__(self, psi_update: str, inverse: str, inverse_terms: int,
                 damping: float, fd_eps: float) -> None:
        self.psi_update = psi_update
        self.inverse = inverse
        self.inverse_terms = inverse_terms
        self.damping = damping
        self.fd_eps = fd_eps

    def __call__(self, model: nn.Module, loss: nn.Module, energy: nn.Module,
                 train_batch: dict, held_out: dict, seed: int
                 ) -> Tuple[torch.Tensor, float]:
        """The ψ loss and the inverse's gain ``‖H⁻¹g‖ / ‖g‖``; ``seed`` fixes
        one dropout mask for every pass."""
        params = [p for p in model.parameters() if p.requires_grad]
        with side_effect_free(model):
            g = self._gradient(model, params, held_out, seed,
                               loss.task_objective)
            v = self._inverse_hessian(model, loss, params, train_batch, seed, g)
            dz = central_difference(
                lambda: [self._predictions(model, loss, train_batch, seed)[1]],
                params, v, self.fd_eps)[0]
            feat, z = self._predictions(model, loss, train_batch, seed)
        gain = float(dot(v, v).sqrt() / dot(g, g).sqrt().clamp_min(1e-12))
        return -mixed_product(lambda q: energy(feat, q).mean(), z, dz), gain

    @staticmethod
    def _pass(model: nn.Module, batch: dict, seed: int):
        torch.manual_seed(seed)
        return recognizer_outputs(model, batch)

    def _predictions(self, model, loss, batch: dict, seed: int):
        """The image features and the predicted distributions on ``batch``."""
        with torch.no_grad():
            outputs, _ = self._pass(model, batch, seed)
            probs = loss.logits(outputs).float().softmax(-1)
        return loss.features(), probs

    def _gradient(self, model, params: Vector, batch: dict, seed: int,
                  fn: Callable[..., torch.Tensor]) -> Vector:
        """``∇_θ fn(outputs, samples)`` on ``batch``."""
        value = fn(*self._pass(model, batch, seed))
        grads = torch.autograd.grad(value, params, allow_unused=True)
        return [torch.zeros_like(p) if d is None else d
                for p, d in zip(params, grads)]

    def _inverse_hessian(self, model, loss, params: Vector, batch: dict,
                         seed: int, g: Vector) -> Vector:
        """``(H + λI)⁻¹ g`` (implicit), or ``g`` (unrolled)."""
        if self.psi_update == 'unrolled':
            return g

        def training_objective(outputs, samples) -> torch.Tensor:
            return objective(loss(outputs, samples))

        def hvp(p: Vector) -> Vector:
            hp = central_difference(
                lambda: self._gradient(model, params, batch, seed,
                                       training_objective),
                params, p, self.fd_eps)
            return axpy(self.damping, p, hp)

        if self.inverse == 'cg':
            return conjugate_gradient(hvp, g, self.inverse_terms)
        return neumann_inverse(hvp, g, self.inverse_terms)
