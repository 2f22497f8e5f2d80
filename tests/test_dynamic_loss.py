"""The dynamic loss: the implicit-differentiation primitives against closed
forms, and post-tuning with an energy model as a user runs it."""
import pytest
import torch
from conftest import (CONFIGS, assert_same_state, killed_config, post_tune_final,
                      posttune_tool, tiny_cfg)
from test_lsed_training import Recorder

from lsmmocr.energy import (SequenceEnergy, central_difference, conjugate_gradient,
                            mixed_product, neumann_inverse)

CRNN_DYNAMIC = str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_dynamic_synth.py')
ST, ML = 'post_tune.trainer.', 'post_tune.module_loss.'


def quadratic(n: int = 6, seed: int = 0):
    """A positive-definite ``A``, ``b`` and θ split in two tensors."""
    gen = torch.Generator().manual_seed(seed)
    m = torch.randn(n, n, generator=gen, dtype=torch.float64)
    a = m @ m.T + torch.eye(n, dtype=torch.float64)
    b = torch.randn(n, generator=gen, dtype=torch.float64)
    params = [torch.randn(n // 2, generator=gen, dtype=torch.float64,
                          requires_grad=True) for _ in range(2)]
    return a, b, params


def gradient(a, b, params):
    """``∇(½ θᵀAθ − bᵀθ) = Aθ − b``, split like θ."""
    theta = torch.cat(params)
    g = torch.autograd.grad(0.5 * theta @ a @ theta - b @ theta, params)
    return list(g)


def as_parts(x, params):
    return list(x.split([len(p) for p in params]))


def test_central_difference_of_the_gradient_is_the_hessian_product():
    a, b, params = quadratic()
    before = [p.detach().clone() for p in params]
    v = as_parts(torch.arange(6, dtype=torch.float64) - 2.5, params)
    hv = central_difference(lambda: gradient(a, b, params), params, v)
    assert torch.allclose(torch.cat(hv), a @ torch.cat(v), rtol=1e-6)
    assert all(torch.equal(p, q) for p, q in zip(params, before))  # restored


def test_neumann_and_conjugate_gradient_apply_the_inverse_hessian():
    a, b, params = quadratic()
    g = as_parts(b, params)

    def hvp(p):
        return as_parts(a @ torch.cat(p), params)

    exact = torch.linalg.solve(a, b)
    cg = torch.cat(conjugate_gradient(hvp, g, iters=6))
    assert torch.allclose(cg, exact, rtol=1e-6, atol=1e-8)
    alpha = 1 / float(torch.linalg.eigvalsh(a).max())
    series = torch.cat(neumann_inverse(hvp, g, terms=3000, alpha=alpha))
    assert torch.allclose(series, exact, rtol=1e-4, atol=1e-6)
    # Fewer terms approximate less well; none is the unrolled step.
    few = torch.cat(neumann_inverse(hvp, g, terms=3, alpha=alpha))
    assert (few - exact).norm() > (series - exact).norm()
    assert torch.equal(torch.cat(neumann_inverse(hvp, g, terms=0)), b)
    # Not positive along the first direction: g itself.
    assert torch.equal(torch.cat(conjugate_gradient(
        lambda p: [-t for t in hvp(p)], g, iters=3)), b)


def test_mixed_product_is_the_weights_gradient_of_the_energy_along_v():
    """∂/∂ψ ⟨∇_W E_ψ(softmax(W x)), v⟩ by double backward through the
    model equals ∂/∂ψ of mixed_product with the model's output moved along v
    (what the hook computes without a double backward through the model)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 5, generator=gen, dtype=torch.float64)
    w = torch.randn(3, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    psi = torch.randn(3, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    v = torch.randn(3, 5, generator=gen, dtype=torch.float64)

    def energy(z):
        return ((z @ psi) ** 2).sum()

    grad_w = torch.autograd.grad(energy((x @ w.T).softmax(-1)), w,
                                 create_graph=True)[0]
    expected = torch.autograd.grad((grad_w * v).sum(), psi)[0]
    dz = central_difference(lambda: [(x @ w.T).softmax(-1)], [w], [v],
                            rel_eps=1e-5)[0]
    z = (x @ w.T).softmax(-1).detach()
    got = torch.autograd.grad(mixed_product(energy, z, dz), psi)[0]
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-9)


def test_energy_names_bad_inputs():
    energy = SequenceEnergy(num_classes=37, seq_len=26)
    assert energy(torch.randn(2, 512, 1, 26), torch.rand(2, 26, 37)).shape == (2,)
    with pytest.raises(ValueError, match='feat_channels'):
        energy(torch.randn(2, 256, 1, 26), torch.rand(2, 26, 37))
    with pytest.raises(ValueError, match='37 classes'):
        energy(torch.randn(2, 512, 1, 26), torch.rand(2, 26, 40))


@pytest.mark.parametrize('option, value, match', [
    ('psi_update', 'meta', 'psi_update'),
    ('inverse', 'lu', 'inverse'),
    ('inverse_terms', -1, 'inverse_terms'),
    ('fd_eps', 0.0, 'fd_eps'),
    ('interval', 0, 'interval')])
def test_hook_names_a_bad_setting(option, value, match):
    from lsmmocr.hooks import DynamicLossHook
    with pytest.raises(ValueError, match=match):
        DynamicLossHook(**{option: value})
    with pytest.raises(ValueError, match='margin_weight'):
        DynamicLossHook(psi_update='margin', margin_weight=0.0)


@pytest.mark.slow
def test_post_tuning_moves_both_networks_psi_outside_the_recognizer(
        synth_root, tmp_path):
    from lsmmocr.engine import PostTuneRunner
    from lsmmocr.hooks import DynamicLossHook
    cfg = tiny_cfg(CRNN_DYNAMIC, synth_root, tmp_path, iters=3, **{
        ST + 'warmup_iters': 2, ST + 'inverse_terms': 2})
    runner = PostTuneRunner.from_cfg(cfg)
    hook = next(h for h in runner.hooks if isinstance(h, DynamicLossHook))
    recorder = Recorder(hook)
    runner.register_hook(recorder, priority='HIGHEST')
    runner.train()
    psi = hook.network.state_dict()
    # The margin warm-up moved ψ before the first step, the implicit updates
    # after it; the recognizer moved.
    for a, b in ((recorder.at_start['phi'], recorder.at_first_step['phi']),
                 (recorder.at_first_step['phi'], psi),
                 (recorder.at_first_step['model'], runner.model.state_dict())):
        assert any(not torch.equal(v, b[k]) for k, v in a.items()
                   if v.is_floating_point())
    # ψ is neither the recognizer's parameter nor in its optimizer.
    ids = {id(p) for g in runner.optim_wrapper.optimizer.param_groups
           for p in g['params']}
    assert not ids & {id(p) for p in hook.network.parameters()}
    assert not any(w in k for k in runner.model.state_dict()
                   for w in ('surrogate', 'network', 'slot'))
    hub = runner.message_hub
    for key in ('train/loss_energy', 'train/energy_hyper',
                'train/energy_inverse_gain'):
        assert torch.isfinite(torch.tensor(hub.get_scalar(key).current())), key


@pytest.mark.slow
def test_each_psi_update_learns_a_different_energy(synth_root, tmp_path):
    """Unrolled, conjugate-gradient, margin and an expected-risk task each
    change ψ differently from the default (implicit, Neumann, proxy task);
    the recognizer stays finite."""
    runs = {name: post_tune_final(CRNN_DYNAMIC, synth_root, tmp_path / name,
                                  **{ST + 'inverse_terms': 1, **opts})
            for name, opts in {
                'implicit': {}, 'unrolled': {ST + 'psi_update': 'unrolled'},
                'cg': {ST + 'inverse': 'cg'},
                'margin': {ST + 'psi_update': 'margin', ST + 'margin_weight': 1.0},
                'risk': {ML + 'task': dict(type='ExpectedRiskModuleLoss')}}.items()}
    implicit = runs.pop('implicit')[1]
    for name, (model, psi, hub) in runs.items():
        assert any(not torch.equal(v, implicit[k]) for k, v in psi.items()), name
        assert all(torch.isfinite(v).all() for v in model.values()
                   if v.is_floating_point()), name
    assert 'train/energy_hyper' not in runs['margin'][2].log_scalars
    assert 'train/energy_margin' in runs['margin'][2].log_scalars


@pytest.mark.slow
def test_lsed_task_needs_its_surrogate(synth_root, tmp_path):
    with pytest.raises(ValueError, match='task_surrogate'):
        post_tune_final(CRNN_DYNAMIC, synth_root, tmp_path, **{
            ML + 'task': dict(type='LSEDModuleLoss')})


@pytest.mark.slow
def test_resume_after_sigkill_equals_an_uninterrupted_run(synth_root, baseline,
                                                          tmp_path):
    cfg = tmp_path / 'posttune.py'
    cfg.write_text(f"_base_ = ['{CRNN_DYNAMIC}']\nload_from = '{baseline}'\n")
    killed = killed_config(tmp_path, cfg)
    opts = [ST + 'warmup_iters=2', ST + 'inverse_terms=1']
    straight = posttune_tool(tmp_path / 'a', 4, synth_root, cfg, options=opts)
    posttune_tool(tmp_path / 'b', 4, synth_root, killed, expect_kill=True,
                  options=opts)
    assert (tmp_path / 'b/iter_2.pth').exists()
    resumed = posttune_tool(tmp_path / 'b', 4, synth_root, cfg, resume=True,
                            options=opts)
    assert resumed['dynamic_energy']['steps'] == 4
    assert_same_state(straight['state_dict'], resumed['state_dict'])
    for key in ('state_dict', 'sampler'):
        a, b = straight['dynamic_energy'][key], resumed['dynamic_energy'][key]
        if key == "state_dict":
            assert_same_state(a, b)
        else:
            assert a == b


@pytest.mark.slow
def test_attention_recognizer_post_tunes_on_the_dynamic_loss(synth_root, tmp_path):
    """ASTER (CE proxy, per-element loss terms; teacher-forced positions):
    the implicit hypergradient runs and both networks move."""
    config = str(CONFIGS / 'textrecog/aster/aster_mini-vgg_dynamic_synth.py')
    start = post_tune_final(config, synth_root, tmp_path / 'zero', **{
        'post_tune.overrides.train_cfg.max_iters': 1,
        'post_tune.overrides.optim_wrapper.optimizer.lr': 0,
        ST + 'warmup_iters': 0, ST + 'optimizer.lr': 0, ST + 'inverse_terms': 1})
    model, psi, hub = post_tune_final(config, synth_root, tmp_path / 'run', **{
        ST + 'warmup_iters': 0, ST + 'inverse_terms': 1})
    assert any(not torch.equal(v, start[0][k]) for k, v in model.items()
               if v.is_floating_point())
    assert any(not torch.equal(v, start[1][k]) for k, v in psi.items())
    assert torch.isfinite(torch.tensor(hub.get_scalar('train/energy_hyper').current()))


def test_held_out_set_reads_another_annotation_file_like_the_training_set():
    from lsmmocr.hooks.dynamic_loss_hook import held_out_dataset_cfg
    one = dict(type='OCRDataset', data_root='d', ann_file='train.json', pipeline=[1])
    concat = dict(type='ConcatDataset', datasets=[one], pipeline=[2])
    swapped = held_out_dataset_cfg(concat, 'val.json')
    assert swapped == dict(concat, datasets=[dict(one, ann_file='val.json')])
    assert concat['datasets'][0]['ann_file'] == 'train.json'  # not in place
    assert held_out_dataset_cfg(one, 'val.json') == dict(one, ann_file='val.json')
    with pytest.raises(ValueError, match="held_out='val.json'.*2 dataset"):
        held_out_dataset_cfg(dict(concat, datasets=[one, one]), 'val.json')
