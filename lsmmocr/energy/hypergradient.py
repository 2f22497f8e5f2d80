"""Differentiating a task objective through a model's training step on a
learned loss, for any model (parameters are lists of tensors, products are
callables): the primitives of learning a dynamic loss (Shankar & Piratla,
2022) by implicit differentiation (Lorraine, Vicol & Duvenaud, 2020;
Rajeswaran et al., 2019) or by one unrolled step (Finn et al., 2017; Liu et
al., 2019).

Second-order products are central differences of first-order ones, as DARTS
takes them: they need no double backward through the model (cuDNN's RNNs have
none) and cost two passes each.
"""
from contextlib import contextmanager
from typing import Callable, Iterator, List, Optional

import torch

Vector = List[torch.Tensor]
Product = Callable[[Vector], Vector]


def dot(a: Vector, b: Vector) -> torch.Tensor:
    """``⟨a, b⟩`` of two parameter-shaped vectors."""
    return sum((x * y).sum() for x, y in zip(a, b))


def axpy(alpha: float, x: Vector, y: Vector) -> Vector:
    """``alpha · x + y``."""
    return [alpha * u + v for u, v in zip(x, y)]


@contextmanager
def displaced(params: Vector, v: Vector, scale: float) -> Iterator[None]:
    """``params`` moved by ``scale · v`` inside; restored bit for bit after."""
    saved = [p.detach().clone() for p in params]
    with torch.no_grad():
        for p, d in zip(params, v):
            p.add_(d, alpha=scale)
    try:
        yield
    finally:
        with torch.no_grad():
            for p, s in zip(params, saved):
                p.copy_(s)


def central_difference(fn: Callable[[], Vector], params: Vector, v: Vector,
                       rel_eps: float = 1e-2) -> Vector:
    """The derivative of ``fn`` (tensors computed from ``params``) along
    ``v``: ``(fn(θ + εv) − fn(θ − εv)) / 2ε`` with ``ε = rel_eps / ‖v‖``
    (DARTS's choice: a step of norm ``rel_eps`` in parameter space)."""
    eps = rel_eps / max(float(dot(v, v).sqrt()), 1e-12)
    with displaced(params, v, eps):
        plus = [t.detach() for t in fn()]
    with displaced(params, v, -eps):
        minus = [t.detach() for t in fn()]
    return [(a - b) / (2 * eps) for a, b in zip(plus, minus)]


def neumann_inverse(hvp: Product, g: Vector, terms: int,
                    alpha: Optional[float] = None) -> Vector:
    """``H⁻¹ g ≈ α Σ_{j=0}^{terms} (I − αH)^j g`` (Lorraine et al., 2020).

    ``alpha`` None takes ``‖g‖ / ‖Hg‖`` from the first product: the inverse
    of H's scale along ``g``, so the series starts as a step of H's own size
    whatever the loss's scale. ``terms`` 0 returns ``g`` (one unrolled step).
    """
    term, total = g, g
    for _ in range(terms):
        hp = hvp(term)
        if alpha is None:
            alpha = float(dot(g, g).sqrt() / dot(hp, hp).sqrt().clamp_min(1e-12))
        term = axpy(-alpha, hp, term)
        total = axpy(1.0, term, total)
    return [(alpha or 1.0) * t for t in total]


def conjugate_gradient(hvp: Product, g: Vector, iters: int) -> Vector:
    """``H⁻¹ g`` by ``iters`` conjugate-gradient steps (Rajeswaran et al.,
    2019), stopped where H is not positive along the search direction (a
    learned energy need not be convex in the weights); ``g`` itself if that
    happens at once."""
    x = [torch.zeros_like(t) for t in g]
    r, p = g, g
    rr = dot(r, r)
    for i in range(iters):
        hp = hvp(p)
        curvature = dot(p, hp)
        if curvature <= 0:
            return g if i == 0 else x
        a = float(rr / curvature)
        x, r = axpy(a, p, x), axpy(-a, hp, r)
        rr, rr_old = dot(r, r), rr
        p = axpy(float(rr / rr_old), p, r)
    return x


def mixed_product(energy: Callable[[torch.Tensor], torch.Tensor],
                  z: torch.Tensor, dz: torch.Tensor) -> torch.Tensor:
    """``⟨∇_z E(z), dz⟩`` with its graph to E's parameters: the model's
    gradient of E along a direction ``v`` of its weights, when ``dz`` is the
    model's output moved along ``v`` (``⟨∇_θ E, v⟩ = ⟨∇_z E, J_θ v⟩``)."""
    z = z.detach().requires_grad_(True)
    grad = torch.autograd.grad(energy(z), z, create_graph=True)[0]
    return (grad * dz).sum()
