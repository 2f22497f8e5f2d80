"""RS@k: the Recall@k surrogate loss, SiMix, and large-batch training
(Patel, Tolias, Matas, CVPR 2022)."""
from typing import Callable, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmocr.registry import MODELS
from torch.utils.checkpoint import checkpoint

from ..ranking.soft_rank import soft_count_topk, soft_ranks


def rs_at_k(sim: torch.Tensor, pos_sim: torch.Tensor, pos_valid: torch.Tensor,
            ks: Sequence[int], tau1: Sequence[float], tau2: float,
            rank_offset: float = 0.0) -> torch.Tensor:
    """Soft recall R̃_k(q), averaged over ``ks``, for each query q.

    * r̃(q, x) = 1 + Σ_{z ≠ x, z ≠ q} σ_τ2(s(q, z) − s(q, x)), x ∈ P_q;
    * c̃_k(q) = min(Σ_{x ∈ P_q} σ_τ1(k + rank_offset − r̃(q, x)), k);
    * R̃_k(q) = c̃_k(q) / min(k, |P_q|).

    Args:
        sim (Tensor): ``(Q, G)`` s(q, z) over the gallery; ``-inf`` leaves
            an item out of every rank (the query itself).
        pos_sim (Tensor): ``(Q, P)`` s(q, x) of the positives P_q, padded.
        pos_valid (Tensor): ``(Q, P)`` bool, the real entries of P_q.
        ks (sequence of int): The k set.
        tau1 (sequence of float): τ1 for each k.
        tau2 (float): τ2.
        rank_offset (float): Shift of the σ_τ1 step (0 in the paper).

    Returns:
        Tensor: ``(Q,)`` mean over k of R̃_k(q); 0 where |P_q| = 0.
    """
    ranks = soft_ranks(sim, pos_sim, tau2) - rank_offset
    n_pos = pos_valid.sum(1).clamp(min=1)  # |P_q| = 0 never divides by 0
    recalls = [
        soft_count_topk(ranks, pos_valid, k, t) / n_pos.clamp(max=k)
        for k, t in zip(ks, tau1)
    ]
    return torch.stack(recalls, 1).mean(1)


def simix(embeddings: torch.Tensor, labels: torch.Tensor,
          generator: Optional[torch.Generator] = None
          ) -> Tuple[torch.Tensor, torch.Tensor]:
    """SiMix: α·e_a + (1 − α)·e_b for every same-class pair a < b.

    Not re-normalised, so s(q, mix) = α·s(q, a) + (1 − α)·s(q, b): the
    paper's mixing of scalar similarities.

    Args:
        embeddings (Tensor): ``(N, D)``.
        labels (Tensor): ``(N,)`` class labels.
        generator (torch.Generator, optional): CPU source of α ~ U(0, 1).

    Returns:
        tuple[Tensor, Tensor]: ``(M, D)`` virtual embeddings and their
        ``(M,)`` labels, M = Σ_c n_c (n_c − 1) / 2.
    """
    same = labels[:, None] == labels[None, :]
    a, b = torch.triu(same, diagonal=1).nonzero(as_tuple=True)
    alpha = torch.rand(len(a), 1, generator=generator,
                       dtype=embeddings.dtype).to(embeddings.device)
    return alpha * embeddings[a] + (1 - alpha) * embeddings[b], labels[a]


def class_members(codes: torch.Tensor,
                  num_classes: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Gallery indexes per class, ``(C, M)`` padded, and their ``(C, M)``
    validity; ``codes`` are ``(G,)`` class indexes in ``[0, C)``."""
    order = torch.argsort(codes, stable=True)
    counts = torch.bincount(codes, minlength=num_classes)
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.arange(len(codes), device=codes.device) - starts[codes[order]]
    members = torch.zeros(num_classes, int(counts.max()), dtype=torch.long,
                          device=codes.device)
    valid = torch.zeros_like(members, dtype=torch.bool)
    members[codes[order], slot] = order
    valid[codes[order], slot] = True
    return members, valid


@MODELS.register_module()
class RecallSurrogateLoss(nn.Module):
    """RS@k loss: ``1 − mean_q mean_k R̃_k(q)`` (see :func:`rs_at_k`).

    Every batch item is a query; its positives P_q are the other items of
    its class (and, with SiMix, the virtual items of its class). Queries
    whose class has one item have no positive: they are left out of the
    mean but stay in every other query's gallery. The loss lies in
    ``[0, loss_weight]``.

    Self-match: the query is left out of its own ranks (the sum over z
    skips z = q), so a positive ranked first has r̃ ≈ 1.
    ``self_in_rank=True`` keeps z = q as the public code does, which adds
    σ_τ2(s(q, q) − s(q, x)) ≈ 1 to every rank.

    The σ_τ1 step is centred on rank k (``rank_offset=0``, the paper), so a
    positive at rank exactly k counts ½ and even a perfect embedding keeps a
    loss above 0 (≈ 0.10 at 4 items per class, τ1 = 1).
    ``rank_offset=0.5`` centres it between ranks k and k + 1; with a small
    τ1 a perfect embedding then scores ≈ 0.

    Args:
        ks (sequence of int): The k set. Defaults to (1, 2, 4, 8, 16).
        tau1 (float or sequence of float): τ1, one value or one per k.
            Defaults to 1 (the paper; the public code's default is τ1 = k).
        tau2 (float): τ2. Defaults to 0.01.
        self_in_rank (bool): Keep z = q in the rank sums. Defaults to False.
        rank_offset (float): See above. Defaults to 0.
        simix (bool): Add the :func:`simix` virtual items to the gallery
            as positives of their class, a mix of q itself included (as in
            the public code); they are not queries, so the loss stays a mean
            over real items. Defaults to False.
        normalize (bool): L2-normalise the embeddings first (before SiMix).
            Defaults to True.
        chunk_size (int, optional): Queries per checkpointed block; bounds
            memory at ``O(chunk_size × P × G)`` for any batch, with the same
            value and gradient. Defaults to None (one block).
        loss_weight (float): Defaults to 1.
    """

    def __init__(self,
                 ks: Sequence[int] = (1, 2, 4, 8, 16),
                 tau1: Union[float, Sequence[float]] = 1.0,
                 tau2: float = 0.01,
                 self_in_rank: bool = False,
                 rank_offset: float = 0.0,
                 simix: bool = False,
                 normalize: bool = True,
                 chunk_size: Optional[int] = None,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.ks = [int(k) for k in ks]
        if not self.ks or min(self.ks) < 1:
            raise ValueError(f'ks must be positive integers, got {ks}')
        tau1 = [tau1] * len(self.ks) if isinstance(tau1, (int, float)) \
            else list(tau1)
        if len(tau1) != len(self.ks) or min(tau1) <= 0 or tau2 <= 0:
            raise ValueError(f'need tau2 > 0 and tau1 > 0 (one value or one '
                             f'per k), got tau1={tau1}, tau2={tau2}')
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
        self.tau1, self.tau2 = [float(t) for t in tau1], float(tau2)
        self.self_in_rank = self_in_rank
        self.rank_offset = rank_offset
        self.simix = simix
        self.normalize = normalize
        self.chunk_size = chunk_size
        self.loss_weight = loss_weight

    def _block(self, queries: torch.Tensor, gallery: torch.Tensor,
               pos_idx: torch.Tensor, pos_valid: torch.Tensor,
               self_idx: torch.Tensor) -> torch.Tensor:
        """Σ over the block's queries of mean_k R̃_k(q)."""
        sim = queries @ gallery.T
        pos_sim = sim.gather(1, pos_idx)
        if not self.self_in_rank:
            sim = sim.scatter(1, self_idx[:, None], float('-inf'))
        return rs_at_k(sim, pos_sim, pos_valid, self.ks, self.tau1,
                       self.tau2, self.rank_offset).sum()

    def forward(self, embeddings: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """
        Args:
            embeddings (Tensor): ``(N, D)``.
            labels (Tensor): ``(N,)`` class labels (integers).

        Returns:
            Tensor: The scalar loss.
        """
        check_batch(embeddings, labels)
        emb = F.normalize(embeddings, dim=1) if self.normalize else embeddings
        codes = torch.unique(labels, return_inverse=True)[1].to(emb.device)
        gallery, g_codes = emb, codes
        if self.simix:
            virtual, v_codes = simix(emb, codes)
            gallery = torch.cat([emb, virtual])
            g_codes = torch.cat([codes, v_codes])
        members, member_valid = class_members(g_codes, int(codes.max()) + 1)
        self_idx = torch.arange(len(emb), device=emb.device)
        pos_idx = members[codes]
        pos_valid = member_valid[codes] & (pos_idx != self_idx[:, None])
        num_queries = int(pos_valid.any(1).sum())
        if num_queries == 0:
            raise ValueError('RecallSurrogateLoss needs a class with at least '
                             '2 items in the batch (sample several per class)')
        step = self.chunk_size or len(emb)
        total = emb.new_zeros(())
        for s in range(0, len(emb), step):
            args = (emb[s:s + step], gallery, pos_idx[s:s + step],
                    pos_valid[s:s + step], self_idx[s:s + step])
            if step < len(emb) and torch.is_grad_enabled():
                total = total + checkpoint(self._block, *args,
                                           use_reentrant=False)
            else:
                total = total + self._block(*args)
        return self.loss_weight * (1 - total / num_queries)


def check_batch(embeddings: torch.Tensor, labels: torch.Tensor) -> None:
    """Raise ``ValueError`` for what RS@k cannot rank."""
    if embeddings.dim() != 2 or len(embeddings) == 0:
        raise ValueError(f'embeddings must be (N, D) with N > 0, got '
                         f'{tuple(embeddings.shape)}')
    if labels.shape != (len(embeddings),):
        raise ValueError(f'{len(embeddings)} embeddings but labels of shape '
                         f'{tuple(labels.shape)}')
    if not torch.isfinite(embeddings).all():
        raise ValueError('embeddings contain NaN or inf: the model diverged')


def large_batch_backward(embed: Callable[[object], torch.Tensor],
                         inputs: Sequence, labels: torch.Tensor,
                         loss_fn: Callable[[torch.Tensor, torch.Tensor],
                                           torch.Tensor],
                         chunk_size: int = 200) -> torch.Tensor:
    """Back-propagate ``loss_fn(embed(inputs), labels)`` chunk by chunk.

    1. embed ``inputs`` in chunks without a graph; 2. compute the loss and
    its gradient w.r.t. the ``(N, D)`` embeddings; 3. re-run each chunk with
    a graph and back-propagate its slice of that gradient. Parameter
    gradients are accumulated (``.grad``) as one ``backward()`` of the
    whole batch would, while activations exist for one chunk at a time.
    The caller zeroes gradients before and steps the optimizer after.

    Each chunk's re-run sees the random state of its first run (dropout
    draws the same masks), and an ``nn.Module`` ``embed`` gets its buffers
    back after the re-runs, so BatchNorm running statistics are updated
    once. BatchNorm in train mode normalises per chunk, as in the paper.

    Args:
        embed (callable): Chunk of inputs -> ``(n, D)`` embeddings.
        inputs (Tensor or sequence): ``N`` items, sliced ``inputs[i:j]``.
        labels (Tensor): ``(N,)`` passed to ``loss_fn`` whole.
        loss_fn (callable): ``(embeddings, labels) -> scalar``.
        chunk_size (int): Items per chunk. Defaults to 200.

    Returns:
        Tensor: The detached loss.
    """
    if chunk_size < 1:
        raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
    starts = range(0, len(inputs), chunk_size)
    cuda = torch.cuda.is_initialized()
    states, outs = [], []
    with torch.no_grad():
        for s in starts:
            states.append((torch.get_rng_state(),
                           torch.cuda.get_rng_state_all() if cuda else None))
            outs.append(embed(inputs[s:s + chunk_size]))
    emb = torch.cat(outs).requires_grad_(True)
    del outs
    loss = loss_fn(emb, labels)
    grad = torch.autograd.grad(loss, emb)[0]
    buffers = ({n: b.clone() for n, b in embed.named_buffers()}
               if isinstance(embed, nn.Module) else {})
    devices = range(torch.cuda.device_count()) if cuda else []
    with torch.random.fork_rng(devices=devices):
        for s, (cpu_state, cuda_state) in zip(starts, states):
            torch.set_rng_state(cpu_state)
            if cuda_state is not None:
                torch.cuda.set_rng_state_all(cuda_state)
            embed(inputs[s:s + chunk_size]).backward(grad[s:s + chunk_size])
    if buffers:
        with torch.no_grad():
            for n, b in embed.named_buffers():
                b.copy_(buffers[n])
    return loss.detach()
