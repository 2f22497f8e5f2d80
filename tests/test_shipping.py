"""Shipped models (readers on the font stream, the hard-scene detector): the
convergence rule, shipping one in float16 with its figures, and loading
shipped weights by ``lsmmocr://`` name."""
import json
import shutil

import pytest
import torch
from conftest import CONFIGS, REPO
from mmengine.config import Config
from mmengine.runner import CheckpointLoader

from lsmmocr.datasets import make_synth_dataset
from lsmmocr.engine import shipped_path
from lsmmocr.experiments.artifact_cache import file_digest
from lsmmocr.experiments.shipping import (ACC, DETECTOR, HMEAN, READER, convergence,
                                          model_kind, ship_model, validation_curve)
from lsmmocr.experiments.testing import edit_distance_test, matched_iou_test
from lsmmocr.utils import mmocr_dict_file

FONTS_CRNN = str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_fonts.py')
DET_HARD = str(CONFIGS / 'textdet/rbox/rbox_resnet18_fpnc_hard.py')
# The main job's shipped CRNN (same model and dictionary as the font reader).
BASELINE = 'baseline/a6fdd50fb6808866ad1ee7b4'


def test_convergence_rule_reads_the_last_fifth_of_the_run():
    rising = [(1000 * i, 0.5 + 0.01 * i) for i in range(1, 11)]
    assert convergence(rising) == dict(spread=2.0, converged=False,
                                       window=[8000, 10000])
    flat = rising[:7] + [(8000, 0.6), (9000, 0.605), (10000, 0.6)]
    assert convergence(flat)['converged']
    assert convergence(rising[:3]) is None  # one validation in its window
    assert convergence([]) is None


def test_model_kind_decides_name_curve_and_rule():
    assert model_kind(FONTS_CRNN) is READER
    assert model_kind(DET_HARD) is DETECTOR
    assert READER.name(FONTS_CRNN) == 'readers/crnn_mini-vgg_fonts'
    assert DETECTOR.name(DET_HARD) == 'detectors/rbox_resnet18_fpnc_hard'
    curve = [(1000 * i, 0.5) for i in range(1, 8)] + [
        (8000, 0.700), (9000, 0.706), (10000, 0.703)]  # spread 0.6 point
    assert convergence(curve, tolerance=READER.tolerance)['converged']
    assert not convergence(curve, tolerance=DETECTOR.tolerance)['converged']


def test_shipped_weights_load_by_name_through_mmengine():
    uri = f'lsmmocr://{BASELINE}'
    state = CheckpointLoader.load_checkpoint(uri)
    on_disk = torch.load(REPO / 'artifacts' / f'{BASELINE}.pth',
                         weights_only=False)
    assert state['state_dict'].keys() == on_disk['state_dict'].keys()
    assert all(torch.equal(state['state_dict'][k], v)
               for k, v in on_disk['state_dict'].items())
    with pytest.raises(FileNotFoundError, match=BASELINE):  # lists them
        shipped_path('lsmmocr://readers/no_such_reader')
    assert shipped_path('plain/path.pth') == 'plain/path.pth'


def fake_run(work_dir, checkpoint, curve, key=ACC):
    """A work dir as tools/train.py leaves it: the best checkpoint and the
    scalars (validation ``key``) of two resumed segments."""
    last = curve[-1][0]
    shutil.copy(checkpoint, work_dir / f'best_{key.replace("/", "_")}'
                f'_iter_{last}.pth')
    for segment, part in (('20260101_000000', curve[:2]),
                          ('20260102_000000', curve[2:])):
        scalars = work_dir / segment / 'vis_data' / 'scalars.json'
        scalars.parent.mkdir(parents=True)
        scalars.write_text(''.join(
            json.dumps(dict(lr=1e-3, loss=1.0, step=step)) + '\n' +
            json.dumps({key: acc, 'step': step}) + '\n'
            for step, acc in part))


@pytest.mark.slow
def test_ship_reader_in_float16_with_the_figures_of_the_shipped_file(
        tmp_path):
    curve = [(1000 * i, 0.3 + 0.02 * i) for i in range(1, 8)] + [
        (8000, 0.47), (9000, 0.475), (10000, 0.478)]
    run = tmp_path / 'run'
    run.mkdir()
    fake_run(run, REPO / 'artifacts' / f'{BASELINE}.pth', curve)
    small = tmp_path / 'crnn_small_fonts.py'  # 96 test crops, not 5000
    small.write_text(
        f"_base_ = ['{FONTS_CRNN}']\n"
        'test_dataloader = dict(dataset=dict(datasets=[dict(\n'
        '    _base_.fonts_textrecog_test, num_samples=96)]))\n')
    assert Config.fromfile(small).test_dataloader.dataset.datasets[0] \
        .num_samples == 96
    root = tmp_path / 'artifacts'
    path, entry = ship_model(str(small), str(run), dict(made_by='test'),
                              root=str(root))
    assert path == str(root / 'readers' / 'crnn_small_fonts.pth')
    state = torch.load(path, weights_only=False)
    assert set(state) == {'meta', 'state_dict'}
    assert {v.dtype for v in state['state_dict'].values()
            if v.is_floating_point()} == {torch.float16}
    assert validation_curve(str(run)) == curve
    assert entry['iteration'] == 10000
    assert entry['convergence'] == dict(spread=0.8, converged=True,
                                        window=[8000, 10000])
    manifest = json.loads((root / 'manifest.json').read_text())
    recorded = manifest['readers/crnn_small_fonts.pth']
    assert recorded['sha256'] == file_digest(path)
    assert recorded['made_by'] == 'test'
    assert recorded['validation_word_acc'] == [[s, round(a, 4)]
                                               for s, a in curve]
    full = edit_distance_test(str(small), str(run / next(
        p.name for p in run.glob('best_*'))), str(tmp_path / 'fp32'), 'Fonts')
    half = recorded['test_metrics']
    assert half['word_acc'] > 0.1  # it reads: the weights survived float16
    assert abs(half['word_acc'] - full['word_acc']) <= 2 / 96
    assert abs(half['total_edit_distance'] - full['total_edit_distance']) <= 3


@pytest.mark.slow
@pytest.mark.parametrize('config', ['crnn/crnn_mini-vgg_fonts.py',
                                    'aster/aster_mini-vgg_fonts.py'])
def test_shipped_reader_reads_as_its_manifest_says(config, tmp_path):
    """Each converged reader of "Readers that read": converged by the rule,
    and its float16 file reproduces the test metrics in the manifest (5000
    crops in font families it never saw)."""
    cfg = str(CONFIGS / 'textrecog' / config)
    name = 'readers/' + config.split('/')[1].removesuffix('.py')
    with open(REPO / 'artifacts' / 'manifest.json') as f:
        entry = json.load(f)[name + '.pth']
    assert file_digest(shipped_path(f'lsmmocr://{name}')) == entry['sha256']
    assert entry['convergence']['converged'], entry['convergence']
    assert entry['test_metrics']['word_acc'] >= 0.75
    assert edit_distance_test(cfg, f'lsmmocr://{name}', str(tmp_path),
                              'Fonts') == entry['test_metrics']


@pytest.mark.slow
def test_ship_detector_in_float16_with_its_hmean(tmp_path, monkeypatch):
    """A detector's run shipped by the detector's rule (hmean, half a
    point) with the figures of the shipped file on fresh hard test scenes:
    the shipped hard-scene detector, back in float32, shipped again."""
    scenes = tmp_path / 'scenes'
    make_synth_dataset(str(scenes), mmocr_dict_file('lower_english_digits.txt'),
                       dict(test=12), task='textdet', scene_cfg='hard',
                       font_corpus='system')
    monkeypatch.setenv('LSMMOCR_SYNTH_DET_HARD_ROOT', str(scenes))
    state = torch.load(shipped_path(f'lsmmocr://{DETECTOR.name(DET_HARD)}'),
                       weights_only=False)
    state['state_dict'] = {k: v.float() if v.is_floating_point() else v
                           for k, v in state['state_dict'].items()}
    fp32 = tmp_path / 'iter_12000.pth'
    torch.save(state, fp32)
    curve = [(1000 * i, 0.5) for i in range(1, 10)] + [
        (10000, 0.700), (11000, 0.706), (12000, 0.703)]
    run = tmp_path / 'run'
    run.mkdir()
    fake_run(run, fp32, curve, key=HMEAN)
    root = tmp_path / 'artifacts'
    path, entry = ship_model(DET_HARD, str(run), dict(made_by='test'),
                             root=str(root))
    assert path == str(root / 'detectors' / 'rbox_resnet18_fpnc_hard.pth')
    assert entry['convergence'] == dict(spread=0.6, converged=False,
                                        window=[9600, 12000])
    recorded = json.loads((root / 'manifest.json').read_text())[
        'detectors/rbox_resnet18_fpnc_hard.pth']
    assert recorded['validation_hmean'] == [[s, round(v, 4)] for s, v in curve]
    shipped = torch.load(path, weights_only=False)['state_dict']
    assert all(torch.equal(shipped[k].float(), v.float())
               for k, v in state['state_dict'].items())  # float16 round trip
    assert recorded['test_metrics'] == matched_iou_test(
        DET_HARD, str(fp32), str(tmp_path / 'fp32_test'))
    assert recorded['test_metrics']['hmean@0.5'] > 0.4  # it detects


def test_shipped_detector_is_the_best_of_a_converged_run():
    """The hard-scene detector of "LS-IoU where detection is hard": its file
    is the one recorded, its run converged by the detector's rule, and it is
    the run's best checkpoint on validation."""
    name = DETECTOR.name(DET_HARD)
    with open(REPO / 'artifacts' / 'manifest.json') as f:
        entry = json.load(f)[name + '.pth']
    assert file_digest(shipped_path(f'lsmmocr://{name}')) == entry['sha256']
    curve = [tuple(point) for point in entry['validation_hmean']]
    assert convergence(curve, tolerance=DETECTOR.tolerance) == entry['convergence']
    assert entry['convergence']['converged']
    assert dict(curve)[entry['iteration']] == max(v for _, v in curve)
    assert set(entry['test_metrics']) == {
        f'{k}@{t}' for k in ('hmean', 'precision', 'recall', 'matched_iou')
        for t in (0.5, 0.7, 0.8)}
