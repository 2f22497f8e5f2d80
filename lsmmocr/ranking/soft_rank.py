"""Soft rank and soft count: the σ_τ relaxations of a rank and of a top-k
count (RS@k, Patel et al., CVPR 2022, section 3), and the soft Spearman
correlation built from them."""
import torch

from .sorter_data import exact_ranks, pearson


def sigmoid_tau(u: torch.Tensor, tau: float) -> torch.Tensor:
    """σ_τ(u) = 1 / (1 + exp(−u / τ)), a step at 0 of width ~τ."""
    return torch.sigmoid(u / tau)


def soft_ranks(sim: torch.Tensor, sim_x: torch.Tensor,
               tau: float) -> torch.Tensor:
    """r̃(q, x) = 1 + Σ_{z ≠ x} σ_τ(s(q, z) − s(q, x)).

    Args:
        sim (Tensor): ``(Q, G)`` similarities s(q, z) of each query to the
            gallery. An entry set to ``-inf`` (e.g. the query itself) adds 0:
            that item is left out of the sum.
        sim_x (Tensor): ``(Q, P)`` similarities s(q, x) of items ``x`` that
            are in the gallery; their own term σ_τ(0) = ½ is removed, not
            looked up, so no ``(Q, P, G)`` mask is built.
        tau (float): τ (τ2 = 0.01 in RS@k).

    Returns:
        Tensor: ``(Q, P)`` soft ranks, 1 for the top item.
    """
    # One (Q, P, G) temporary: divide the small operands first.
    diff = (sim / tau).unsqueeze(1) - (sim_x / tau).unsqueeze(2)
    return 0.5 + torch.sigmoid(diff).sum(-1)


def soft_count_topk(ranks: torch.Tensor, valid: torch.Tensor, k: int,
                    tau: float) -> torch.Tensor:
    """c̃_k = min(Σ_x σ_τ(k − r̃(q, x)), k): soft count of items in the top k.

    Args:
        ranks (Tensor): ``(Q, P)`` soft ranks r̃.
        valid (Tensor): ``(Q, P)`` bool, which entries of ``ranks`` count.
        k (int): Size of the short list.
        tau (float): τ (τ1 = 1 in RS@k).

    Returns:
        Tensor: ``(Q,)`` counts in ``[0, k]``.
    """
    counts = (sigmoid_tau(k - ranks, tau) * valid).sum(-1)
    return counts.clamp(max=k)


def soft_spearman(x: torch.Tensor, target: torch.Tensor,
                  tau: float) -> torch.Tensor:
    """Spearman's ρ of ``x`` against ``target`` (both ``(n,)``), smooth in
    ``x``: the Pearson correlation of ``x``'s soft ranks (:func:`soft_ranks`,
    width τ in ``x``'s units) with ``target``'s exact ranks (ties share their
    mean rank). 1 for the same order, −1 for the reverse; exact as τ → 0.
    A constant ``x`` or ``target`` gives 0."""
    soft = soft_ranks(x[None], x[None], tau)[0]
    return pearson(soft, exact_ranks(target, descending=True))  # 1st: largest
