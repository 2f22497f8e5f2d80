"""Exact Recall@k of an embedding: tiled brute-force k-NN search, then
counts of positives in each query's short list."""
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

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


TILE = 1024  # every score comes from one (TILE × D) @ (D × TILE) product
_ONEDNN = (torch.backends.mkldnn.is_available()
           and hasattr(torch.ops.mkldnn, '_linear_pointwise'))


def _dot_tile(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b.T`` for two ``(TILE, D)`` tiles, in float32.

    oneDNN's matmul (the kernel behind ``torch.compile``'s CPU linear) when
    PyTorch has it: it picks its kernels by the CPU's instruction set, while
    MKL's sgemm runs its slower AVX2 path on AMD CPUs (431 vs 191 GFLOPS
    on this project's AVX-512 EPYC machines). Either is exact float32.
    """
    if _ONEDNN:
        return torch.ops.mkldnn._linear_pointwise(a, b, None, 'none', [], '')
    return a @ b.T


class _TiledScores:
    """Scores of queries against a gallery, one fixed-shape tile at a time.

    BLAS rounds a product differently for different matrix shapes (small
    blocks take other kernels), so mathematically equal scores stop being
    ties when the work is split differently. Here every score comes from a
    ``TILE × TILE`` product (edge tiles zero-padded): it is a function of
    the two vectors only, not of how many queries are searched at once, of
    the gallery order or of the machine's memory. Leave-one-out computes
    each pair once (the upper triangle of tiles) and reads it both ways.

    Scores: cosine, the dot product of unit vectors; Euclidean,
    ``2 q·g − |g|²`` (the order of −|q − g|²). Padding, and a query's own
    entry in leave-one-out, score −inf.
    """

    def __init__(self, q: torch.Tensor, g: torch.Tensor, loo: bool,
                 distance: str) -> None:
        self.loo = loo
        self.bias = -(g * g).sum(1) if distance == 'euclidean' else None
        self.nq, self.ng = len(q), len(g)
        self.q = _tiles(q)
        self.g = self.q if loo else _tiles(g)
        self.q_tiles, self.g_tiles = len(self.q), len(self.g)

    def _finish(self, dot: torch.Tensor, rows: slice, cols: slice) -> torch.Tensor:
        """Scores of query ``rows`` (tile-local) against gallery ``cols``."""
        n_rows = min(rows.stop, self.nq) - rows.start
        n_cols = min(cols.stop, self.ng) - cols.start
        out = dot[:n_rows, :n_cols]
        if self.bias is not None:
            out = out.mul(2).add_(self.bias[cols])
        if self.loo and rows.start == cols.start:
            out.fill_diagonal_(float('-inf'))
        return out

    def _blocks(self) -> Iterator[Tuple[int, int]]:
        """Tile pairs to compute: leave-one-out, the diagonal first (a
        query's own tile holds its likely neighbours when the data come
        grouped, which sets a high bar for the rest), then the upper
        triangle."""
        if not self.loo:
            yield from ((i, j) for i in range(self.q_tiles)
                        for j in range(self.g_tiles))
            return
        yield from ((i, i) for i in range(self.q_tiles))
        yield from ((i, j) for i in range(self.q_tiles)
                    for j in range(i + 1, self.g_tiles))

    def pairs(self) -> Iterator[Tuple[slice, slice, torch.Tensor]]:
        """``(query rows, gallery cols, scores)`` for every block of the
        score matrix, each block exactly once."""
        for i, j in self._blocks():
            dot = _dot_tile(self.q[i], self.g[j])
            rows, cols = _span(i), _span(j)
            yield rows, cols, self._finish(dot, rows, cols)
            if self.loo and j > i:
                yield cols, rows, self._finish(dot.T, cols, rows)

    def rows(self, i: int) -> Iterator[Tuple[slice, torch.Tensor]]:
        """``(gallery cols, scores)`` of query tile ``i`` against each
        gallery tile, the same values as :meth:`pairs` gives."""
        for j in range(self.g_tiles):
            a, b = (j, i) if self.loo and j < i else (i, j)
            dot = _dot_tile(self.q[a], self.g[b])
            yield _span(j), self._finish(dot if a == i else dot.T,
                                         _span(i), _span(j))


def _tiles(x: torch.Tensor) -> List[torch.Tensor]:
    """``(TILE, D)`` row blocks of ``x``; the last one zero-padded (once)."""
    tiles = list(x.split(TILE))
    tiles[-1] = F.pad(tiles[-1], (0, 0, 0, TILE - len(tiles[-1])))
    return tiles


def _span(t: int) -> slice:
    return slice(t * TILE, (t + 1) * TILE)


def _top_scores(scores: _TiledScores, fetch: int
                ) -> Tuple[torch.Tensor, torch.Tensor]:
    """The ``fetch`` best scores of every query, descending, and their
    gallery indexes. A block only updates the queries it can improve:
    after the first few blocks most scores fall below the running
    ``fetch``-th best and cost one comparison each."""
    vals = torch.full((scores.nq, fetch), float('-inf'))
    idx = torch.full((scores.nq, fetch), -1, dtype=torch.long)
    for rows, cols, block in scores.pairs():
        better = (block.amax(1) > vals[rows, -1]).nonzero()[:, 0]
        if not len(better):
            continue
        r = better + rows.start
        top = block[better].topk(min(fetch, block.shape[1]), dim=1)
        v = torch.cat([vals[r], top.values], 1)
        i = torch.cat([idx[r], top.indices + cols.start], 1)
        best = v.topk(fetch, dim=1)
        vals[r], idx[r] = best.values, i.gather(1, best.indices)
    return vals, idx


def _tied_counts(scores: _TiledScores, rows: torch.Tensor,
                 kth: torch.Tensor, k: int, q_codes: torch.Tensor,
                 g_codes: torch.Tensor) -> torch.Tensor:
    """Positives in the top ``k`` of query ``rows`` whose k-th score
    ``kth`` is tied beyond k: among equal scores negatives come first."""
    above = torch.zeros(len(rows), dtype=torch.long)
    above_pos = torch.zeros_like(above)
    tied_neg = torch.zeros_like(above)
    tile = rows // TILE
    for t in tile.unique().tolist():
        sel = (tile == t).nonzero()[:, 0]
        local, v = rows[sel] - t * TILE, kth[sel, None]
        codes = q_codes[rows[sel], None]
        for cols, block in scores.rows(t):
            s, pos = block[local], g_codes[None, cols] == codes
            gt = s > v
            above[sel] += gt.sum(1)
            above_pos[sel] += (gt & pos).sum(1)
            tied_neg[sel] += ((s == v) & ~pos).sum(1)
    return above_pos + (k - above - tied_neg).clamp(min=0)


def positive_counts(queries: ArrayLike, query_labels: ArrayLike,
                    gallery: Optional[ArrayLike] = None,
                    gallery_labels: Optional[ArrayLike] = None,
                    ks: Sequence[int] = (1, 2, 4, 8),
                    distance: str = 'cosine'
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """Positives among each query's ``k`` nearest gallery items.

    Without a gallery the queries are the gallery, each query left out of
    its own search (leave-one-out). The search is exact (float32 scores, as
    faiss ``IndexFlat``) over fixed ``1024 × 1024`` blocks of the score
    matrix (:class:`_TiledScores`): memory ``O(1024² + N k)``, never
    ``N × G``; leave-one-out scores each pair once. ``k`` beyond the
    gallery size retrieves the whole gallery.

    Ties: items with equal scores are ordered negatives first (the
    pessimistic rule), so the result does not depend on the gallery order
    and a collapsed embedding (all scores equal) scores 0, not 1. Scores are
    float32 (cosine: dot products of unit vectors; Euclidean: 2 q·g − |g|²),
    so a tie is a tie of the computed scores; each score depends on its two
    vectors only, so equal vectors tie however the search is split.

    Args:
        queries (array): ``(Nq, D)`` embeddings.
        query_labels (array): ``(Nq,)`` labels (any comparable values).
        gallery (array, optional): ``(G, D)`` embeddings.
        gallery_labels (array, optional): ``(G,)`` labels.
        ks (sequence of int): Short-list sizes. Defaults to (1, 2, 4, 8).
        distance (str): ``'cosine'`` or ``'euclidean'``.

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
    scores = _TiledScores(q, g, loo, distance)
    k_eff = [min(k, num_gallery) for k in ks]
    vals, idx = _top_scores(scores, min(max(k_eff) + 1, num_gallery))
    cum = (g_codes[idx.clamp(min=0)] == q_codes[:, None]).cumsum(1)
    counts = torch.empty(len(q), len(ks), dtype=torch.long)
    for j, k in enumerate(k_eff):
        if k == num_gallery:
            counts[:, j] = n_pos
            continue
        counts[:, j] = cum[:, k - 1]
        tied = (vals[:, k - 1] == vals[:, k]).nonzero()[:, 0]
        if len(tied):
            counts[tied, j] = _tied_counts(scores, tied, vals[tied, k - 1],
                                           k, q_codes, g_codes)
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
                distance: str = 'cosine') -> Dict[str, float]:
    """Exact Recall@k: :func:`positive_counts` then
    :func:`summarize_counts` (same arguments)."""
    counts, n_pos = positive_counts(queries, query_labels, gallery,
                                    gallery_labels, ks, distance)
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
        self.split_key = split_key

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
                                        distance=self.distance)
        if (n_pos == 0).any():
            print_log(f'RecallAtK: {int((n_pos == 0).sum())} of {len(n_pos)} '
                      'queries have no positive in the gallery and are left '
                      'out', logger='current')
        return {k: round(v, 4)
                for k, v in summarize_counts(counts, n_pos, self.ks).items()}
