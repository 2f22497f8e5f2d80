"""SoDeep: synthetic score vectors, learned sorters, the rank losses on them
and the sorter tools (run in-process through ``runpy``)."""
import json
import runpy
import sys

import numpy as np
import pytest
import torch
from conftest import REPO
from mmocr.registry import MODELS
from scipy.stats import rankdata, spearmanr

import lsmmocr  # noqa: F401  (registration)
from lsmmocr.losses import average_precision, soft_recall_at_k, spearman_loss
from lsmmocr.ranking import (DISTRIBUTIONS, SoDeepSorter, fidelity_by_distribution,
                             held_out_scores, load_sorter, sample_scores, train_sorter)
from lsmmocr.ranking.sorter_data import exact_ranks

N = 16
ARCHS = ('bilstm', 'conv')


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    """Tiny tensors: a second thread only adds synchronisation (and stalls
    when the other core is busy)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope='module')
def sorter_paths(tmp_path_factory):
    """A sorter of each architecture for n = 16, 300 steps each."""
    root = tmp_path_factory.mktemp('sorters')
    paths = {}
    for arch in ARCHS:
        paths[arch] = str(root / f'{arch}_n{N}.pth')
        train_sorter(dict(seq_len=N, arch=arch), iters=300, batch_size=128,
                     lr=3e-3, seed=0, out=paths[arch], save_every=300,
                     progress=False, log=lambda s: None)
    return paths


@pytest.fixture(scope='module')
def conv_sorter(sorter_paths):
    return load_sorter(sorter_paths['conv'])


def run_script(path: str, args, capsys) -> str:
    """Run ``python <path> <args>`` in this process; return its stdout."""
    argv = sys.argv
    sys.argv = [path, *args]
    try:
        runpy.run_path(str(REPO / path), run_name='__main__')
    except SystemExit as e:  # --help
        assert e.code in (0, None)
    finally:
        sys.argv = argv
    return capsys.readouterr().out


# --- synthetic data and exact ranks -----------------------------------------

def test_families_are_reproducible_and_shaped():
    for d in DISTRIBUTIONS:
        a = sample_scores(64, N, [d], torch.Generator().manual_seed(3))
        b = sample_scores(64, N, [d], torch.Generator().manual_seed(3))
        assert a.shape == (64, N) and torch.isfinite(a).all()
        assert torch.equal(a, b), d
    spaced = sample_scores(32, N, ['spaced'], torch.Generator().manual_seed(0))
    gaps = spaced.sort(1).values.diff(dim=1)
    assert torch.allclose(gaps, gaps[:, :1].expand_as(gaps), atol=1e-5)
    assert not (spaced.diff(dim=1) > 0).all(1).all()  # shuffled, not sorted
    with pytest.raises(ValueError, match='unknown distributions'):
        sample_scores(2, N, ['cauchy'])


def test_exact_ranks_average_ties_like_scipy():
    x = torch.tensor([[3., 1., 2., 2., 5.], [0., 0., 0., 1., -1.]])
    want = np.stack([(rankdata(r) - 1) / 4 for r in x.numpy()])
    np.testing.assert_allclose(exact_ranks(x).numpy(), want)
    np.testing.assert_allclose(exact_ranks(x, descending=True).numpy(),
                               1 - want)


# --- the sorter ---------------------------------------------------------------

@pytest.mark.parametrize('arch', ARCHS)
def test_sorter_output_shape_and_range(arch):
    sorter = SoDeepSorter(N, arch=arch)
    x = sample_scores(5, N) * 100  # far outside the training range
    r = sorter(x)
    assert r.shape == (5, N)
    assert ((r >= 0) & (r <= 1)).all()
    assert sorter(x[0]).shape == (N, )
    # Standardised input: a positive affine map leaves the output unchanged.
    torch.testing.assert_close(sorter(3 * x + 7), r, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('arch', ARCHS)
def test_trained_sorter_beats_random_on_every_distribution(arch, sorter_paths):
    torch.manual_seed(1)
    scores = held_out_scores(N, num=300)
    trained = fidelity_by_distribution(load_sorter(sorter_paths[arch]), scores)
    random = fidelity_by_distribution(SoDeepSorter(N, arch=arch), scores)
    for d in DISTRIBUTIONS:
        assert trained[d]['rank_error'] < 0.5 * random[d]['rank_error'], d
        assert trained[d]['spearman'] > max(0.9, random[d]['spearman']), d


def test_bad_input_raises_clear_errors(conv_sorter):
    with pytest.raises(ValueError, match='vectors of length 16.*got \\(4, 10\\)'):
        conv_sorter(torch.randn(4, 10))
    with pytest.raises(ValueError, match='length 16'):
        conv_sorter(torch.randn(2, 3, N))
    x = torch.randn(4, N)
    x[1, 3] = float('nan')
    with pytest.raises(ValueError, match='1 NaN or infinite'):
        conv_sorter(x)
    loss = MODELS.build(dict(type='SoDeepSpearmanLoss', sorter=conv_sorter))
    with pytest.raises(ValueError, match='NaN'):
        loss(torch.randn(N), torch.full((N, ), float('nan')))
    with pytest.raises(ValueError, match='differ in shape'):
        loss(torch.randn(N), torch.randn(2, N))
    with pytest.raises(ValueError, match='length 16'):
        loss(torch.randn(N + 1), torch.randn(N + 1))


def test_checkpoint_roundtrip_and_length_check(sorter_paths, tmp_path):
    sorter = load_sorter(sorter_paths['bilstm'])
    assert sorter.arch == 'bilstm' and sorter.seq_len == N
    assert not any(p.requires_grad for p in sorter.parameters())
    with pytest.raises(ValueError, match='length 16, but 32 is needed'):
        load_sorter(sorter_paths['bilstm'], seq_len=32)
    with pytest.raises(FileNotFoundError, match='train_sorter.py'):
        load_sorter(str(tmp_path / 'missing.pth'))


def test_resume_continues_an_interrupted_run(tmp_path):
    cfg = dict(seq_len=8, arch='conv', hidden=16)
    kw = dict(batch_size=16, seed=5, progress=False)
    whole = train_sorter(cfg, iters=20, log=lambda s: None, **kw)
    path = str(tmp_path / 'run.pth')
    _train_until(cfg, 20, 10, path, kw)
    assert torch.load(path, weights_only=False)['iter'] == 10
    resumed = train_sorter(cfg, iters=20, out=path, save_every=10,
                           resume=True, log=lambda s: None, **kw)
    for k, v in whole.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[k], v)
    assert torch.load(path, weights_only=False)['iter'] == 20


def _train_until(cfg, iters, stop, out, kw):
    """Run a ``iters``-step schedule, killed right after step ``stop``."""
    class Stop(Exception):
        pass

    def log(line):
        if f'iter {stop}:' in line:
            raise Stop
    with pytest.raises(Stop):
        train_sorter(cfg, iters=iters, out=out, save_every=stop,
                     **dict(kw, log=log))


# --- losses -------------------------------------------------------------------

def test_spearman_formula_is_one_minus_rho():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(6, 50, generator=g), torch.randn(6, 50, generator=g)
    got = spearman_loss(exact_ranks(a), exact_ranks(b))
    want = [1 - spearmanr(x, y).statistic for x, y in zip(a, b)]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-5)
    r = exact_ranks(a)
    np.testing.assert_allclose(spearman_loss(1 - r, r).numpy(), 2.0, rtol=1e-5)


def test_spearman_loss_decreases_as_predictions_reorder(conv_sorter):
    loss = MODELS.build(dict(type='SoDeepSpearmanLoss', sorter=conv_sorter))
    g = torch.Generator().manual_seed(0)
    target = torch.randn(32, N, generator=g)
    noise = torch.randn(32, N, generator=g)
    values = []
    for w in (0.0, 0.3, 0.6, 1.0):  # from unrelated to the target itself
        values.append(float(loss(w * target + (1 - w) * noise, target)))
    assert values == sorted(values, reverse=True) and values[-1] < 0.1
    assert values[0] > 0.6  # ~1 − ρ for unrelated scores


def test_gradients_are_finite_and_reach_only_the_input(conv_sorter):
    g = torch.Generator().manual_seed(0)
    emb = torch.randn(N, 8, generator=g, requires_grad=True)
    labels = torch.arange(N) % 4
    pred = torch.randn(3, N, generator=g, requires_grad=True)
    for cfg in (dict(type='SoDeepRecallLoss', ks=(1, 2, 4)),
                dict(type='SoDeepAPLoss')):
        loss = MODELS.build(dict(cfg, sorter=conv_sorter))
        value = loss(emb, labels)
        value.backward()
        assert 0 < value.item() < 1
    spearman = MODELS.build(dict(type='SoDeepSpearmanLoss', sorter=conv_sorter))
    spearman(pred, torch.randn(3, N, generator=g)).backward()
    for t in (emb, pred):
        assert torch.isfinite(t.grad).all() and t.grad.abs().sum() > 0
    assert all(p.grad is None for p in conv_sorter.parameters())
    assert list(spearman.parameters()) == []  # frozen, and not a submodule


def test_ap_and_recall_formulas_with_exact_ranks():
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(5, 12, generator=g)
    pos = torch.rand(5, 12, generator=g) < 0.4
    pos[:, 0] = True
    rank = 1 + 11 * exact_ranks(scores, descending=True)  # 1 = best
    pushed = torch.where(pos, scores, scores.min() - 1)
    rank_pos = 1 + 11 * exact_ranks(pushed, descending=True)
    ap = average_precision(rank, rank_pos, pos)
    recall = soft_recall_at_k(rank, pos, ks=(1, 3), tau=1e-3)
    for q in range(5):
        order = scores[q].argsort(descending=True)
        hits = pos[q][order].float()
        prec = hits.cumsum(0) / torch.arange(1, 13)
        assert float(ap[q]) == pytest.approx(float((prec * hits).sum()
                                                    / hits.sum()), abs=1e-5)
        for j, k in enumerate((1, 3)):
            want = hits[:k].sum() / min(k, int(hits.sum()))
            assert float(recall[q, j]) == pytest.approx(float(want), abs=1e-4)


@pytest.mark.parametrize('loss_type', ['SoDeepRecallLoss', 'SoDeepAPLoss'])
def test_retrieval_losses_prefer_separated_classes(loss_type, conv_sorter):
    loss = MODELS.build(dict(type=loss_type, sorter=conv_sorter))
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(N) % 4
    centres = torch.randn(4, 8, generator=g) * 3
    good = centres[labels] + 0.5 * torch.randn(N, 8, generator=g)
    bad = torch.randn(N, 8, generator=g)
    # Soft thresholds (recall) and a 300-step sorter (AP) leave a floor
    # above 0 for perfect retrieval; the order must still be clear.
    assert float(loss(good, labels)) < 0.5 * float(loss(bad, labels))
    with pytest.raises(ValueError, match='length 16'):
        loss(torch.randn(N + 2, 8), torch.arange(N + 2) % 4)


def test_loss_builds_from_config_with_a_checkpoint_path(sorter_paths):
    loss = MODELS.build(dict(type='SoDeepSpearmanLoss',
                             sorter=sorter_paths['conv'], loss_weight=2.0))
    assert loss.seq_len == N and loss.state_dict() == {}
    x = torch.randn(N)
    assert float(loss(x, x)) < 0.1
    assert float(loss(-x, x)) > 2 * 1.5  # reversed: 2 × (1 − ρ) ≈ 4


# --- tools --------------------------------------------------------------------

def test_sorter_tools_run(sorter_paths, tmp_path, capsys):
    for tool in ('tools/train_sorter.py', 'tools/eval_sorter.py',
                 'tools/confidence_ranking.py',
                 'benchmarks/sorter_vs_torchsort.py'):
        assert 'usage:' in run_script(tool, ['--help'], capsys)
    ckpt = str(tmp_path / 'conv.pth')
    out = run_script('tools/train_sorter.py',
                     ['--seq-len', '8', '--arch', 'conv', '--iters', '30',
                      '--out', ckpt, '--eval-num', '50'], capsys)
    assert 'mixture' in out and load_sorter(ckpt).seq_len == 8
    real = tmp_path / 'real.npz'
    np.savez(real, word_conf=np.random.default_rng(0).beta(8, 1, 40))
    out = run_script('tools/eval_sorter.py',
                     [sorter_paths['conv'], '--num', '40', '--random',
                      '--reg', '0.1', '--real', str(real), '--out-dir',
                      str(tmp_path / 'eval')], capsys)
    report = json.loads((tmp_path / 'eval' / 'fidelity.json').read_text())
    res = report[sorter_paths['conv']]['results']
    assert set(res['sorter']) == set(DISTRIBUTIONS) | {'real:word_conf'}
    for fam, fid in res['sorter'].items():
        assert fid['spearman'] > res['untrained sorter'][fam]['spearman'], fam
    assert (tmp_path / 'eval' / f'conv_n{N}_ranks.png').stat().st_size > 10_000
