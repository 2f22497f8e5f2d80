"""The gradient-quality instrument on a real MMOCR CRNN and checkpoints."""
import pytest
import torch
from conftest import CONFIGS
from mmengine.config import Config

from lsmmocr.diagnostics import (RecognizerOutputs, descent_direction, gradient_quality,
                                 load_instrument, markdown_rows)
from lsmmocr.surrogates import build_surrogate, surrogate_state

CRNN_LSED = str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_lsed_synth.py')


@pytest.fixture(scope='module')
def instrument(synth_root, tmp_path_factory):
    from mmengine.registry import init_default_scope
    from mmocr.registry import MODELS

    from lsmmocr.engine.post_tune_runner import apply_post_tune
    from lsmmocr.losses import LSEDModuleLoss
    from lsmmocr.utils import modules_of
    init_default_scope('mmocr')
    tmp = tmp_path_factory.mktemp('gq')
    cfg = Config.fromfile(CRNN_LSED)
    cfg.test_dataloader.dataset.datasets[0].data_root = str(synth_root)
    torch.manual_seed(0)
    model = MODELS.build(apply_post_tune(cfg.copy()).model)
    torch.save(dict(state_dict=model.state_dict()), tmp / 'crnn.pth')
    layout = modules_of(model, LSEDModuleLoss)[0].layout
    sur = build_surrogate(dict(type='EditDistanceEmbedding'), layout)
    torch.save(surrogate_state(sur, layout, dict(type='EditDistanceEmbedding')),
               tmp / 'sur.pth')
    inst = load_instrument(cfg, str(tmp / 'crnn.pth'), str(tmp / 'sur.pth'))
    return dict(inst, cfg=apply_post_tune(cfg.copy()))


def test_descent_directions_are_unit_and_lower_their_loss(instrument):
    out = instrument['outputs'][0]
    assert out.logits.shape[1:] == (26, 37) and len(out.data_samples) == 8
    for name, loss in instrument['losses'].items():
        if name == 'expected_risk':  # a noisy estimate, not a gradient
            continue
        d = descent_direction(loss, out.logits, out.data_samples)
        assert torch.allclose(d.flatten(1).norm(dim=1), torch.ones(len(d)))
        before = sum(v for k, v in loss(out.logits, out.data_samples).items()
                     if k.startswith('loss'))
        after = sum(v for k, v in loss(out.logits + 1e-4 * d,
                                       out.data_samples).items()
                    if k.startswith('loss'))
        assert after < before, name


def test_outputs_are_the_logits_the_loss_reads_not_probabilities(instrument):
    """In eval mode the decoder's forward returns forward_test's
    probabilities; the instrument keeps the raw logits its losses read."""
    from mmengine.runner import Runner

    from lsmmocr.diagnostics import collect_outputs
    from lsmmocr.diagnostics.gradient_quality import training_width_loader
    model, cfg = instrument['model'], instrument['cfg']
    batch = next(iter(Runner.build_dataloader(training_width_loader(cfg, 'test'))))
    out = collect_outputs(model, [batch])[0]
    assert not torch.allclose(out.logits.sum(-1), torch.ones(1))
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(batch, False)
        probs = model(data['inputs'], data['data_samples'], mode='tensor')
    assert torch.allclose(out.logits.softmax(-1), probs, atol=1e-6)


def test_table_counts_every_crop_and_zero_steps_change_nothing(instrument):
    res = gradient_quality(instrument['outputs'], instrument['losses'],
                           step_sizes=(0, 1))
    assert res['num'] == 8 and 0 <= res['num_wrong'] <= 8
    assert set(res['ted']) == {'lsed', 'proxy', 'expected_risk', 'random'}
    assert all(v[0] == res['ted0'] for v in res['ted'].values())
    assert set(res['cosine']) == {'lsed', 'expected_risk', 'random'}
    assert markdown_rows('x', res).count('\n') == 3


def test_proxy_steps_repair_a_wrong_prediction(instrument):
    loss = instrument['losses']['proxy']
    lsed = instrument['losses']['lsed']
    sample = instrument['outputs'][0].data_samples[:1]
    lay = lsed.layout
    truth = lay.one_hot(lay.target_indexes(lsed.gt_indexes(sample)))
    wrong = truth.roll(1, dims=-1)  # every frame wrong
    res = gradient_quality([RecognizerOutputs(10 * wrong, sample)],
                           dict(proxy=loss, lsed=lsed), step_sizes=(200,))
    assert res['ted0'] > 0 and res['ted']['proxy'][0] < res['ted0']
    with pytest.raises(KeyError, match='proxy'):
        gradient_quality([], dict(lsed=lsed))


def test_parameter_step_restores_the_model_and_zero_steps_change_nothing(
        instrument):
    from mmengine.runner import Runner

    from lsmmocr.diagnostics.gradient_quality import training_width_loader
    from lsmmocr.diagnostics.parameter_step import markdown, parameter_step_quality
    from lsmmocr.engine.post_tune_runner import apply_post_tune
    cfg = Config.fromfile(CRNN_LSED)
    cfg.test_dataloader.dataset.datasets[0].data_root = \
        instrument['outputs'][0].data_samples[0].img_path.rsplit('/imgs/', 1)[0]
    loader = Runner.build_dataloader(
        training_width_loader(apply_post_tune(cfg), 'test'))
    model, losses = instrument['model'], instrument['losses']
    before = {k: v.clone() for k, v in model.state_dict().items()}
    res = parameter_step_quality(
        model, dict(proxy=losses['proxy'], lsed=losses['lsed']),
        losses['lsed'], loader, loader, num_batches=1, lrs=(0.0, 0.5))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert set(res['ted']) == {'proxy', 'lsed', 'random'}
    assert all(t[0] == res['ted0'] for t in res['ted'].values())
    assert res['cosine']['proxy'] == pytest.approx(1.0)
    assert res['ted']['random'][1] != res['ted0']  # a large step is felt
    assert markdown(res).count('\n| ') == 4  # header + 3 directions


def test_training_trajectory_probes_each_step_and_restores_the_model(instrument):
    from mmengine.runner import Runner

    from lsmmocr.diagnostics.gradient_quality import training_width_loader
    from lsmmocr.diagnostics.parameter_step import (held_out_scores,
                                                    training_trajectory,
                                                    trajectory_markdown)
    from lsmmocr.energy import SequenceEnergy
    from lsmmocr.engine.post_tune_runner import apply_post_tune
    from lsmmocr.losses import DynamicEnergyModuleLoss
    cfg = Config.fromfile(CRNN_LSED)
    cfg.test_dataloader.dataset.datasets[0].data_root = \
        instrument['outputs'][0].data_samples[0].img_path.rsplit('/imgs/', 1)[0]
    loader = Runner.build_dataloader(
        training_width_loader(apply_post_tune(cfg), 'test'))
    model, lsed = instrument['model'], instrument['losses']['lsed']
    before = {k: v.clone() for k, v in model.state_dict().items()}
    start = held_out_scores(model, lsed, loader, lsed.network)
    assert start['e_hat_wrong'] > 0 and 0 <= start['wrong'] <= 8
    batches = list(loader) * 3
    # E_ψ is scored the same way (the decoder tapped for its image features).
    energy = DynamicEnergyModuleLoss.beside(lsed, model.decoder,
                                            SequenceEnergy(37, 26))
    losses = dict(instrument['losses'], energy=energy)
    runs = {name: training_trajectory(model, losses[name], lsed,
                                      batches, loader, lr=0.05, at=(0, 3),
                                      surrogate=lsed.network)
            for name in ('proxy', 'lsed', 'energy')}
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    for scores in runs.values():
        assert [s['step'] for s in scores] == [0, 3]
        assert scores[0] == dict(step=0, **start)
    assert any(s[1] != s[0] for s in runs.values())  # three steps are felt
    assert trajectory_markdown(runs).count('\n| ') == 6  # one row per probe


def test_instruments_read_a_stream_config_in_order_from_its_fresh_crops():
    """On a post-tuning config over the font stream the gradient batches
    keep the stream's sampler (fresh crops past the reader's), the test
    split reads in order, and only the batches asked for are loaded."""
    from mmengine.registry import init_default_scope

    from lsmmocr.diagnostics.gradient_quality import (first_batches,
                                                      training_width_loader)
    from lsmmocr.engine.post_tune_runner import apply_post_tune
    init_default_scope('mmocr')
    cfg = apply_post_tune(Config.fromfile(
        str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_lsed_fonts.py')))
    train = training_width_loader(cfg, 'train')
    assert (train.sampler.type, train.sampler.offset) == ('StreamSampler', 2 * 10**8)
    assert training_width_loader(cfg, 'test').sampler == dict(
        type='DefaultSampler', shuffle=False)
    cfg.test_dataloader.batch_size = 4
    batches = first_batches(cfg, 'test', 6)
    assert [len(b['inputs']) for b in batches] == [4, 4]
    assert batches[0]['inputs'][0].shape[-2:] == (32, 100)  # training resize
