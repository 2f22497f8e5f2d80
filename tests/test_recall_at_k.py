"""Exact Recall@k against a brute-force reference, ties, bad input, and
evaluation in two processes."""
import math

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from hypothesis import given, settings
from hypothesis import strategies as st

from lsmmocr.metrics import RecallAtK, positive_counts, recall_at_k


def brute_force(q, q_lab, g, g_lab, ks, distance, loo):
    """Float64, the full score matrix, one stable sort per query: negatives
    before positives among equal scores."""
    q, g = np.asarray(q, np.float64), np.asarray(g, np.float64)
    if distance == 'cosine':
        def unit(x):
            n = np.linalg.norm(x, axis=1, keepdims=True)
            return np.divide(x, n, out=np.zeros_like(x), where=n > 0)
        scores = unit(q) @ unit(g).T
    else:
        scores = -((q[:, None, :] - g[None, :, :])**2).sum(-1)
    counts, n_pos = [], []
    for i in range(len(q)):
        keep = np.arange(len(g)) != i if loo else np.ones(len(g), bool)
        pos = g_lab[keep] == q_lab[i]
        order = np.lexsort((pos, -scores[i, keep]))
        counts.append([pos[order][:k].sum() for k in ks])
        n_pos.append(pos.sum())
    return np.array(counts).reshape(len(q), len(ks)), np.array(n_pos)


def exact_vectors(draw, n, dim, distance):
    """Vectors whose scores are exact in float32 and float64, so ties are
    real ties for both: small integers (Euclidean), or 4 entries of ±1 and
    the rest 0 (cosine: unit vectors of ±½, products multiples of ¼)."""
    if distance == 'euclidean':
        return np.array(draw(st.lists(
            st.lists(st.integers(-2, 2), min_size=dim, max_size=dim),
            min_size=n, max_size=n)), np.float32).reshape(n, dim)
    rows = []
    for _ in range(n):
        where = draw(st.permutations(range(dim)))[:4]
        signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=4,
                              max_size=4))
        row = np.zeros(dim, np.float32)
        row[where] = np.array(signs) * draw(st.sampled_from([1.0, 3.0]))
        rows.append(row)
    return np.array(rows, np.float32).reshape(n, dim)


@st.composite
def retrieval_problems(draw):
    distance = draw(st.sampled_from(['cosine', 'euclidean']))
    dim = draw(st.integers(4, 6))
    loo = draw(st.booleans())
    num_classes = draw(st.integers(1, 8))
    nq = draw(st.integers(1, 30))
    ng = 0 if loo else draw(st.integers(1, 30))
    q = exact_vectors(draw, nq, dim, distance)
    g = exact_vectors(draw, ng, dim, distance)
    labels = st.integers(0, num_classes - 1)
    q_lab = np.array(draw(st.lists(labels, min_size=nq, max_size=nq)))
    g_lab = np.array(draw(st.lists(labels, min_size=ng, max_size=ng)))
    ks = draw(st.lists(st.integers(1, 40), min_size=1, max_size=4))
    return distance, loo, q, q_lab, g, g_lab, ks


@settings(max_examples=150, deadline=None)
@given(retrieval_problems())
def test_matches_brute_force(problem):
    distance, loo, q, q_lab, g, g_lab, ks = problem
    gallery = (None, None) if loo else (g, g_lab)
    if loo and len(q) < 2:
        with pytest.raises(ValueError, match='gallery is empty'):
            positive_counts(q, q_lab, *gallery, ks=ks, distance=distance)
        return
    counts, n_pos = positive_counts(q, q_lab, *gallery, ks=ks,
                                    distance=distance)
    ref_counts, ref_pos = brute_force(q, q_lab, q if loo else g,
                                      q_lab if loo else g_lab, ks, distance,
                                      loo)
    np.testing.assert_array_equal(counts, ref_counts)
    np.testing.assert_array_equal(n_pos, ref_pos)
    if not (ref_pos > 0).any():
        with pytest.raises(ValueError, match='no query has a positive'):
            recall_at_k(q, q_lab, *gallery, ks=ks, distance=distance)
        return
    out = recall_at_k(q, q_lab, *gallery, ks=ks, distance=distance)
    has = ref_pos > 0
    for j, k in enumerate(ks):
        assert out[f'recall@{k}'] == pytest.approx(
            np.mean(ref_counts[has, j] > 0))
        assert out[f'recall_norm@{k}'] == pytest.approx(
            np.mean(ref_counts[has, j] / np.minimum(k, ref_pos[has])))


@st.composite
def duplicated_embeddings(draw):
    """Gaussian vectors, many exactly repeated: the scores of equal vectors
    are mathematically equal, but float32 dot products of them are equal
    only if computed alike (quantized or collapsed embeddings)."""
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    n, dim = draw(st.integers(20, 1200)), draw(st.integers(8, 130))
    distinct = rng.normal(size=(draw(st.integers(2, 12)), dim))
    x = distinct[rng.integers(0, len(distinct), n)].astype(np.float32)
    labels = rng.integers(0, draw(st.integers(2, 6)), n)
    return x, labels, rng


@settings(max_examples=25, deadline=None)
@given(duplicated_embeddings(), st.sampled_from(['cosine', 'euclidean']),
       st.integers(1, 300))
def test_counts_do_not_depend_on_the_split_order_or_threads(data, distance,
                                                          split):
    """Tied data: searching the queries in blocks of ``split`` (what a
    memory budget chooses), in a shuffled gallery or on one thread gives the
    same counts, and leave-one-out agrees with the query/gallery search."""
    x, labels, rng = data
    ks = (1, 2, 4, 8, 16)
    whole = positive_counts(x, labels, x, labels, ks=ks, distance=distance)[0]
    parts = np.concatenate([
        positive_counts(x[s:s + split], labels[s:s + split], x, labels,
                        ks=ks, distance=distance)[0]
        for s in range(0, len(x), split)])
    np.testing.assert_array_equal(parts, whole)
    perm = rng.permutation(len(x))
    shuffled = positive_counts(x, labels, x[perm], labels[perm], ks=ks,
                               distance=distance)[0]
    np.testing.assert_array_equal(shuffled, whole)
    loo = positive_counts(x, labels, ks=ks, distance=distance)[0]
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one_thread = positive_counts(x, labels, ks=ks, distance=distance)[0]
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(one_thread, loo)
    # Leave-one-out is the query/gallery search without the query itself:
    # each query is one of its own (positive) duplicates at the top.
    own = positive_counts(x, labels, x, labels, ks=[k + 1 for k in ks],
                          distance=distance)[0]
    dup_neg = np.array([((x == x[i]).all(1) & (labels != labels[i])).any()
                        for i in range(len(x))])
    np.testing.assert_array_equal(loo[~dup_neg], own[~dup_neg] - 1)


def test_ties_are_pessimistic_and_order_free():
    # A collapsed embedding retrieves nothing, whatever the gallery order.
    x = np.ones((6, 3), np.float32)
    labels = np.array([0, 0, 1, 1, 2, 2])
    out = recall_at_k(x, labels, ks=(1, 4, 5))
    assert out['recall@1'] == 0.0
    assert out['recall@4'] == 0.0  # 4 negatives tie with the positive
    assert out['recall@5'] == 1.0  # the whole gallery
    # A positive above a tie of one negative and two positives: the
    # negative takes rank 2.
    q = np.array([[1.0, 0.0]], np.float32)
    g = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], np.float32)
    g_lab = np.array([7, 7, 8, 7])
    counts, n_pos = positive_counts(q, [7], g, g_lab, ks=(1, 2, 3, 4))
    assert counts.tolist() == [[1, 1, 2, 3]] and n_pos.tolist() == [3]
    perm = np.array([3, 2, 1, 0])
    counts2, _ = positive_counts(q, [7], g[perm], g_lab[perm],
                                 ks=(1, 2, 3, 4))
    np.testing.assert_array_equal(counts, counts2)


def test_perfect_and_random_embeddings():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(50), 4)
    centres = rng.standard_normal((50, 32))
    tight = centres[labels] + 0.01 * rng.standard_normal((200, 32))
    for distance in ('cosine', 'euclidean'):
        out = recall_at_k(tight, labels, ks=(1, 3, 8), distance=distance)
        assert out == {'recall@1': 1.0, 'recall@3': 1.0, 'recall@8': 1.0,
                       'recall_norm@1': 1.0, 'recall_norm@3': 1.0,
                       'recall_norm@8': 1.0}
    noise = rng.standard_normal((200, 32))
    assert recall_at_k(noise, labels, ks=(1,))['recall@1'] < 0.1


def test_singleton_classes_are_left_out():
    x = np.array([[0.0, 1.0], [0.0, 1.1], [1.0, 0.0], [5.0, 5.0]], np.float32)
    out = recall_at_k(x, [0, 0, 1, 2], ks=(1,), distance='euclidean')
    assert out['recall@1'] == 1.0  # classes 1 and 2 have no positive


def test_bad_input_is_reported():
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    y = np.arange(5) % 2
    bad = x.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match='NaN'):
        recall_at_k(bad, y)
    with pytest.raises(ValueError, match='5 query embeddings but labels'):
        recall_at_k(x, y[:4])
    with pytest.raises(ValueError, match='gallery is empty'):
        recall_at_k(x, y, np.zeros((0, 3)), [])
    with pytest.raises(ValueError, match='gallery is empty'):
        recall_at_k(x[:1], y[:1])
    with pytest.raises(ValueError, match='3 dimensions, the gallery 4'):
        recall_at_k(x, y, np.zeros((2, 4)), [0, 1])
    with pytest.raises(ValueError, match='distance'):
        recall_at_k(x, y, distance='hamming')
    with pytest.raises(ValueError, match='ks'):
        recall_at_k(x, y, ks=(0,))


def _samples(n=23, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, n)
    emb = rng.standard_normal((5, 8))[labels] + rng.standard_normal((n, 8))
    return [dict(embedding=torch.from_numpy(e).float(), label=int(lab),
                 split='query' if i % 3 else 'gallery')
            for i, (e, lab) in enumerate(zip(emb, labels))]


def test_metric_modes_match_functional():
    samples = _samples()
    emb = np.stack([s['embedding'].numpy() for s in samples])
    lab = np.array([s['label'] for s in samples])
    is_q = np.array([s['split'] == 'query' for s in samples])
    for mode, args in [('leave_one_out', (emb, lab)),
                       ('query_gallery',
                        (emb[is_q], lab[is_q], emb[~is_q], lab[~is_q]))]:
        metric = RecallAtK(ks=(1, 2, 30), mode=mode, distance='euclidean')
        metric.process([], samples[:10])
        metric.process([], samples[10:])
        got = metric.evaluate(len(samples))
        want = recall_at_k(*args, ks=(1, 2, 30), distance='euclidean')
        assert got == {f'retrieval/{k}': round(v, 4) for k, v in want.items()}


def _evaluate_in_process(rank, world, init_file, samples, out_file):
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    metric = RecallAtK(ks=(1, 2, 4))
    # MMEngine's DefaultSampler: pad to a multiple of world, interleave.
    total = math.ceil(len(samples) / world) * world
    mine = (list(range(len(samples))) * 2)[:total][rank::world]
    for s in range(0, len(mine), 4):
        metric.process([], [samples[i] for i in mine[s:s + 4]])
    result = metric.evaluate(len(samples))
    if rank == 0:
        torch.save(result, out_file)
    dist.destroy_process_group()


def test_two_processes_match_one(tmp_path):
    samples = _samples(n=23)  # 23: the sampler pads one sample
    out_file = tmp_path / 'result.pth'
    mp.spawn(_evaluate_in_process, nprocs=2,
             args=(2, str(tmp_path / 'init'), samples, str(out_file)))
    single = RecallAtK(ks=(1, 2, 4))
    single.process([], samples)
    assert torch.load(out_file) == single.evaluate(len(samples))
