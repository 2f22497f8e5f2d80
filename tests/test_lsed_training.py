"""LS-ED post-tuning runs as a user runs it: resume and distributed training
(the latter also for the dynamic loss's E_ψ)."""
import subprocess
import sys

import pytest
import torch
from conftest import (CONFIGS, REPO, assert_same_state, killed_config, post_tune_final,
                      posttune_tool, tiny_cfg)
from mmengine.hooks import Hook

CRNN_LSED = str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_lsed_synth.py')
CRNN_RISK = str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_expected-risk_synth.py')


@pytest.mark.slow
def test_resume_after_sigkill_continues_post_tuning(synth_root, baseline,
                                                    tmp_path):
    """``load_from`` (the baseline) is where post-tuning starts; ``--resume``
    after a kill continues from the work dir's newest checkpoint, so the
    final recognizer and Φ equal an uninterrupted run's bit for bit."""
    cfg = tmp_path / 'posttune.py'
    cfg.write_text(f"_base_ = ['{CRNN_LSED}']\nload_from = '{baseline}'\n")
    killed = killed_config(tmp_path, cfg)
    straight = posttune_tool(tmp_path / 'a', 4, synth_root, config=cfg)
    posttune_tool(tmp_path / 'b', 4, synth_root, config=killed, expect_kill=True)
    assert (tmp_path / 'b/iter_2.pth').exists()
    assert not (tmp_path / 'b/iter_4.pth').exists()
    resumed = posttune_tool(tmp_path / 'b', 4, synth_root, resume=True, config=cfg)
    assert straight['meta']['iter'] == resumed['meta']['iter'] == 4
    assert straight['lsed_surrogate']['steps'] == 4
    assert resumed['lsed_surrogate']['steps'] == 4
    assert_same_state(straight['state_dict'], resumed['state_dict'])
    assert_same_state(straight['lsed_surrogate']['state_dict'],
                      resumed['lsed_surrogate']['state_dict'])
    # Resuming an empty work dir starts from load_from, as a plain run does.
    fresh = posttune_tool(tmp_path / 'c', 4, synth_root, resume=True, config=cfg)
    assert_same_state(straight['state_dict'], fresh['state_dict'])


@pytest.mark.slow
@pytest.mark.parametrize('config', [
    CRNN_LSED, str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_dynamic_synth.py')],
    ids=['lsed', 'dynamic'])
def test_two_gloo_processes_keep_phi_identical(synth_root, tmp_path, config):
    """h_Φ (LS-ED) or E_ψ (dynamic loss) stays the same on both ranks."""
    cfg = tiny_cfg(config, synth_root, tmp_path / 'work', iters=3,
                   batch_size=2)
    cfg_file = tmp_path / 'cfg.py'
    cfg.dump(str(cfg_file))
    subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
         '--standalone', str(REPO / 'tests/dist_posttune.py'),
         str(cfg_file), str(tmp_path)],
        cwd=REPO, check=True, capture_output=True, timeout=600)
    phi0 = torch.load(tmp_path / 'phi_rank0.pth')
    phi1 = torch.load(tmp_path / 'phi_rank1.pth')
    assert_same_state(phi0, phi1)


class Recorder(Hook):
    """Φ and the model when training starts (registered first, before the
    warm-up) and when the first step starts, and every batch's texts."""

    def __init__(self, trainer) -> None:
        self.trainer = trainer
        self.texts = []

    def _snapshot(self, runner) -> dict:
        return dict(
            phi={k: v.clone()
                 for k, v in self.trainer.network.state_dict().items()},
            model={k: v.clone() for k, v in runner.model.state_dict().items()})

    def before_train(self, runner) -> None:
        self.at_start = self._snapshot(runner)

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if batch_idx == 0:
            self.at_first_step = self._snapshot(runner)
        self.texts.append([ds.gt_text.item for ds in data_batch['data_samples']])


def post_tune_recorded(synth_root, work_dir, warmup_iters: int) -> Recorder:
    from lsmmocr.engine import PostTuneRunner
    from lsmmocr.hooks import LearnedSurrogateHook
    cfg = tiny_cfg(CRNN_LSED, synth_root, work_dir, iters=3, **{
        'post_tune.trainer.warmup_iters': warmup_iters})
    runner = PostTuneRunner.from_cfg(cfg)
    hook = next(h for h in runner.hooks if isinstance(h, LearnedSurrogateHook))
    recorder = Recorder(hook)
    runner.register_hook(recorder, priority='HIGHEST')
    runner.train()
    return recorder


@pytest.mark.slow
def test_warm_up_fits_phi_before_the_first_step_and_keeps_the_data(
        synth_root, tmp_path):
    cold = post_tune_recorded(synth_root, tmp_path / 'cold', 0)
    warm = post_tune_recorded(synth_root, tmp_path / 'warm', 4)
    # Warm-up trained Φ before the recognizer's first step ...
    assert not all(torch.equal(v, warm.at_first_step['phi'][k])
                   for k, v in warm.at_start['phi'].items())
    assert_same_state(cold.at_start['phi'], cold.at_first_step['phi'])
    # ... left the recognizer (weights and BatchNorm statistics) untouched ...
    assert_same_state(warm.at_start['model'], warm.at_first_step['model'])
    # ... and the recognizer saw the same batches as without warm-up.
    assert warm.texts == cold.texts and len(warm.texts) == 3


@pytest.mark.slow
def test_exploitation_monitor_logs_and_changes_nothing(synth_root, tmp_path):
    st = 'post_tune.trainer.'
    off = post_tune_final(CRNN_LSED, synth_root, tmp_path / 'off',
                          **{st + 'monitor_interval': 0})
    on = post_tune_final(CRNN_LSED, synth_root, tmp_path / 'on',
                         **{st + 'monitor_interval': 1})
    assert_same_state(off[0], on[0])
    assert_same_state(off[1], on[1])
    rate = on[2].get_scalar('train/lsed_exploit_rate').current()
    assert 0 <= rate <= 1
    assert 'train/lsed_exploit_rate' not in off[2].log_scalars


@pytest.mark.slow
def test_switch_schedule_passes_to_the_proxy_and_stops_fitting_phi(
        synth_root, tmp_path):
    st = 'post_tune.trainer.'
    switched = post_tune_final(CRNN_LSED, synth_root, tmp_path / 'switched',
                               **{st + 'proxy_from': 1})
    plain = post_tune_final(CRNN_LSED, synth_root, tmp_path / 'plain')
    # Φ was fitted after the first step only ...
    assert not all(torch.equal(v, switched[1][k])
                   for k, v in plain[1].items())
    once = post_tune_final(CRNN_LSED, synth_root, tmp_path / 'once', **{
        'post_tune.overrides.train_cfg.max_iters': 1})
    assert_same_state(once[1], switched[1])
    # ... and the last steps trained on CTC alone.
    hub = switched[2]
    assert hub.get_scalar('train/loss_lsed').current() == 0
    assert hub.get_scalar('train/loss_ctc').current() > 0
    assert 'train/loss_ctc' not in plain[2].log_scalars


@pytest.mark.slow
def test_lookahead_pairs_change_phi_and_the_recognizer_still_trains(
        synth_root, tmp_path):
    st = 'post_tune.trainer.'
    plain = post_tune_final(CRNN_LSED, synth_root, tmp_path / 'plain')
    ahead = post_tune_final(CRNN_LSED, synth_root, tmp_path / 'ahead',
                            **{st + 'lookahead_steps': [1.0, 4.0]})
    assert not all(torch.equal(v, ahead[1][k]) for k, v in plain[1].items())
    assert all(torch.isfinite(v).all() for v in ahead[0].values()
               if v.is_floating_point())


@pytest.mark.slow
def test_expected_risk_post_tuning_runs_without_a_surrogate(synth_root,
                                                            tmp_path):
    over = 'post_tune.overrides.'
    start, _, _ = post_tune_final(CRNN_LSED, synth_root, tmp_path / 'zero', **{
        over + 'train_cfg.max_iters': 1, over + 'optim_wrapper.optimizer.lr': 0})
    model, phi, hub = post_tune_final(CRNN_RISK, synth_root, tmp_path / 'risk')
    assert phi is None
    assert 'train/expected_ed' in hub.log_scalars
    assert any(not torch.equal(v, start[k]) for k, v in model.items()
               if v.is_floating_point())
