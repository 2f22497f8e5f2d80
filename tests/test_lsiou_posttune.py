"""LS-IoU post-tuning of the RBox detector, run as a user runs it."""
import json
import subprocess
import sys

import pytest
import torch
from conftest import CONFIGS, REPO, killed_config, run_tool, train_tool

from lsmmocr.datasets import make_synth_dataset
from lsmmocr.utils import mmocr_dict_file

RBOX = str(CONFIGS / 'textdet/rbox/rbox_resnet18_fpnc_synth.py')
LSIOU = str(CONFIGS / 'textdet/rbox/rbox_resnet18_fpnc_lsiou_synth.py')
OPTS = ['train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
        'randomness.seed=0']


@pytest.fixture(scope='module')
def det_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('synth_det')
    make_synth_dataset(str(root), mmocr_dict_file('lower_english_digits.txt'),
                       dict(train=8, test=3), task='textdet')
    return root


def env(det_root):
    return dict(LSMMOCR_SYNTH_DET_ROOT=str(det_root), PYTHONPATH=str(REPO / 'tests'))


@pytest.fixture(scope='module')
def detector(det_root, tmp_path_factory):
    """The RBox detector after 2 iterations of its own loss: the start."""
    work = tmp_path_factory.mktemp('rbox')
    run_tool(['tools/train.py', RBOX, '--work-dir', str(work), '--cfg-options',
              *OPTS, 'train_cfg.max_iters=2', 'default_hooks.checkpoint.interval=2'],
             REPO, env(det_root))
    return work / 'iter_2.pth'


def post_tune(work, iters, det_root, config, resume=False, expect_kill=False):
    args = [str(config), '--work-dir', str(work),
            *(['--resume'] if resume else []), '--cfg-options', *OPTS,
            f'post_tune.overrides.train_cfg.max_iters={iters}',
            'post_tune.overrides.default_hooks.checkpoint.interval=2']
    train_tool(args, env(det_root), expect_kill)
    if not expect_kill:
        return torch.load(work / f'iter_{iters}.pth', weights_only=False)


def test_lsiou_loss_trains_the_detector_not_phi(det_root):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmocr.registry import DATASETS, MODELS

    from lsmmocr.engine.post_tune_runner import apply_post_tune
    from lsmmocr.surrogates import build_surrogate
    from lsmmocr.surrogates.rotated_boxes import RotatedBoxSpace
    init_default_scope('mmocr')
    cfg = apply_post_tune(Config.fromfile(LSIOU))
    model = MODELS.build(cfg.model)
    loss = model.det_head.module_loss
    ds = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=str(det_root)))
    data = model.data_preprocessor(dict(inputs=[ds[k]['inputs'] for k in range(2)],
                                        data_samples=[ds[k]['data_samples']
                                                      for k in range(2)]), True)
    with pytest.raises(RuntimeError, match='LearnedSurrogateHook'):
        model(**data, mode='loss')
    phi = build_surrogate(dict(type='RotatedBoxEmbedding'), RotatedBoxSpace())
    loss.attach(phi)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_score', 'loss_lsiou'}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert model.det_head.out.weight.grad.abs().sum() > 0
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in phi.parameters())
    assert not any(w in n for n, _ in model.named_parameters()
                   for w in ('surrogate', 'network', 'slot'))
    batch = loss.pop_batch()
    assert batch.z.shape == batch.y.shape and batch.z.shape[1] == 5
    assert (batch.y[:, 2:4] > 0).all() and (batch.y[:, :2] < 1.5).all()  # normalised
    loss.proxy_weight = 1.0
    assert {'loss_geometry', 'loss_angle'} <= set(model(**data, mode='loss'))
    with pytest.raises(TypeError, match='RBoxModuleLoss'):
        MODELS.build(dict(type='LSIoUModuleLoss', proxy=dict(type='DBModuleLoss')))


@pytest.mark.slow
def test_lsiou_post_tuning_changes_both_resumes_exactly(det_root, detector, tmp_path):
    cfg = tmp_path / 'lsiou.py'
    cfg.write_text(f"_base_ = ['{LSIOU}']\nload_from = '{detector}'\n")
    killed = killed_config(tmp_path, cfg)
    straight = post_tune(tmp_path / 'a', 4, det_root, cfg)
    start = torch.load(detector, weights_only=False)['state_dict']
    first = torch.load(tmp_path / 'a/iter_2.pth', weights_only=False)
    assert any(not torch.equal(start[k], v)
               for k, v in straight['state_dict'].items())  # the detector moved
    phi0, phi = first['lsiou_surrogate'], straight['lsiou_surrogate']
    assert phi['steps'] == 4 and phi['meta']['metric'] == 'rotated_iou'
    assert any(not torch.equal(phi0['state_dict'][k], v)
               for k, v in phi['state_dict'].items())  # Φ moved
    # Φ is not in the detector's optimizer: Adam holds one state per
    # detector parameter, none more.
    num_params = sum(1 for v in straight['state_dict'].values()
                     if v.dtype.is_floating_point) - sum(
        1 for k in straight['state_dict'] if 'running' in k)
    assert len(straight['optimizer']['state']) == num_params
    post_tune(tmp_path / 'b', 4, det_root, killed, expect_kill=True)
    assert not (tmp_path / 'b/iter_4.pth').exists()
    resumed = post_tune(tmp_path / 'b', 4, det_root, cfg, resume=True)
    for k, v in straight['state_dict'].items():
        assert torch.equal(v, resumed['state_dict'][k]), k
    for k, v in phi['state_dict'].items():
        assert torch.equal(v, resumed['lsiou_surrogate']['state_dict'][k]), k


@pytest.mark.slow
def test_detection_job_reports_both_arms_and_reuses_them(det_root, detector, tmp_path):
    args = ['tools/main_job.py', '--task', 'textdet', '--scenes', 'easy',
            '--data-root', str(det_root), '--baseline-checkpoint', str(detector),
            '--surrogate-iters', '4', '--seeds', '0', '1',
            '--posttune-iters', '2', '--batch-size', '2', '--num-plot', '2',
            '--work-dir', str(tmp_path / 'job')]
    cache = dict(LSMMOCR_CACHE=str(tmp_path / 'cache'))
    run_tool(args, REPO, cache)  # h_Φ pre-trained here (4 iterations)
    report = json.loads((tmp_path / 'job/report.json').read_text())
    assert report['settings']['task'] == 'textdet'
    phi = torch.load(report['surrogate']['path'], weights_only=False)
    assert phi['iter'] == 4 and phi['meta']['metric'] == 'rotated_iou'
    assert -1 <= report['surrogate']['spearman'] <= 1
    assert set(report['per_seed']) == {'0', '1'}
    runs = [arms[a] for arms in report['per_seed'].values()
            for a in ('control', 'lsiou')]
    for figures in [report['baseline'], *runs]:
        assert len(figures) == 12 and all(0 <= v <= 1 for v in figures.values())
    for seed in ('0', '1'):  # each arm post-tuned its own way from the same start
        state = {a: torch.load(tmp_path / f'job/seed{seed}/{a}/iter_2.pth',
                               weights_only=False) for a in ('control', 'lsiou')}
        assert 'lsiou_surrogate' in state['lsiou']
        assert 'lsiou_surrogate' not in state['control']
        assert any(not torch.equal(v, state['lsiou']['state_dict'][k])
                   for k, v in state['control']['state_dict'].items())
    changes = report['summary']['lsiou_vs_control_pct']['hmean@0.5']
    assert len(changes) == 2
    assert (tmp_path / 'job/boxes.png').stat().st_size > 10_000
    assert 'LS-IoU hmean@0.8 vs control' in (tmp_path / 'job/report.md').read_text()
    again = run_tool(args, REPO, cache)  # finished arms and h_Φ are reused
    assert again.stdout.count('reusing') == 4 and 'surrogate: cached' in again.stdout
    # boxes.png: 2 test images for each of baseline, control, LS-IoU (redrawn)
    assert len(list((tmp_path / 'job/boxes').glob('*/*/vis_data/vis_image/*.png'))) == 6


def test_detection_job_names_what_is_missing(det_root, tmp_path):
    args = [sys.executable, 'tools/main_job.py', '--task', 'textdet',
            '--work-dir', str(tmp_path / 'job')]
    out = subprocess.run([*args, '--baseline-checkpoint', str(tmp_path / 'no.pth')],
                         cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 2 and '--baseline-checkpoint: no such file' in out.stderr
    out = subprocess.run([*args, '--scenes', 'easy'], cwd=REPO,
                         capture_output=True, text=True)
    assert out.returncode != 0 and 'no shipped detector lsmmocr://detectors/' \
        'rbox_resnet18_fpnc_synth' in out.stderr
    ckpt = tmp_path / 'x.pth'
    ckpt.write_bytes(b'')
    out = subprocess.run([*args, '--baseline-checkpoint', str(ckpt),
                          '--data-root', str(tmp_path / 'none')],
                         cwd=REPO, capture_output=True, text=True)
    assert out.returncode != 0
    assert f'{tmp_path / "none"}/textdet_train.json: no such file' in out.stderr
