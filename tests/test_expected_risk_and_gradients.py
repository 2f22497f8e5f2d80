"""Expected edit distance: sampled decodings, the expected-risk loss, smooth
surrogate labels, and the mirror gradient of LS-ED."""
import pytest
import torch
from mmengine.structures import LabelData
from mmocr.structures import TextRecogDataSample
from test_lsed_components import attn_dict, ctc_dict, lsed_loss

from lsmmocr.losses import ExpectedRiskModuleLoss
from lsmmocr.metrics import edit_distances
from lsmmocr.surrogates import PairSampler, SequenceLayout
from lsmmocr.surrogates.sampled_decoding import (expected_edit_distances,
                                                 sampled_edit_distances)


def samples(texts):
    return [TextRecogDataSample(gt_text=LabelData(item=t)) for t in texts]


def risk_loss(kind: str, **kw) -> ExpectedRiskModuleLoss:
    if kind == 'ctc':
        return ExpectedRiskModuleLoss(
            dictionary=ctc_dict(), max_seq_len=40, ctc_seq_len=26,
            proxy=dict(type='CTCModuleLoss', letter_case='lower'), **kw)
    return ExpectedRiskModuleLoss(
        dictionary=attn_dict(), max_seq_len=26,
        proxy=dict(type='CEModuleLoss', ignore_first_char=True), **kw)


def test_sampled_decodings_of_a_one_hot_prediction_are_its_decoding():
    lay = SequenceLayout(ctc_dict(), 'ctc', 26)
    probs = lay.one_hot(lay.target_indexes(lay.indexes(['hello', 'aab'])))
    rows, e = sampled_edit_distances(lay, probs, ['hello', 'abb'], 5)
    assert rows.shape == (5, 2, 26)
    assert (e[:, 0] == 0).all() and (e[:, 1] == 1).all()


def test_expected_edit_distance_matches_exact_enumeration():
    # Two frames, classes {blank, a, b}: enumerate the 9 alignments exactly.
    lay = SequenceLayout(ctc_dict(), 'ctc', 2)
    blank, a, b = lay.fill_idx, *lay.indexes(['ab'])[0]
    probs = torch.zeros(1, 2, lay.num_classes)
    probs[0, 0, [blank, a, b]] = torch.tensor([0.2, 0.5, 0.3])
    probs[0, 1, [blank, a, b]] = torch.tensor([0.6, 0.1, 0.3])
    exact = 0.0
    for i in (blank, a, b):
        for j in (blank, a, b):
            text = lay.decode_rows(torch.tensor([[i, j]]))[0]
            exact += float(probs[0, 0, i] * probs[0, 1, j]) * edit_distances(
                [text], ['ab'])[0]
    est = expected_edit_distances(lay, probs, ['ab'], 20000,
                                  torch.Generator().manual_seed(0))
    assert est[0] == pytest.approx(exact, abs=0.02)


@pytest.mark.parametrize('kind', ['ctc', 'attention'])
def test_expected_risk_loss_trains_toward_the_truth(kind):
    torch.manual_seed(0)
    loss = risk_loss(kind, num_samples=16)
    data = loss.get_targets(samples(['cat', 'dog', '', 'x' * 60]))
    logits = torch.randn(4, 26, loss.layout.num_classes, requires_grad=True)
    opt = torch.optim.Adam([logits], lr=0.3)
    first = None
    for _ in range(150):
        out = loss(logits, data)
        assert set(out) == {'loss_expected_risk', 'expected_ed'}
        first = first if first is not None else float(out['expected_ed'])
        opt.zero_grad()
        out['loss_expected_risk'].backward()
        opt.step()
    assert float(out['expected_ed']) < 0.5 * first


def test_expected_risk_checks_its_arguments():
    with pytest.raises(ValueError, match='baseline'):
        risk_loss('ctc', baseline='none')
    with pytest.raises(ValueError, match='num_samples >= 2'):
        risk_loss('ctc', num_samples=1)
    loss = risk_loss('ctc', baseline='greedy', num_samples=1)
    data = loss.get_targets(samples(['ab']))
    assert torch.isfinite(loss(torch.randn(1, 26, 37), data)['loss_expected_risk'])


def test_expected_labels_are_smooth_and_mix_with_greedy_labels():
    lay = SequenceLayout(ctc_dict(), 'ctc', 26)
    gt = lay.indexes(['hello', 'world', 'abc'] * 10)
    greedy = PairSampler(lay, seed=0).global_pairs(gt)
    mixed = PairSampler(lay, seed=0, expected_weight=0.5).global_pairs(gt)
    full = PairSampler(lay, seed=0, expected_weight=1.0).global_pairs(gt)
    assert torch.equal(greedy.z, mixed.z) and torch.equal(greedy.z, full.z)
    # Greedy labels are integers; expected ones are not, and mix linearly.
    assert torch.equal(greedy.e, greedy.e.round())
    assert not torch.equal(full.e, full.e.round())
    assert torch.allclose(mixed.e, 0.5 * greedy.e + 0.5 * full.e, atol=2.5)
    with pytest.raises(ValueError, match='expected_weight'):
        PairSampler(lay, expected_weight=2)


def test_mirror_gradient_is_a_descent_direction_that_does_not_vanish():
    torch.manual_seed(0)
    soft, mirror = lsed_loss('ctc'), lsed_loss('ctc')
    mirror.logit_grad = 'mirror'
    mirror.attach(soft.network)
    data = soft.get_targets(samples(['hello', 'world']))
    logits = 20 * torch.randn(2, 26, 37)  # saturated softmax

    def grad(loss):
        z = logits.clone().requires_grad_(True)
        loss(z, data)['loss_lsed'].backward()
        return z.grad

    g_soft, g_mirror = grad(soft), grad(mirror)
    assert g_mirror.norm() > 10 * g_soft.norm()
    assert torch.allclose(g_mirror.sum(-1), torch.zeros(2, 26), atol=1e-5)
    # Preconditioned by a PSD matrix: a descent direction for ê.
    assert float((g_mirror * g_soft).sum()) >= 0
    with pytest.raises(ValueError, match='logit_grad'):
        type(soft)(logit_grad='sign', dictionary=ctc_dict(), ctc_seq_len=26,
                   proxy=dict(type='CTCModuleLoss'))


def test_forced_alignment_is_the_most_likely_valid_row():
    import itertools
    lay = SequenceLayout(ctc_dict(), 'ctc', 5, align_targets=True)
    gen = torch.Generator().manual_seed(0)
    texts = ['ab', 'aa', 'a', '', 'abc', 'aaa']
    idx = lay.indexes(texts)
    probs = torch.rand(len(texts), 5, lay.num_classes, generator=gen).softmax(-1)
    rows = lay.forced_alignment(idx, probs)
    # Brute force over every row of the symbols involved (blank, a, b, c).
    symbols = [lay.fill_idx, *lay.indexes(['abc'])[0]]
    for k, text in enumerate(texts):
        assert lay.decode_rows(rows[k:k + 1]) == [text]
        best = max((r for r in itertools.product(symbols, repeat=5)
                    if lay.decode_rows(torch.tensor([r])) == [text]),
                   key=lambda r: float(probs[k, range(5), list(r)].log().sum()))
        assert rows[k].tolist() == list(best)
    # targets(): aligned one-hot rows; canonical rows without align_targets.
    assert torch.equal(lay.targets(idx, probs), lay.one_hot(rows))
    lay.align_targets = False
    assert torch.equal(lay.targets(idx, probs),
                       lay.one_hot(lay.target_indexes(idx)))


def test_correct_weight_zero_trains_on_the_wrong_samples_only():
    loss = lsed_loss('ctc')
    data = loss.get_targets(samples(['cat', 'dog']))
    lay = loss.layout
    right = 8 * lay.one_hot(lay.target_indexes(lay.indexes(['cat', 'dog'])))
    logits = right.clone()
    logits[1] = logits[1].roll(1, dims=-1)  # 'dog' decoded wrongly
    full = loss(logits, data)['loss_lsed']
    loss.correct_weight = 0.0
    z = logits.clone().requires_grad_(True)
    only_wrong = loss(z, data)['loss_lsed']
    only_wrong.backward()
    assert 0 < only_wrong < full
    assert z.grad[0].abs().max() == 0 and z.grad[1].abs().max() > 0
