"""Synthetic score vectors for training SoDeep sorters, and their exact ranks.

SoDeep (Engilberge et al., CVPR 2019) trains its sorter on synthetic vectors
only. The families below follow methods.md §4; the random sub-ranges, the
fraction shuffled in a ramp and the mixture sizes are this project's choices
(the paper does not fix them).
"""
from typing import Callable, Dict, Optional, Sequence

import torch

DISTRIBUTIONS = ('uniform', 'normal', 'spaced', 'ramp', 'mixture')


def _uniform(num: int, n: int, g: torch.Generator) -> torch.Tensor:
    """U(−1, 1)."""
    return torch.rand(num, n, generator=g) * 2 - 1


def _normal(num: int, n: int, g: torch.Generator) -> torch.Tensor:
    """N(0, 1)."""
    return torch.randn(num, n, generator=g)


def _sub_range(num: int, g: torch.Generator) -> torch.Tensor:
    """Random ``[lo, hi]`` inside ``[−1, 1]``, ``(num, 2)``."""
    return (torch.rand(num, 2, generator=g) * 2 - 1).sort(dim=1).values


def _shuffle(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """An independent random permutation of each row."""
    idx = torch.rand(x.shape, generator=g).argsort(dim=1)
    return x.gather(1, idx)


def _spaced(num: int, n: int, g: torch.Generator) -> torch.Tensor:
    """``n`` evenly spaced numbers in a random sub-range of [−1, 1],
    shuffled (the gaps between neighbours can be tiny)."""
    lo_hi = _sub_range(num, g)
    steps = torch.linspace(0, 1, n)
    x = lo_hi[:, :1] + (lo_hi[:, 1:] - lo_hi[:, :1]) * steps
    return _shuffle(x, g)


def _ramp(num: int, n: int, g: torch.Generator) -> torch.Tensor:
    """An ascending or descending ramp in a random sub-range with a random
    fraction (0 to 1) of its positions shuffled among themselves: from
    sorted, through nearly sorted, to fully shuffled input orders."""
    x = _spaced(num, n, g).sort(dim=1).values
    flip = torch.rand(num, generator=g) < 0.5
    x[flip] = x[flip].flip(1)
    frac = torch.rand(num, 1, generator=g)
    moved = torch.rand(num, n, generator=g) < frac
    # Moved positions listed in index order, then in a random order; the
    # fixed positions trail both lists in the same (index) order.
    pos = torch.arange(n).expand(num, n)
    by_pos = torch.where(moved, pos, n).argsort(dim=1, stable=True)
    keys = torch.rand(num, n, generator=g)
    by_key = torch.where(moved, keys, 2.0).argsort(dim=1, stable=True)
    return x.scatter(1, by_pos, x.gather(1, by_key))


def _mixture(num: int, n: int, g: torch.Generator) -> torch.Tensor:
    """2 or 3 components, each one of the other families with a random
    scale (0.05 to 1) and shift (±2), in random proportions, shuffled:
    multi-modal vectors with dense clusters, like saturated confidences."""
    out = torch.empty(num, n)
    for i in range(num):
        k = int(torch.randint(2, 4, (1, ), generator=g))
        weights = -torch.rand(k, generator=g).log()  # Dirichlet(1, ..., 1)
        comp = torch.multinomial(weights, n, replacement=True, generator=g)
        parts = []
        for c in comp.bincount(minlength=k).tolist():
            if c == 0:
                continue
            fam = _FAMILIES[DISTRIBUTIONS[int(torch.randint(4, (1, ),
                                                            generator=g))]]
            scale = 0.05 + 0.95 * torch.rand(1, generator=g)
            shift = 4 * torch.rand(1, generator=g) - 2
            parts.append(fam(1, c, g)[0] * scale + shift)
        out[i] = torch.cat(parts)
    return _shuffle(out, g)


_FAMILIES: Dict[str, Callable[[int, int, torch.Generator], torch.Tensor]] = dict(
    uniform=_uniform, normal=_normal, spaced=_spaced, ramp=_ramp,
    mixture=_mixture)


def sample_scores(num: int,
                  seq_len: int,
                  dists: Sequence[str] = DISTRIBUTIONS,
                  generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """``num`` score vectors of length ``seq_len``, ``(num, seq_len)``.

    Each row comes from one family of ``dists`` drawn uniformly.

    Args:
        num (int): Number of vectors.
        seq_len (int): ``n``, their length.
        dists (sequence of str): Families from :data:`DISTRIBUTIONS`.
            Defaults to all of them.
        generator (torch.Generator, optional): For reproducible draws.
    """
    bad = [d for d in dists if d not in _FAMILIES]
    if bad or not dists:
        raise ValueError(f'unknown distributions {bad}; choose from '
                         f'{DISTRIBUTIONS}')
    g = generator or torch.Generator().manual_seed(
        int(torch.randint(2**31, (1, ))))
    which = torch.randint(len(dists), (num, ), generator=g)
    out = torch.empty(num, seq_len)
    for k, name in enumerate(dists):
        rows = (which == k).nonzero().squeeze(1)
        if len(rows):
            out[rows] = _FAMILIES[name](len(rows), seq_len, g)
    return out


def exact_ranks(x: torch.Tensor, descending: bool = False) -> torch.Tensor:
    """Exact ranks along the last axis, normalised to [0, 1].

    Ascending by default: the smallest score gets 0, the largest 1. Tied
    scores share the mean of their ranks (as Spearman's ρ is defined). Not
    differentiable.

    Args:
        x (Tensor): Scores, ``(..., n)`` with ``n >= 2``.
        descending (bool): Rank the largest first. Defaults to False.
    """
    x = x.detach()
    if descending:
        x = -x
    n = x.shape[-1]
    flat = x.reshape(-1, n)
    srt = flat.sort(dim=1).values
    lo = torch.searchsorted(srt, flat, right=False)
    hi = torch.searchsorted(srt, flat, right=True) - 1
    return ((lo + hi).to(x.dtype) / (2 * (n - 1))).reshape(x.shape)


def pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of ``a`` and ``b`` along the last axis (0 where
    either is constant): Spearman's ρ when they are ranks."""
    a = a - a.mean(-1, keepdim=True)
    b = b - b.mean(-1, keepdim=True)
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1)).clamp_min(1e-12)


def rank_fidelity(ranks: torch.Tensor,
                  scores: torch.Tensor) -> Dict[str, float]:
    """How well normalised ``ranks`` (``(N, n)``, e.g. a sorter's) match the
    exact ranks of ``scores`` (``(N, n)``).

    Returns:
        dict: ``rank_error`` (mean |r̂ − r| in positions, i.e. on the 0 ..
        n − 1 scale), ``spearman`` (mean over rows of the Pearson correlation
        between r̂ and r, which is Spearman's ρ of the scores when r̂ is exact)
        and ``exact`` (fraction of rows whose r̂, ranked again, gives back the
        exact order).
    """
    r = exact_ranks(scores)
    ranks = ranks.detach().to(r)
    n = scores.shape[-1]
    err = (ranks - r).abs().mean() * (n - 1)
    rho = pearson(ranks, r)
    same = (exact_ranks(ranks) == r).all(-1).float().mean()
    return dict(rank_error=float(err), spearman=float(rho.mean()),
                exact=float(same))


def held_out_scores(seq_len: int, num: int = 1000,
                    seed: int = 0) -> Dict[str, torch.Tensor]:
    """``num`` vectors of each family, from a generator seeded apart from
    training's (``10_000 + seed``), ``{family: (num, seq_len)}``."""
    g = torch.Generator().manual_seed(10_000 + seed)
    return {d: sample_scores(num, seq_len, [d], g) for d in DISTRIBUTIONS}


@torch.no_grad()
def fidelity_by_distribution(
        rank_fn: Callable[[torch.Tensor], torch.Tensor],
        scores: Dict[str, torch.Tensor],
        batch_size: int = 500) -> Dict[str, Dict[str, float]]:
    """:func:`rank_fidelity` of ``rank_fn`` (scores ``(N, n)`` -> normalised
    ranks) on each entry of ``scores`` (e.g. :func:`held_out_scores`)."""
    out = {}
    for name, x in scores.items():
        r = torch.cat([rank_fn(b).float().cpu() for b in x.split(batch_size)])
        out[name] = rank_fidelity(r, x)
    return out
