"""LS-ED building blocks on MMOCR's real dictionaries and models."""
import numpy as np
import pytest
import torch
from mmengine.structures import LabelData
from mmocr.models.common.dictionary import Dictionary
from mmocr.registry import MODELS
from mmocr.structures import TextRecogDataSample

from lsmmocr.losses import LSEDModuleLoss, SurrogateFitLoss
from lsmmocr.metrics import edit_distances
from lsmmocr.surrogates import (EditDistanceEmbedding, PairSampler, SequenceLayout,
                                build_surrogate, load_surrogate_file, surrogate_state)
from lsmmocr.utils import mmocr_dict_file

TEXTS = ['hello', 'a', '', 'aab', 'mississippi', '0123456789']


def ctc_dict() -> Dictionary:
    return Dictionary(mmocr_dict_file('lower_english_digits.txt'),
                      with_padding=True)


def attn_dict() -> Dictionary:
    return Dictionary(mmocr_dict_file('english_digits_symbols.txt'),
                      with_start=True, with_end=True, same_start_end=True,
                      with_padding=True, with_unknown=True)


@pytest.fixture(params=['ctc', 'attention'])
def layout(request) -> SequenceLayout:
    if request.param == 'ctc':
        return SequenceLayout(ctc_dict(), 'ctc', 26)
    return SequenceLayout(attn_dict(), 'attention', 25)


def samples(texts):
    return [TextRecogDataSample(gt_text=LabelData(item=t)) for t in texts]


def test_layout_ground_truth_decodes_to_its_text(layout):
    idx = layout.indexes(TEXTS)
    rows = layout.target_indexes(idx)
    assert rows.shape == (len(TEXTS), layout.seq_len)
    assert layout.decode(layout.one_hot(rows)) == TEXTS


def test_layout_truncates_long_text(layout):
    long = 'ab' * 40
    decoded = layout.decode(layout.one_hot(
        layout.target_indexes(layout.indexes([long]))))[0]
    assert decoded == long[:layout.capacity]


def test_random_alignments_decode_to_their_text(layout):
    rng = np.random.default_rng(0)
    idx = layout.indexes(TEXTS * 20)
    z = layout.render(idx, rng, sharpness=(20, 20), noise=(0, 0))
    assert layout.decode(z) == TEXTS * 20
    assert torch.allclose(z.sum(-1), torch.ones(z.shape[:2]))


def test_ctc_layout_matches_mmocr_ctc_postprocessor():
    lay = SequenceLayout(ctc_dict(), 'ctc', 26)
    post = MODELS.build(dict(type='CTCPostProcessor', dictionary=lay.dictionary))
    z = lay.render(lay.indexes(TEXTS * 5), np.random.default_rng(1),
                   noise=(0, 4))
    ours = lay.decode(z)
    theirs = [s.pred_text.item for s in post(z, samples(TEXTS * 5))]
    assert ours == theirs


def test_attention_layout_matches_mmocr_attention_postprocessor():
    lay = SequenceLayout(attn_dict(), 'attention', 25)
    post = MODELS.build(dict(type='AttentionPostprocessor',
                             dictionary=lay.dictionary))
    z = lay.render(lay.indexes(TEXTS * 5), np.random.default_rng(1),
                   noise=(0, 4))
    theirs = [s.pred_text.item for s in post(z, samples(TEXTS * 5))]
    assert lay.decode(z) == theirs


def test_pair_labels_are_true_edit_distances(layout):
    sampler = PairSampler(layout, seed=0)
    gt = layout.indexes(TEXTS * 10)
    probs = layout.render(gt, np.random.default_rng(2))
    pairs = sampler.sample('local-global', gt, probs)
    assert len(pairs) == len(gt) * (2 + sampler.num_perturb)
    truth = layout.decode(pairs.y)
    expected = edit_distances(layout.decode(pairs.z), truth)
    assert np.array_equal(pairs.e.numpy(), expected)
    assert pairs.e.max() > 3  # random strings reach large distances


def test_pair_sampler_state_restores_the_stream(layout):
    a, b = PairSampler(layout, seed=3), PairSampler(layout, seed=4)
    gt = layout.indexes(TEXTS)
    a.global_pairs(gt)
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.global_pairs(gt).z, b.global_pairs(gt).z)


def lsed_loss(layout_kind: str) -> LSEDModuleLoss:
    if layout_kind == 'ctc':
        loss = LSEDModuleLoss(
            dict(type='Dictionary',
                 dict_file=mmocr_dict_file('lower_english_digits.txt'),
                 with_padding=True),
            max_seq_len=40, ctc_seq_len=26,
            proxy=dict(type='CTCModuleLoss', letter_case='lower'))
    else:
        loss = LSEDModuleLoss(attn_dict(), max_seq_len=26,
                              proxy=dict(type='CEModuleLoss',
                                         ignore_first_char=True))
    loss.attach(build_surrogate(dict(type='EditDistanceEmbedding'),
                                loss.layout))
    return loss


@pytest.mark.parametrize('kind', ['ctc', 'attention'])
def test_lsed_gradient_reaches_logits_not_phi(kind):
    loss = lsed_loss(kind)
    data = loss.get_targets(samples(['Hello', 'world', '', 'x' * 60]))
    t = 26  # CTC: 26 frames; CE: max_seq_len 26, the first is dropped
    logits = torch.randn(4, t, loss.layout.num_classes, requires_grad=True)
    out = loss(logits, data)
    assert set(out) == {'loss_lsed'} and torch.isfinite(out['loss_lsed'])
    out['loss_lsed'].backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss.network.parameters())
    assert all(p.requires_grad for p in loss.network.parameters())
    assert not any('surrogate' in n for n, _ in loss.named_parameters())
    assert not any(loss.network is m for m in loss.modules())
    # The forward's predictions go to the hook, detached, once.
    batch = loss.pop_batch()
    assert torch.equal(batch.probs, loss.logits(logits.detach()).softmax(-1))
    assert not batch.probs.requires_grad and len(batch.gt_indexes) == 4
    assert loss.pop_batch() is None


def test_proxy_weight_adds_the_proxy_terms():
    loss = lsed_loss('ctc')
    loss.proxy_weight = 0.5
    data = loss.get_targets(samples(['abc', 'de']))
    out = loss(torch.randn(2, 26, 37), data)
    assert set(out) == {'loss_lsed', 'loss_ctc'}


def test_feds_weights_ramp_on_surrogate_error():
    loss = lsed_loss('ctc')
    loss.feds = dict(lower=0.0, upper=1e-6)  # every sample is filtered out
    data = loss.get_targets(samples(['abc', 'de']))
    assert loss(torch.randn(2, 26, 37), data)['loss_lsed'] == 0


def test_nan_logits_raise_a_clear_error():
    loss = lsed_loss('ctc')
    logits = torch.randn(2, 26, 37)
    logits[1, 3, 4] = float('nan')
    with pytest.raises(FloatingPointError, match='non-finite logits for 1 of 2'):
        loss(logits, loss.get_targets(samples(['abc', 'de'])))


def test_character_outside_dictionary_is_named():
    loss = lsed_loss('ctc')
    with pytest.raises(Exception, match='€'):
        loss.get_targets(samples(['a€b']))


def test_wrong_sequence_length_is_explained():
    loss = lsed_loss('ctc')
    with pytest.raises(ValueError, match='produced 30 positions.*26'):
        loss(torch.randn(1, 30, 37), loss.get_targets(samples(['a'])))


def test_missing_surrogate_is_explained():
    loss = LSEDModuleLoss(attn_dict(), max_seq_len=26,
                          proxy=dict(type='CEModuleLoss', ignore_first_char=True))
    with pytest.raises(RuntimeError, match='LearnedSurrogateHook'):
        loss(torch.randn(1, 26, 93), loss.get_targets(samples(['a'])))


def test_ctc_needs_frame_count():
    with pytest.raises(ValueError, match='ctc_seq_len'):
        LSEDModuleLoss(ctc_dict(), proxy=dict(type='CTCModuleLoss'))


def test_surrogate_checkpoint_for_another_layout_is_rejected(tmp_path):
    ctc = SequenceLayout(ctc_dict(), 'ctc', 26)
    sur = build_surrogate(dict(type='EditDistanceEmbedding'), ctc)
    path = tmp_path / 'sur.pth'
    torch.save(surrogate_state(sur, ctc, dict(type='EditDistanceEmbedding')), path)
    assert load_surrogate_file(str(path), ctc)['meta']['seq_len'] == 26
    with pytest.raises(ValueError, match='seq_len: checkpoint has 26, model needs 30'):
        load_surrogate_file(str(path), SequenceLayout(ctc_dict(), 'ctc', 30))
    with pytest.raises(ValueError, match='another metric space'):
        load_surrogate_file(str(path), SequenceLayout(attn_dict(), 'ctc', 26))


def test_fit_loss_penalises_gradient_norm():
    lay = SequenceLayout(ctc_dict(), 'ctc', 26)
    sur = EditDistanceEmbedding(lay.num_classes, lay.seq_len)
    pairs = PairSampler(lay, seed=0).global_pairs(lay.indexes(TEXTS))
    plain = SurrogateFitLoss(0.0)(sur, pairs.z, pairs.y, pairs.e)
    pen = SurrogateFitLoss(10.0)(sur, pairs.z, pairs.y, pairs.e)
    assert torch.isclose(plain['loss'], plain['approx_error'])
    # Without the diagnostic (λ = 0) the loss is the same, no extra backward.
    light = SurrogateFitLoss(0.0)(sur, pairs.z, pairs.y, pairs.e,
                                  with_grad_norm=False)
    assert 'grad_norm' not in light and torch.equal(light['loss'], plain['loss'])
    expected = plain['approx_error'] + 10 * (
        torch.autograd.grad(sur.distance(pairs.z.requires_grad_(), pairs.y).sum(),
                            pairs.z)[0].flatten(1).norm(dim=1) - 1).pow(2).mean()
    assert torch.isclose(pen['loss'], expected, rtol=1e-4)
    pen['loss'].backward()
    assert all(torch.isfinite(p.grad).all() for p in sur.parameters())


def test_soft_spearman_is_spearman_as_tau_vanishes_and_smooth_otherwise():
    from scipy.stats import spearmanr

    from lsmmocr.ranking import soft_spearman
    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, generator=g)
    e = (2 * x + torch.randn(300, generator=g)).round().clamp(0, 6)  # ties
    exact = spearmanr(x.numpy(), e.numpy()).statistic
    assert soft_spearman(x, e, 1e-3).item() == pytest.approx(exact, abs=1e-4)
    assert soft_spearman(x, -e, 1e-3).item() == pytest.approx(-exact, abs=1e-4)
    assert soft_spearman(torch.zeros(5), e[:5], 0.1).item() == 0
    x.requires_grad_()
    soft_spearman(x, e, 0.5).backward()  # a direction that raises ρ
    with torch.no_grad():
        assert soft_spearman(x + 0.1 * x.grad, e, 1e-3) > exact


def test_relational_fit_orders_pairs_without_fitting_their_values():
    """Order only (value weight 0): Spearman on held-out pairs rises from the
    untrained h_Φ's; the values are free (|ê − e| is not what it fits)."""
    lay = SequenceLayout(ctc_dict(), 'ctc', 26)
    torch.manual_seed(0)
    sur = EditDistanceEmbedding(lay.num_classes, lay.seq_len)
    sampler = PairSampler(lay, seed=0)
    words = ['word', 'text', 'hello', 'reader', 'mmocr', 'a1b2', 'zebra',
             'quick', 'brown', 'jumps', 'lazy', 'dogs'] * 4
    held = PairSampler(lay, seed=1).global_pairs(lay.indexes(words * 4))
    fit = SurrogateFitLoss(value_weight=0.0, rank_weight=1.0, rank_tau=0.1)
    before = fit(sur, held.z, held.y, held.e)['rank_corr']
    optim = torch.optim.Adam(sur.parameters(), lr=1e-3)
    for _ in range(30):  # 0.12-0.42 -> 0.76-0.79 over three initial seeds
        pairs = sampler.global_pairs(lay.indexes(words))
        out = fit(sur, pairs.z, pairs.y, pairs.e, with_grad_norm=False)
        optim.zero_grad()
        out['loss'].backward()
        optim.step()
    after = fit(sur, held.z, held.y, held.e)['rank_corr']
    assert after > max(before + 0.2, 0.6), (before, after)
    with pytest.raises(ValueError, match='both 0'):
        SurrogateFitLoss(value_weight=0.0)
    with pytest.raises(ValueError, match='rank_weight must be >= 0'):
        SurrogateFitLoss(rank_weight=-1.0)


def interrupt_after_first_save(msg: str) -> None:
    """A pre-training log callback that stops the run after its first save."""
    if msg.strip().startswith('iter 2:'):
        raise KeyboardInterrupt


@pytest.mark.parametrize('metric', ['edit_distance', 'rotated_iou'])
def test_pretraining_is_seeded_and_resumes_exactly(tmp_path, metric):
    # One pre-training loop serves every learned metric.
    from lsmmocr.surrogates import EditDistanceTask, RotatedIoUTask
    from lsmmocr.surrogates.pretrain import pretrain_surrogate
    spec = (EditDistanceTask(SequenceLayout(ctc_dict(), 'ctc', 26))
            if metric == 'edit_distance' else RotatedIoUTask())
    kw = dict(iters=4, batch_size=8, save_every=2)
    quiet = dict(kw, log=lambda *a: None)
    straight = pretrain_surrogate(spec, str(tmp_path / 'a.pth'), **quiet)

    torch.manual_seed(123)  # the global generator must not matter
    with pytest.raises(KeyboardInterrupt):
        pretrain_surrogate(spec, str(tmp_path / 'b.pth'), **kw,
                           log=interrupt_after_first_save)
    resumed = pretrain_surrogate(spec, str(tmp_path / 'b.pth'), resume=True,
                                 **quiet)
    a, b = straight.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    other = pretrain_surrogate(spec, str(tmp_path / 'c.pth'), seed=1,
                               **quiet).state_dict()
    assert not all(torch.equal(a[k], other[k]) for k in a)


def test_pretraining_resumes_a_checkpoint_of_the_old_format(tmp_path):
    # Before the task protocol, LS-ED's pair-source state sat at the top level.
    from lsmmocr.surrogates import EditDistanceTask
    from lsmmocr.surrogates.pretrain import pretrain_surrogate
    spec = EditDistanceTask(SequenceLayout(ctc_dict(), 'ctc', 26))
    kw = dict(iters=4, batch_size=8, save_every=2)
    straight = pretrain_surrogate(spec, str(tmp_path / 'a.pth'), **kw,
                                  log=lambda *a: None)

    with pytest.raises(KeyboardInterrupt):
        pretrain_surrogate(spec, str(tmp_path / 'b.pth'), **kw,
                           log=interrupt_after_first_save)
    state = torch.load(tmp_path / 'b.pth', weights_only=False)
    state.update(state.pop('pairs'))  # the old layout
    torch.save(state, tmp_path / 'b.pth')
    resumed = pretrain_surrogate(spec, str(tmp_path / 'b.pth'), **kw,
                                 resume=True, log=lambda *a: None)
    a, b = straight.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
