"""RS@k against a loop-by-loop reference of methods.md §3, its range and
optimum, the self-match rule, SiMix, and chunked gradients."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lsmmocr.losses import RecallSurrogateLoss, large_batch_backward, simix
from lsmmocr.ranking import soft_count_topk, soft_ranks


def sig(u):
    return 1 / (1 + math.exp(-u)) if u >= 0 else math.exp(u) / (1 + math.exp(u))


def reference_loss(emb, labels, ks, tau1, tau2, self_in_rank=False,
                   offset=0.0, virtual=None, v_labels=None):
    """The formulas, one query, positive and z at a time, in float64."""
    e = F.normalize(emb.double(), dim=1).numpy()
    gal, g_lab = e, list(labels.tolist())
    if virtual is not None:
        gal = np.concatenate([e, virtual.double().numpy()])
        g_lab += v_labels.tolist()
    recalls = []
    for q in range(len(e)):
        s = gal @ e[q]
        pos = [x for x in range(len(gal)) if g_lab[x] == g_lab[q] and x != q]
        if not pos:
            continue
        rank = {x: 1 + sum(sig((s[z] - s[x]) / tau2) for z in range(len(gal))
                           if z != x and (self_in_rank or z != q))
                for x in pos}
        recalls.append(np.mean([
            min(sum(sig((k + offset - rank[x]) / t) for x in pos), k) /
            min(k, len(pos)) for k, t in zip(ks, tau1)]))
    return 1 - np.mean(recalls)


@st.composite
def batches(draw):
    n = draw(st.integers(2, 14))
    labels = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    if len(set(labels)) == n:  # RS@k needs one class with two items
        labels[1] = labels[0]
    seed = draw(st.integers(0, 2**16))
    emb = torch.randn(n, draw(st.integers(2, 6)),
                      generator=torch.Generator().manual_seed(seed))
    ks = draw(st.lists(st.integers(1, 20), min_size=1, max_size=4))
    tau1 = draw(st.lists(st.sampled_from([0.05, 1.0, 4.0]),
                         min_size=len(ks), max_size=len(ks)))
    opts = dict(ks=ks, tau1=tau1, tau2=draw(st.sampled_from([0.01, 0.1])),
                self_in_rank=draw(st.booleans()),
                rank_offset=draw(st.sampled_from([0.0, 0.5])),
                simix=draw(st.booleans()))
    return emb, torch.tensor(labels), opts, seed


@settings(max_examples=150, deadline=None)
@given(batches())
def test_matches_reference_and_lies_in_unit_range(batch):
    emb, labels, opts, seed = batch
    torch.manual_seed(seed)
    loss = RecallSurrogateLoss(**opts)(emb, labels).item()
    virtual = v_labels = None
    if opts['simix']:
        torch.manual_seed(seed)  # the same draws of α as the loss
        virtual, v_labels = simix(F.normalize(emb, dim=1), labels)
    want = reference_loss(emb, labels, opts['ks'], opts['tau1'],
                          opts['tau2'], opts['self_in_rank'],
                          opts['rank_offset'], virtual, v_labels)
    assert loss == pytest.approx(want, abs=1e-5)
    assert 0.0 <= loss <= 1.0


def perfect_embeddings(num_classes=6, weights=(0.0, 0.6, 1.0, 1.4)):
    """Classes in orthogonal subspaces; member j of a class is its centre
    plus ``weights[j]`` along a private axis, so every query sees its 3
    positives at distinct similarities (gaps > 7 τ2) and all negatives at 0.
    """
    m = len(weights)
    emb = torch.zeros(num_classes * m, num_classes * (m + 1))
    for c in range(num_classes):
        for j, w in enumerate(weights):
            emb[c * m + j, c * (m + 1)] = 1.0
            emb[c * m + j, c * (m + 1) + 1 + j] = w
    return emb, torch.arange(num_classes).repeat_interleave(m)


def closed_form(ranks, ks=(1, 2, 4, 8, 16), tau1=1.0, offset=0.0):
    """1 − mean_k R̃_k for positives at exactly ``ranks``."""
    return 1 - np.mean([
        min(sum(sig((k + offset - r) / tau1) for r in ranks), k) /
        min(k, len(ranks)) for k in ks])


def test_perfect_embeddings():
    emb, labels = perfect_embeddings()
    # Paper settings: the step at rank k leaves a floor (σ(0) = ½ at r = k).
    paper = RecallSurrogateLoss()(emb, labels).item()
    assert paper == pytest.approx(closed_form([1, 2, 3]), abs=0.01)
    assert 0.05 < paper < 0.15
    # The step between ranks k and k + 1, sharp: ≈ 0.
    sharp = RecallSurrogateLoss(tau1=0.05, rank_offset=0.5)(emb, labels)
    assert sharp.item() < 1e-3
    # The public code's self-match: every rank one higher.
    public = RecallSurrogateLoss(self_in_rank=True)(emb, labels).item()
    assert public == pytest.approx(closed_form([2, 3, 4]), abs=0.01)
    assert public > paper + 0.1
    # Anything else is worse.
    for seed in range(3):
        noisy = emb + 0.5 * torch.randn(emb.shape,
                                        generator=torch.Generator().manual_seed(seed))
        assert RecallSurrogateLoss()(noisy, labels).item() > paper + 0.05


def test_soft_primitives():
    sim = torch.tensor([[0.9, 0.5, float('-inf'), 0.1]])
    ranks = soft_ranks(sim, sim[:, [0, 3]], tau=1e-3)
    assert ranks[0].tolist() == pytest.approx([1.0, 3.0])  # −inf skipped
    valid = torch.tensor([[True, True]])
    assert soft_count_topk(ranks, valid, 1, 1e-3).item() == pytest.approx(0.5)
    assert soft_count_topk(ranks, valid, 4, 1e-3).item() == pytest.approx(2.0)
    tied = torch.ones(1, 3)  # 3 × σ(0) = 1.5, capped at k = 1
    assert soft_count_topk(tied, torch.ones(1, 3), 1, 10.0).item() == 1.0
    mask = torch.tensor([[True, False, False]])
    assert soft_count_topk(tied, mask, 1, 10.0).item() == 0.5


def test_simix_virtual_items():
    emb = F.normalize(torch.randn(7, 5), dim=1)
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 3])
    virtual, v_labels = simix(emb, labels, torch.Generator().manual_seed(0))
    assert len(virtual) == 3 + 1 and v_labels.tolist() == [0, 0, 0, 1]
    pairs = [(0, 1), (0, 2), (1, 2), (3, 4)]
    for v, (a, b) in zip(virtual, pairs):
        alpha = ((v - emb[b]) @ (emb[a] - emb[b])) / (emb[a] - emb[b]).norm()**2
        assert 0 <= alpha <= 1
        assert torch.allclose(v, alpha * emb[a] + (1 - alpha) * emb[b],
                              atol=1e-6)
    emb = emb.requires_grad_(True)
    torch.manual_seed(0)
    RecallSurrogateLoss(simix=True)(emb, labels).backward()
    assert emb.grad[5:].abs().sum() > 0  # singletons: gallery, not queries


def test_gradient_is_exact():
    emb = torch.randn(8, 4, dtype=torch.double, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1, 1, 2, 2, 3])
    loss = RecallSurrogateLoss(tau2=0.1, tau1=[0.5, 2.0], ks=(1, 3))
    assert torch.autograd.gradcheck(lambda e: loss(e, labels), (emb,))


def test_chunked_loss_equals_one_pass():
    torch.manual_seed(0)
    emb = torch.randn(1000, 64)
    labels = torch.arange(250).repeat_interleave(4)
    grads = []
    for chunk in (None, 96):
        e = emb.clone().requires_grad_(True)
        loss = RecallSurrogateLoss(chunk_size=chunk, simix=True)
        torch.manual_seed(1)
        value = loss(e, labels)
        value.backward()
        grads.append((value.item(), e.grad))
    assert grads[0][1].abs().max() > 0
    assert grads[0][0] == pytest.approx(grads[1][0], abs=1e-6)
    torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-4, atol=1e-8)


def _mlp(dropout=0.0, norm=False):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(24, 48),
                         nn.BatchNorm1d(48) if norm else nn.Identity(),
                         nn.ReLU(), nn.Dropout(dropout), nn.Linear(48, 16))


def _param_grads(model):
    return [p.grad.clone() for p in model.parameters()]


def test_large_batch_helper_equals_one_pass():
    x = torch.randn(300, 24)
    labels = torch.arange(75).repeat_interleave(4)
    loss_fn = RecallSurrogateLoss()
    model = _mlp()
    one_pass = loss_fn(model(x), labels)
    one_pass.backward()
    want = _param_grads(model)
    assert all(w.abs().max() > 0 for w in want)
    model.zero_grad()
    got = large_batch_backward(model, x, labels, loss_fn, chunk_size=64)
    assert got.item() == pytest.approx(one_pass.item(), abs=1e-6)
    for g, w in zip(_param_grads(model), want):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-7)


def test_large_batch_helper_replays_randomness_and_buffers():
    x = torch.randn(200, 24)
    labels = torch.arange(50).repeat_interleave(4)
    loss_fn = RecallSurrogateLoss()
    # Reference: the same chunks, forward with a graph, one backward.
    model = _mlp(dropout=0.3, norm=True)
    torch.manual_seed(5)
    out = torch.cat([model(x[s:s + 48]) for s in range(0, 200, 48)])
    loss_fn(out, labels).backward()
    want, want_stats = _param_grads(model), model[1].running_mean.clone()
    assert all(w.abs().max() > 0 for w in want)
    model = _mlp(dropout=0.3, norm=True)
    torch.manual_seed(5)
    large_batch_backward(model, x, labels, loss_fn, chunk_size=48)
    for g, w in zip(_param_grads(model), want):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(model[1].running_mean, want_stats)
    assert model[1].num_batches_tracked.item() == 5  # once per chunk


def test_bad_input_is_reported():
    loss = RecallSurrogateLoss()
    emb, labels = torch.randn(6, 3), torch.tensor([0, 0, 1, 1, 2, 2])
    bad = emb.clone()
    bad[1, 0] = float('nan')
    with pytest.raises(ValueError, match='NaN'):
        loss(bad, labels)
    with pytest.raises(ValueError, match='6 embeddings but labels'):
        loss(emb, labels[:5])
    with pytest.raises(ValueError, match='N > 0'):
        loss(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match='at least 2 items'):
        loss(emb, torch.arange(6))
    with pytest.raises(ValueError, match='tau1'):
        RecallSurrogateLoss(ks=(1, 2), tau1=[1.0])
