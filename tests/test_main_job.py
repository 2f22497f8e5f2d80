"""A tiny end-to-end run of the main job, as `make demo` runs it."""
import json
import math

import pytest
from conftest import REPO, run_tool


@pytest.mark.slow
def test_main_job_writes_a_finite_report(tmp_path):
    work, cache = tmp_path / 'job', dict(LSMMOCR_CACHE=str(tmp_path / 'cache'))
    proc = run_tool(['tools/main_job.py', '--preset', 'quick', '--work-dir',
                     str(work), '--data-root', str(tmp_path / 'data'), '--arms',
                     'control', 'lsed', 'expected_risk', 'dynamic'], REPO,
                    cache, timeout=900)
    # One progress line per training stage; the stages' times at the end.
    for label in ('baseline', 'converged', 'seed 0 control', 'seed 0 lsed',
                  'seed 0 expected_risk', 'seed 0 dynamic'):
        assert f'{label}: iteration ' in proc.stdout, label
    assert 'ETA' in proc.stdout
    report = json.loads((work / 'report.json').read_text())
    for run in ('baseline', 'control', 'lsed', 'expected_risk', 'dynamic'):
        for metric, (mean, std) in report['summary'][run].items():
            assert math.isfinite(mean) and math.isfinite(std), (run, metric)
    changes = report['summary']['ted_change_vs_control']
    assert set(changes) == {'lsed', 'expected_risk', 'dynamic'}
    assert all(math.isfinite(mean) for mean, _ in changes.values())
    assert math.isfinite(report['summary']['lsed_vs_expected_risk'][0])
    assert math.isfinite(report['summary']['dynamic_vs_lsed'][0])
    md = (work / 'report.md').read_text()
    assert '| lsed |' in md and '| expected_risk |' in md
    assert 'lsed vs control' in md and 'lsed vs expected_risk' in md
    assert 'dynamic vs lsed' in md
    assert (work / 'seed0' / 'curves.png').stat().st_size > 1000
    assert (work / 'surrogate_scatter.png').stat().st_size > 1000
    assert (work / 'converged' / 'iter_2.pth').is_file()
    assert '| baseline |' in md and '| **total** |' in md
    assert set(report['summary']['stage_seconds']) == {
        'data', 'baseline', 'surrogate pre-training',
        'seed 0: post-tuning and evaluation'}
    # Again in another work dir, post-tuning on batches rendered on the fly:
    # the baseline and h_Φ come from the cache (same config, data and
    # packages); the converge stage and the three default arms (other
    # config) are trained anew.
    other = tmp_path / 'job2'
    proc = run_tool(['tools/main_job.py', '--preset', 'quick', '--work-dir',
                     str(other), '--data-root', str(tmp_path / 'data'),
                     '--posttune-data', 'online'], REPO, cache, timeout=900)
    assert 'baseline: cached' in proc.stdout
    assert 'surrogate: cached' in proc.stdout
    assert not (other / 'baseline').exists()
    # converged (the control's config) and the three arms' configs
    for arm, runs in (('control', 2), ('lsed', 1), ('expected-risk', 1)):
        assert proc.stdout.count(f'crnn_mini-vgg_{arm}_synth_online.py') == runs
    online = json.loads((other / 'report.json').read_text())
    assert online['per_seed']['0']['baseline'] == report['per_seed']['0']['baseline']
    assert online['settings']['posttune_data'] == 'online'
    assert online['settings']['arms'] == ['control', 'lsed', 'expected_risk']
    assert math.isfinite(online['summary']['ted_change_vs_control']['lsed'][0])
    # One arm alone (a variant screen): a report without changes vs a control.
    run_tool(['tools/main_job.py', '--preset', 'quick', '--work-dir',
              str(tmp_path / 'job3'), '--data-root', str(tmp_path / 'data'),
              '--arms', 'lsed'], REPO, cache, timeout=900)
    alone = json.loads((tmp_path / 'job3/report.json').read_text())
    assert set(alone['per_seed']['0']) == {'baseline', 'lsed'}
    assert alone['summary']['ted_change_vs_control'] == {}


@pytest.mark.slow
def test_converged_regime_starts_from_the_shipped_reader(tmp_path):
    """``--regime converged``: the shipped CRNN reader post-tuned on the font
    stream, each arm evaluated at its best validation TED checkpoint."""
    work = tmp_path / 'job'
    run_tool(['tools/main_job.py', '--preset', 'quick', '--regime',
              'converged', '--work-dir', str(work), '--val-interval', '1',
              '--num-val', '8', '--seeds', '1', '--arms', 'control', 'lsed'],
             REPO, dict(LSMMOCR_CACHE=str(tmp_path / 'cache')), timeout=900)
    report = json.loads((work / 'report.json').read_text())
    assert report['settings']['regime'] == 'converged'
    assert report['settings']['converge_iters'] == 0  # fixed by the regime
    for arm in ('baseline', 'control', 'lsed'):
        assert report['per_seed']['1'][arm]['word_acc'] >= 0.5
    assert math.isfinite(report['summary']['baseline_val_ted'])
    for arm in ('control', 'lsed'):
        assert report['summary'][arm]['best_val_ted'][0] >= 0
    assert (work / 'seed1' / 'val_ted.png').stat().st_size > 1000
    for arm in ('control', 'lsed'):
        assert list((work / 'seed1' / arm).glob(
            'best_Fonts_ed_total_edit_distance_iter_*.pth'))
    md = (work / 'report.md').read_text()
    assert 'converged regime' in md and 'best validation TED' in md


def test_a_new_run_clears_the_checkpoints_of_another(tmp_path):
    from lsmmocr.experiments.training_runs import clear_stale_checkpoints, finished_run
    old = dict(config='c.py', options=['a=1'])
    for name in ('best_x_iter_300.pth', 'iter_1000.pth'):
        (tmp_path / name).write_bytes(b'0')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_1000.pth'))
    (tmp_path / 'run.json').write_text(json.dumps(old))
    assert finished_run(str(tmp_path), old)  # the same run is reused ...
    assert not finished_run(str(tmp_path), dict(old, options=['a=2']))
    clear_stale_checkpoints(str(tmp_path))  # ... another starts clean
    assert not list(tmp_path.glob('*.pth'))
    assert not (tmp_path / 'last_checkpoint').exists()


def test_a_run_is_known_by_its_shipped_names_in_any_checkout(tmp_path, monkeypatch):
    from lsmmocr.experiments import training_runs
    from lsmmocr.experiments.artifact_cache import SHIPPED_ROOT
    from lsmmocr.experiments.training_runs import finished_run, run_record

    def options(root):
        return [f'load_from={root}/readers/r.pth', 'randomness.seed=0']
    here = run_record('c.py', options(SHIPPED_ROOT))
    assert here['options'] == ['load_from=lsmmocr://readers/r.pth', 'randomness.seed=0']
    (tmp_path / 'iter_9.pth').write_bytes(b'0')
    (tmp_path / 'last_checkpoint').write_text('/elsewhere/iter_9.pth')
    other = '/other/checkout/lsmmocr/.mim/artifacts'
    with monkeypatch.context() as m:  # the run finished in another checkout
        m.setattr(training_runs, 'SHIPPED_ROOT', other)
        there = run_record('c.py', options(other))
    (tmp_path / 'run.json').write_text(json.dumps(there))
    assert finished_run(str(tmp_path), here) == str(tmp_path / 'iter_9.pth')
    elsewhere = run_record('c.py', options('/a/copy/of/weights'))  # not shipped ones
    assert not finished_run(str(tmp_path), elsewhere)


def test_unknown_posttune_data_is_named():
    from lsmmocr.experiments.main_job import JobConfig
    with pytest.raises(ValueError, match="'tape'"):
        JobConfig(posttune_data='tape').posttune_config()
    with pytest.raises(ValueError, match="'nrtr'"):
        JobConfig(model='nrtr', posttune_data='online').posttune_config()


def test_converged_regime_settings_that_do_not_go_together_are_named():
    from lsmmocr.experiments.main_job import JobConfig
    for job, match in (
            (JobConfig(regime='huge'), "'huge'"),
            (JobConfig(regime='converged', model='nrtr'), "'nrtr'"),
            (JobConfig(val_interval=10), 'val_interval needs'),
            (JobConfig(regime='converged', val_interval=50, posttune_iters=20),
             r'val_interval \(50\) exceeds posttune_iters \(20\)'),
            (JobConfig(regime='converged', converge_iters=5), 'converge_iters'),
            (JobConfig(regime='converged', arms=['dynamic']), "'dynamic'")):
        with pytest.raises(ValueError, match=match):
            job.check()
    JobConfig(regime='converged', val_interval=10, posttune_iters=20).check()


def test_converged_regime_validates_on_ted_and_keeps_the_best():
    from mmengine.config import Config

    from lsmmocr.experiments.main_job import VAL_TED, JobConfig, posttune_options
    from lsmmocr.utils import package_data
    job = JobConfig(regime='converged', model='aster', val_interval=100,
                    posttune_iters=1000, num_val=500, fit_rank_weight=1.0)
    cfg = Config.fromfile(package_data(job.posttune_config('lsed')))
    assert cfg.load_from == 'lsmmocr://readers/aster_mini-vgg_fonts'
    assert cfg.default_hooks.checkpoint.save_best == VAL_TED
    assert cfg.default_hooks.checkpoint.rule == 'less'
    opts = posttune_options(job, 1, 'reader.pth', 'lsed', 'sur.pth')
    assert 'post_tune.overrides.train_cfg.val_interval=100' in opts
    assert 'val_dataloader.dataset.datasets.0.num_samples=500' in opts
    assert 'val_evaluator=None' not in opts
    assert 'post_tune.trainer.task.fit_loss.rank_weight=1.0' in opts
    bf16 = 'post_tune.overrides.optim_wrapper.type=CPUBF16OptimWrapper'
    assert bf16 in opts  # as the readers trained
    # Each seed post-tunes on its own segment of the stream.
    segments = {tuple(o for o in posttune_options(job, seed, 'r.pth', 'control')
                      if 'sampler.offset' in o) for seed in (0, 1, 2)}
    assert segments == {(), ('train_dataloader.sampler.offset=210000000',),
                        ('train_dataloader.sampler.offset=220000000',)}
    # The small regime's options (and its surrogate cache key) are unchanged.
    small = posttune_options(JobConfig(), 1, 'b.pth', 'lsed', 'sur.pth')
    assert 'val_evaluator=None' in small and bf16 not in small
    assert not any('weight=' in o and 'fit_loss' in o for o in small)


def test_dynamic_arms_use_the_dynamic_loss_configs():
    from mmengine.config import Config

    from lsmmocr.experiments.main_job import JobConfig
    from lsmmocr.utils import package_data
    for data in ('disk', 'online'):
        job = JobConfig(posttune_data=data)
        cfg = Config.fromfile(package_data(job.posttune_config('dynamic_unrolled')))
        assert cfg.post_tune.module_loss.type == 'DynamicEnergyModuleLoss'
        assert cfg.post_tune.trainer.type == 'DynamicLossHook'
        for arm in ('control', 'lsed', 'expected_risk'):  # one config per arm
            cfg = Config.fromfile(package_data(job.posttune_config(arm)))
            assert cfg.post_tune.trainer is None or arm == 'lsed'
        assert job.posttune_config('control').endswith(
            'control_synth.py' if data == 'disk' else 'control_synth_online.py')


def test_an_lsed_task_objective_gets_the_jobs_surrogate():
    from lsmmocr.experiments.main_job import JobConfig, posttune_options
    job = JobConfig(energy_task='LSEDModuleLoss')
    opts = posttune_options(job, 0, 'base.pth', 'dynamic', 'sur.pth')
    assert 'post_tune.module_loss.task.type=LSEDModuleLoss' in opts
    assert 'post_tune.trainer.task_surrogate=sur.pth' in opts
    plain = posttune_options(JobConfig(), 0, 'base.pth', 'dynamic', 'sur.pth')
    assert not any('task' in o for o in plain)


def test_curves_have_no_panel_for_a_scalar_no_run_logged(tmp_path):
    from lsmmocr.visualization import plot_curves
    runs = {}
    for name, keys in (('control', ['loss']), ('lsed', ['loss', 'lsed_approx_error'])):
        log = tmp_path / name / '20261206_000000' / 'vis_data'
        log.mkdir(parents=True)
        (log / 'scalars.json').write_text('\n'.join(
            json.dumps(dict({k: 1.0 / step for k in keys}, step=step))
            for step in (1, 2)))
        runs[name] = str(tmp_path / name)
    keys = ['loss', 'lsed_approx_error', 'lsed_exploit_rate', 'energy_inverse_gain']
    png = tmp_path / 'curves.png'
    assert plot_curves(runs, keys, str(png)) == ['loss', 'lsed_approx_error']
    assert png.stat().st_size > 1000
    assert plot_curves(runs, ['energy_inverse_gain'], str(tmp_path / 'no.png')) == []
    assert not (tmp_path / 'no.png').exists()
