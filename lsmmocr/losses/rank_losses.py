"""Rank-based losses on a frozen SoDeep sorter (Engilberge et al., CVPR 2019):
Spearman correlation, recall at k and mean average precision."""
from typing import Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmocr.registry import MODELS

from ..ranking.sodeep_sorter import SoDeepSorter, load_sorter
from ..ranking.sorter_data import exact_ranks


def spearman_loss(r_hat: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """``1 − ρ̂`` per row, ``(G, n) -> (G,)``.

    With ``r̂`` the sorter's ranks of the predictions and ``r`` the exact
    ranks of the targets, both normalised to [0, 1] (positions / (n − 1)),
    Spearman's ``ρ = 1 − 6 Σ_i D_i² / (n (n² − 1))`` with
    ``D_i = (n − 1)(r̂_i − r_i)`` gives

        1 − ρ̂ = 6 (n − 1) / (n + 1) · mean_i (r̂_i − r_i)²,

    SoDeep's mean squared rank error scaled to read as ``1 − ρ``: 0 for the
    same order, 2 for the reversed one (exact when ``r̂`` is exact and
    without ties).
    """
    n = r.shape[-1]
    return 6 * (n - 1) / (n + 1) * (r_hat - r).pow(2).mean(-1)


def soft_recall_at_k(rank: torch.Tensor, positives: torch.Tensor,
                ks: Sequence[int], tau: float) -> torch.Tensor:
    """Soft recall at each ``k``, ``(Q, n) -> (Q, len(ks))``.

    For a query with positives ``P`` and ``R_x`` the (1-based, best first)
    rank of item ``x``:

        R̃@k = min(Σ_{x∈P} σ((k + ½ − R_x) / τ), k) / min(k, |P|),

    σ the logistic function. The threshold sits halfway between rank k (in)
    and k + 1 (out); the cap at k (as RS@k has it) keeps soft mass from
    items just outside the top k from counting as recall above 1. A query
    without positives gives 0 (mask it out).

    Args:
        rank (Tensor): ``R``, ``(Q, n)``.
        positives (Tensor): Bool ``(Q, n)``.
        ks (sequence of int): The ``k`` values.
        tau (float): ``τ``.
    """
    pos = positives.to(rank.dtype)
    num_pos = pos.sum(-1, keepdim=True)
    k = torch.tensor(list(ks), dtype=rank.dtype, device=rank.device)
    inside = torch.sigmoid((k + 0.5 - rank.unsqueeze(-1)) / tau)  # (Q, n, K)
    count = (inside * pos.unsqueeze(-1)).sum(1)
    return torch.minimum(count, k) / torch.minimum(k, num_pos).clamp_min(1)


def average_precision(rank: torch.Tensor, rank_pos: torch.Tensor,
                      positives: torch.Tensor) -> torch.Tensor:
    """Average precision per query, ``(Q, n) -> (Q,)``.

        AP = 1/|P| Σ_{x∈P} R⁺_x / R_x,

    ``R_x`` the (1-based, best first) rank of positive ``x`` among all
    items, ``R⁺_x`` its rank among the positives only: the precision at the
    depth where ``x`` is found. A query without positives gives 0. With a
    sorter's approximate ranks a term can slightly exceed 1.
    """
    pos = positives.to(rank.dtype)
    prec = rank_pos / rank
    return (prec * pos).sum(-1) / pos.sum(-1).clamp_min(1)


class _SorterLoss(nn.Module):
    """Holds a frozen sorter and turns scores into its ranks.

    The sorter is not a submodule: the optimizer never sees it and the
    model's checkpoints do not carry it. It follows its input to the device
    it is called on.

    Args:
        sorter (str or SoDeepSorter): A checkpoint path (from
            ``tools/train_sorter.py``) or a sorter.
        loss_weight (float): Multiplies the loss. Defaults to 1.
    """

    def __init__(self, sorter: Union[str, SoDeepSorter],
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if isinstance(sorter, str):
            sorter = load_sorter(sorter)
        if not isinstance(sorter, SoDeepSorter):
            raise TypeError('sorter must be a checkpoint path or a '
                            f'SoDeepSorter, got {type(sorter).__name__}')
        sorter.requires_grad_(False)
        object.__setattr__(self, '_sorter', sorter)  # not a submodule
        self.loss_weight = loss_weight

    @property
    def sorter(self) -> SoDeepSorter:
        return self._sorter

    @property
    def seq_len(self) -> int:
        """``n``, the length of the score vectors this loss accepts."""
        return self._sorter.seq_len

    def sort(self, scores: torch.Tensor) -> torch.Tensor:
        """The sorter's ascending ranks in [0, 1], shaped like ``scores``."""
        sorter = self._sorter
        if next(sorter.parameters()).device != scores.device:
            sorter.to(scores.device)
        sorter.train()  # same function; lets cuDNN back-propagate the LSTM
        return sorter(scores.float())

    def ranks(self, scores: torch.Tensor) -> torch.Tensor:
        """The sorter's 1-based ranks, best (largest) first, ``(Q, n)``."""
        return 1 + (self.seq_len - 1) * self.sort(-scores)


@MODELS.register_module()
class SoDeepSpearmanLoss(_SorterLoss):
    """``1 − ρ̂(pred, target)`` (:func:`spearman_loss`), averaged over groups.

    The predictions are ranked by the frozen sorter (differentiably), the
    targets exactly (tied targets share their mean rank). Both are ranked
    ascending: the loss is 0 when the predictions order the samples as the
    targets do.

    Args:
        sorter (str or SoDeepSorter): Checkpoint path or sorter, of length
            ``n``.
        loss_weight (float): Defaults to 1.
    """

    def forward(self, pred: torch.Tensor,
                target: torch.Tensor) -> torch.Tensor:
        """
        Args:
            pred (Tensor): ``(n,)`` or ``(G, n)`` predicted scores.
            target (Tensor): The same shape, the values to rank by.
        """
        if pred.shape != target.shape:
            raise ValueError(f'pred {tuple(pred.shape)} and target '
                             f'{tuple(target.shape)} differ in shape')
        self.sorter.check_input(target)
        r_hat = self.sort(pred)
        r = exact_ranks(target).to(r_hat)
        return self.loss_weight * spearman_loss(r_hat, r).mean()


class _RetrievalLoss(_SorterLoss):
    """Rank every batch item against every other by embedding similarity.

    :meth:`forward` takes ``(B, D)`` embeddings and ``(B,)`` labels (the
    sorter's ``n`` must be ``B``): similarities are dot products of the
    L2-normalised embeddings, a query's positives are the other items with
    its label, and the query itself is pushed below every other item (so
    the others keep their ranks among the ``B − 1``). :meth:`from_scores`
    takes query-to-gallery scores and positives directly.
    """

    def forward(self, embeddings: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """``(B, D)`` embeddings, ``(B,)`` labels -> scalar loss."""
        if embeddings.dim() != 2 or labels.shape != embeddings.shape[:1]:
            raise ValueError(f'expected (B, D) embeddings and (B,) labels, '
                             f'got {tuple(embeddings.shape)} and '
                             f'{tuple(labels.shape)}')
        e = F.normalize(embeddings, dim=1)
        sim = e @ e.t()
        eye = torch.eye(len(e), dtype=torch.bool, device=e.device)
        positives = (labels[:, None] == labels[None, :]) & ~eye
        return self.from_scores(_push_down(sim, eye), positives)

    def from_scores(self, scores: torch.Tensor,
                    positives: torch.Tensor) -> torch.Tensor:
        """``(Q, n)`` scores (higher is better) and bool positives -> loss,
        averaged over the queries that have a positive."""
        if positives.shape != scores.shape:
            raise ValueError(f'scores {tuple(scores.shape)} and positives '
                             f'{tuple(positives.shape)} differ in shape')
        self.sorter.check_input(scores)
        scores = scores.reshape(-1, self.seq_len)
        positives = positives.reshape(-1, self.seq_len).bool()
        has_pos = positives.any(-1)
        if not has_pos.any():
            return scores.sum() * 0  # keeps the graph; nothing to learn
        per_query = self.query_loss(scores[has_pos], positives[has_pos])
        return self.loss_weight * per_query.mean()

    def query_loss(self, scores: torch.Tensor,
                   positives: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def _push_down(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``scores`` with the ``mask``ed entries set one range below each row's
    smallest unmasked score (a constant: no gradient flows through it)."""
    s = scores.detach()
    lo = s.masked_fill(mask, float('inf')).amin(-1, keepdim=True)
    hi = s.masked_fill(mask, float('-inf')).amax(-1, keepdim=True)
    floor = lo - (hi - lo).clamp_min(1e-3)
    return torch.where(mask, floor.expand_as(scores), scores)


@MODELS.register_module()
class SoDeepRecallLoss(_RetrievalLoss):
    """``1 − mean_k R̃@k`` with the sorter's ranks (:func:`soft_recall_at_k`).

    Args:
        sorter (str or SoDeepSorter): Checkpoint path or sorter; its ``n`` is
            the batch size (or the gallery size for :meth:`from_scores`).
        ks (sequence of int): Defaults to (1, 2, 4, 8, 16), RS@k's values.
        tau (float): Sigmoid temperature in rank units. Defaults to 0.5: a
            positive at rank k counts 0.73, at k + 1 0.27, at k + 2 0.05.
        loss_weight (float): Defaults to 1.
    """

    def __init__(self, sorter: Union[str, SoDeepSorter],
                 ks: Sequence[int] = (1, 2, 4, 8, 16), tau: float = 0.5,
                 loss_weight: float = 1.0) -> None:
        super().__init__(sorter, loss_weight)
        if not ks or min(ks) < 1 or tau <= 0:
            raise ValueError(f'need ks >= 1 and tau > 0, got {ks}, {tau}')
        self.ks: Tuple[int, ...] = tuple(ks)
        self.tau = tau

    def query_loss(self, scores: torch.Tensor,
                   positives: torch.Tensor) -> torch.Tensor:
        recall = soft_recall_at_k(self.ranks(scores), positives, self.ks, self.tau)
        return 1 - recall.mean(-1)


@MODELS.register_module()
class SoDeepAPLoss(_RetrievalLoss):
    """``1 − AP`` with the sorter's ranks (:func:`average_precision`).

    ``R⁺`` comes from the same length-``n`` sorter: the negatives' scores
    are pushed below every positive, so a positive's rank in that vector is
    its rank among the positives.

    Args:
        sorter (str or SoDeepSorter): Checkpoint path or sorter.
        loss_weight (float): Defaults to 1.
    """

    def query_loss(self, scores: torch.Tensor,
                   positives: torch.Tensor) -> torch.Tensor:
        rank = self.ranks(scores)
        rank_pos = self.ranks(_push_down(scores, ~positives))
        return 1 - average_precision(rank, rank_pos, positives)
