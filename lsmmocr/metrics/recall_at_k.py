"""Exact Recall@k of an embedding: chunked brute-force k-NN search, then
counts of positives in each query's short list."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmocr.registry import METRICS

DISTANCES = ('cosine', 'euclidean')
MODES = ('leave_one_out', 'query_gallery')
ArrayLike = Union[np.ndarray, torch.Tensor, Sequence]


def _embeddings(x: ArrayLike, name: str) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x)
    x = x.detach().to('cpu', torch.float32).contiguous()
    if x.dim() != 2:
        raise ValueError(f'{name} must be (N, D), got {tuple(x.shape)}')
    if not torch.isfinite(x).all():
        raise ValueError(f'{name} contain NaN or inf')
    return x


def _labels(x: ArrayLike, n: int, name: str) -> np.ndarray:
    x = x.cpu().numpy() if torch.is_tensor(x) else np.asarray(x)
    if x.shape != (n,):
        raise ValueError(f'{n} {name} embeddings but labels of shape {x.shape}')
    return x


def auto_chunk(num_gallery: int, budget: int = 2**26,
               most: int = 1024) -> int:
    """Queries per block: at most ``most`` (larger blocks are no faster)
    and a ``(chunk, G)`` block within ``budget`` elements (2^26 float32:
    256 MiB); 671 for G = 100k."""
    return max(1, min(most, budget // max(num_gallery, 1)))


def _tie_counts(scores: torch.Tensor, pos: torch.Tensor, kth: torch.Tensor,
                k: int) -> torch.Tensor:
    """Positives in the top ``k`` when the k-th score is tied beyond k:
    among equal scores negatives come first. ``scores``/``pos``: ``(R, G)``;
    ``kth``: ``(R,)`` the k-th largest score of each row."""
    above = scores > kth[:, None]
    tied_neg = ((scores == kth[:, None]) & ~pos).sum(1)
    return (above & pos).sum(1) + (k - above.sum(1) - tied_neg).clamp(min=0)


def positive_counts(queries: ArrayLike, query_labels: ArrayLike,
                    gallery: Optional[ArrayLike] = None,
                    gallery_labels: Optional[ArrayLike] = None,
                    ks: Sequence[int] = (1, 2, 4, 8),
                    distance: str = 'cosine',
                    chunk_size: Optional[int] = None
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """Positives among each query's ``k`` nearest gallery items.

    Without a gallery the queries are the gallery, each query left out of
    its own search (leave-one-out). The search is exact (float32 scores, as
    faiss ``IndexFlat``) and runs over blocks of ``chunk_size`` queries:
    memory ``O(chunk_size × G)``, never ``N × G``. ``k`` beyond the gallery
    size retrieves the whole gallery.

    Ties: items with equal scores are ordered negatives first (the
    pessimistic rule), so the result does not depend on the gallery order
    and a collapsed embedding (all scores equal) scores 0, not 1. Scores are
    float32 (cosine: dot products of unit vectors; Euclidean: 2 q·g − |g|²),
    so a tie is a tie of the computed scores.

    Args:
        queries (array): ``(Nq, D)`` embeddings.
        query_labels (array): ``(Nq,)`` labels (any comparable values).
        gallery (array, optional): ``(G, D)`` embeddings.
        gallery_labels (array, optional): ``(G,)`` labels.
        ks (sequence of int): Short-list sizes. Defaults to (1, 2, 4, 8).
        distance (str): ``'cosine'`` or ``'euclidean'``.
        chunk_size (int, optional): Queries per block. Defaults to
            :func:`auto_chunk`.

    Returns:
        tuple[ndarray, ndarray]: ``(Nq, len(ks))`` counts of positives in
        the top k and ``(Nq,)`` numbers of positives |P_q| in the gallery.
    """
    if distance not in DISTANCES:
        raise ValueError(f'distance must be one of {DISTANCES}, got '
                         f'{distance!r}')
    ks = [int(k) for k in ks]
    if not ks or min(ks) < 1:
        raise ValueError(f'ks must be positive integers, got {ks}')
    q = _embeddings(queries, 'queries')
    q_lab = _labels(query_labels, len(q), 'query')
    loo = gallery is None
    if loo:
        if gallery_labels is not None:
            raise ValueError('gallery_labels given without a gallery')
        g, g_lab = q, q_lab
    else:
        g = _embeddings(gallery, 'gallery')
        g_lab = _labels(gallery_labels, len(g), 'gallery')
    num_gallery = len(g) - int(loo)  # what a query can retrieve
    if len(q) == 0:
        raise ValueError('no queries')
    if num_gallery < 1:
        raise ValueError('the gallery is empty' + (
            ' (leave-one-out needs at least 2 embeddings)' if loo else ''))
    if q.shape[1] != g.shape[1]:
        raise ValueError(f'queries have {q.shape[1]} dimensions, the '
                         f'gallery {g.shape[1]}')
    codes = np.unique(np.concatenate([q_lab, g_lab]), return_inverse=True)[1]
    q_codes = torch.from_numpy(codes[:len(q)].reshape(-1))
    g_codes = torch.from_numpy(codes[len(q):].reshape(-1) if not loo
                               else codes[:len(q)].reshape(-1))
    n_pos = torch.bincount(g_codes, minlength=int(codes.max()) + 1)[q_codes]
    n_pos = n_pos - int(loo)

    if distance == 'cosine':
        q = F.normalize(q, dim=1)
        g = q if loo else F.normalize(g, dim=1)
    else:  # rank by 2 q·g − |g|², i.e. by −|q − g|²
        bias = -(g * g).sum(1)
    k_eff = [min(k, num_gallery) for k in ks]
    fetch = min(max(k_eff) + 1, len(g))
    step = chunk_size or auto_chunk(len(g))
    block = torch.empty(min(step, len(q)), len(g))
    counts = torch.empty(len(q), len(ks), dtype=torch.long)
    for s in range(0, len(q), step):
        qc, cc = q[s:s + step], q_codes[s:s + step]
        scores = block[:len(qc)]
        if distance == 'cosine':
            torch.mm(qc, g.T, out=scores)
        else:
            torch.addmm(bias, qc, g.T, alpha=2, out=scores)
        if loo:
            rows = torch.arange(len(qc))
            scores[rows, rows + s] = float('-inf')
        vals, idx = scores.topk(fetch, dim=1)
        cum = (g_codes[idx] == cc[:, None]).cumsum(1)
        for j, k in enumerate(k_eff):
            counts[s:s + len(qc), j] = cum[:, k - 1]
            if k == num_gallery:
                continue
            tied = (vals[:, k - 1] == vals[:, k]).nonzero()[:, 0]
            if len(tied):
                pos = g_codes[None, :] == cc[tied, None]
                counts[s + tied, j] = _tie_counts(scores[tied], pos,
                                                  vals[tied, k - 1], k)
    return counts.numpy(), n_pos.numpy()


def summarize_counts(counts: np.ndarray, n_pos: np.ndarray,
                     ks: Sequence[int]) -> Dict[str, float]:
    """``recall@k`` and ``recall_norm@k`` over queries with a positive.

    * ``recall@k``: fraction of queries with a positive in the top k (the
      retrieval literature's R@k, which the RS@k paper reports);
    * ``recall_norm@k``: mean of |P_q ∩ top k| / min(k, |P_q|) (the recall
      that RS@k approximates).

    Queries without any positive in the gallery have no recall and are left
    out; :func:`recall_at_k` raises if that leaves none.
    """
    has_pos = n_pos > 0
    if not has_pos.any():
        raise ValueError('no query has a positive in the gallery: every '
                         'label occurs once (leave-one-out) or is missing '
                         'from the gallery')
    c, p = counts[has_pos].astype(float), n_pos[has_pos]
    out = {}
    for j, k in enumerate(ks):
        out[f'recall@{k}'] = float(np.mean(c[:, j] > 0))
    for j, k in enumerate(ks):
        out[f'recall_norm@{k}'] = float(np.mean(c[:, j] / np.minimum(k, p)))
    return out


def recall_at_k(queries: ArrayLike, query_labels: ArrayLike,
                gallery: Optional[ArrayLike] = None,
                gallery_labels: Optional[ArrayLike] = None,
                ks: Sequence[int] = (1, 2, 4, 8),
                distance: str = 'cosine',
                chunk_size: Optional[int] = None) -> Dict[str, float]:
    """Exact Recall@k: :func:`positive_counts` then
    :func:`summarize_counts` (same arguments)."""
    counts, n_pos = positive_counts(queries, query_labels, gallery,
                                    gallery_labels, ks, distance, chunk_size)
    return summarize_counts(counts, n_pos, ks)


def _lookup(sample: dict, key: str):
    for part in key.split('.'):
        sample = sample[part]
    return sample


@METRICS.register_module()
class RecallAtK(BaseMetric):
    """Exact Recall@k of embeddings (see :func:`positive_counts`).

    ``process`` keeps one entry per sample, so MMEngine's result collection
    restores the dataset order and drops sampler padding: in several
    processes the search runs once, on the whole set, in the main process.

    Args:
        ks (sequence of int): Defaults to (1, 2, 4, 8).
        distance (str): ``'cosine'`` or ``'euclidean'``.
        mode (str): ``'leave_one_out'`` (every sample is a query and the
            gallery, itself excluded) or ``'query_gallery'`` (``split_key``
            says which).
        embedding_key (str): Dotted key of the ``(D,)`` embedding in a
            predicted sample. Defaults to ``'embedding'``.
        label_key (str): Dotted key of the label. Defaults to ``'label'``.
        split_key (str): Key holding ``'query'`` or ``'gallery'``.
        chunk_size (int, optional): Queries per search block.
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): Defaults to ``'retrieval'``.
    """

    default_prefix = 'retrieval'

    def __init__(self,
                 ks: Sequence[int] = (1, 2, 4, 8),
                 distance: str = 'cosine',
                 mode: str = 'leave_one_out',
                 embedding_key: str = 'embedding',
                 label_key: str = 'label',
                 split_key: str = 'split',
                 chunk_size: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device, prefix)
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        if distance not in DISTANCES:
            raise ValueError(f'distance must be one of {DISTANCES}, got '
                             f'{distance!r}')
        self.ks, self.distance, self.mode = list(ks), distance, mode
        self.embedding_key, self.label_key = embedding_key, label_key
        self.split_key, self.chunk_size = split_key, chunk_size

    def process(self, data_batch: Sequence[Dict],
                data_samples: Sequence[Dict]) -> None:
        for sample in data_samples:
            emb = _lookup(sample, self.embedding_key)
            emb = emb.detach().cpu().float().numpy() if torch.is_tensor(
                emb) else np.asarray(emb, dtype=np.float32)
            label = _lookup(sample, self.label_key)
            if torch.is_tensor(label):
                label = label.item()
            split = sample[self.split_key] if self.mode == 'query_gallery' \
                else 'query'
            if split not in ('query', 'gallery'):
                raise ValueError(f"{self.split_key} must be 'query' or "
                                 f"'gallery', got {split!r}")
            self.results.append((emb.reshape(-1), label, split))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        if not results:
            raise ValueError('RecallAtK got no samples')
        embs, labels, splits = zip(*results)
        embs, labels = np.stack(embs), np.asarray(labels)
        if self.mode == 'leave_one_out':
            args = (embs, labels)
        else:
            is_q = np.asarray(splits) == 'query'
            args = (embs[is_q], labels[is_q], embs[~is_q], labels[~is_q])
        counts, n_pos = positive_counts(*args, ks=self.ks,
                                        distance=self.distance,
                                        chunk_size=self.chunk_size)
        if (n_pos == 0).any():
            print_log(f'RecallAtK: {int((n_pos == 0).sum())} of {len(n_pos)} '
                      'queries have no positive in the gallery and are left '
                      'out', logger='current')
        return {k: round(v, 4)
                for k, v in summarize_counts(counts, n_pos, self.ks).items()}
