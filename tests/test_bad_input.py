"""Bad input to every tool: one clear error naming the argument, file or key
at fault, a non-zero exit, no traceback, and nothing written. (Each case
starts a Python process that imports MMOCR: a few seconds each.)"""
import subprocess
import sys

import pytest
import torch
from conftest import CONFIGS, REPO
from mmocr.models.common.dictionary import Dictionary

from lsmmocr.surrogates import (RotatedBoxSpace, SequenceLayout, build_surrogate,
                                surrogate_state)
from lsmmocr.utils import mmocr_dict_file

LSED = str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_lsed_synth.py')
LSIOU_SURROGATE = str(CONFIGS / 'surrogates/lsiou_rotated_boxes.py')
SHIPPED = [next((REPO / 'artifacts' / kind).glob('*.pth'))
           for kind in ('baseline', 'surrogate')]
OUT = '{tmp}/out'  # must not exist after any case

CASES = [  # (tool and arguments, text the error must contain)
    # negative or zero sizes
    (['tools/make_synth_data.py', '--num-train', '-5', '--out-dir', OUT],
     '--num-train must be >= 0, got -5'),
    (['tools/font_corpus.py', '--per-split', '0'], '--per-split must be positive'),
    (['benchmarks/dist_exit_stress.py', '--runs', '0'], '--runs must be positive'),
    (['tools/train_surrogate.py', LSED, '--iters', '0', '--out', OUT + '/s.pth'],
     '--iters must be positive, got 0'),
    (['tools/train_sorter.py', '--seq-len', '0', '--out', OUT + '/s.pth'],
     '--seq-len must be positive, got 0'),
    (['tools/main_job.py', '--posttune-iters', '0', '--work-dir', OUT],
     '--posttune-iters must be positive, got 0'),
    (['tools/confidence_ranking.py', '--group', '0', '--work-dir', OUT],
     '--group must be positive, got 0'),
    # unknown names
    (['tools/make_synth_data.py', '--render', 'shiny', '--out-dir', OUT],
     "invalid choice: 'shiny'"),
    (['tools/main_job.py', '--model', 'resnet', '--work-dir', OUT],
     "invalid choice: 'resnet'"),
    (['tools/main_job.py', '--arms', 'control', 'magic', '--work-dir', OUT],
     "invalid choice: 'magic'"),
    (['tools/main_job.py', '--regime', 'converged', '--model', 'nrtr',
      '--work-dir', OUT], "model 'nrtr' has no converged regime"),
    (['tools/ship_artifacts.py', '--regime', 'converged', '--model', 'nrtr'],
     "model 'nrtr' has no converged regime"),
    # missing files
    (['tools/eval_surrogate.py', '{tmp}/no_config.py', str(SHIPPED[1]),
      '--out-dir', OUT], 'config: no such file: {tmp}/no_config.py'),
    (['tools/eval_sorter.py', '{tmp}/no_sorter.pth', '--out-dir', OUT],
     'checkpoints: no such file: {tmp}/no_sorter.pth'),
    (['tools/main_job.py', '--baseline-checkpoint', '{tmp}/none.pth',
      '--work-dir', OUT], '--baseline-checkpoint: no such file: {tmp}/none.pth'),
    (['tools/main_job.py', '--baseline-checkpoint', 'lsmmocr://readers/nope',
      '--work-dir', OUT], "lsmmocr://readers/nope: no shipped artifact 'readers/nope'"),
    (['tools/ship_model.py', str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_fonts.py'),
      '{tmp}/no_run'], 'work_dir: no such directory: {tmp}/no_run'),
    (['tools/ship_model.py', str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_fonts.py'),
      '{tmp}/data'], 'expected one best_*_iter_*.pth in {tmp}/data, found none'),
    (['tools/ship_model.py', LSIOU_SURROGATE, '{tmp}/data'],
     "lsiou_rotated_boxes.py: model type None is neither a text recognizer"),
    # truncated and foreign checkpoints
    (['tools/eval_surrogate.py', LSED, '{tmp}/truncated.pth', '--out-dir', OUT],
     'truncated.pth is not a readable PyTorch checkpoint'),
    (['tools/eval_surrogate.py', LSED, str(SHIPPED[0]), '--out-dir', OUT],
     f'{SHIPPED[0]} is not a surrogate checkpoint'),
    (['tools/eval_surrogate.py', LSED, '{tmp}/lsiou.pth', '--out-dir', OUT],
     'lsiou.pth was made for another metric space: metric: checkpoint has '
     "'rotated_iou'"),
    (['tools/eval_surrogate.py', LSED, '{tmp}/other_dict.pth', '--out-dir', OUT],
     'num_classes: checkpoint has 91, model needs 37'),
    # malformed annotation JSON
    (['tools/main_job.py', '--data-root', '{tmp}/data', '--work-dir', OUT],
     '{tmp}/data/textrecog_val.json is not valid JSON'),
    # an output path that something is in the way of
    (['tools/make_synth_data.py', '--out-dir', '{tmp}/a_file'],
     '--out-dir: {tmp}/a_file is a file, not a directory'),
    (['tools/main_job.py', '--work-dir', '{tmp}/a_file/job'],
     '--work-dir: {tmp}/a_file is a file, not a directory'),
    (['tools/train_surrogate.py', LSED, '--out', '{tmp}'],
     '--out: {tmp} is a directory, not a file'),
    (['tools/eval_sorter.py', str(SHIPPED[1]), '--out-dir', '{tmp}/a_file'],
     '--out-dir: {tmp}/a_file is a file, not a directory'),
]


def write_foreign_surrogates(tmp) -> None:
    """An LS-IoU h_Φ, and an LS-ED h_Φ for another dictionary."""
    cfg = dict(type='RotatedBoxEmbedding')
    space = RotatedBoxSpace()
    torch.save(surrogate_state(build_surrogate(cfg, space), space, cfg),
               tmp / 'lsiou.pth')
    cfg = dict(type='EditDistanceEmbedding')
    layout = SequenceLayout(Dictionary(mmocr_dict_file('english_digits_symbols.txt'),
                                       with_padding=True), 'ctc', 26)
    torch.save(surrogate_state(build_surrogate(cfg, layout), layout, cfg),
               tmp / 'other_dict.pth')


@pytest.mark.parametrize('args,message', CASES,
                         ids=[' '.join(a[:3]) for a, _ in CASES])
def test_bad_input_is_named_and_nothing_is_written(tmp_path, args, message):
    (tmp_path / 'truncated.pth').write_bytes(SHIPPED[1].read_bytes()[:100_000])
    (tmp_path / 'a_file').write_text('not a folder')
    (tmp_path / 'data').mkdir()
    for split in ('train', 'val', 'test'):  # val cut short
        (tmp_path / 'data' / f'textrecog_{split}.json').write_text(
            '{"metainfo": {}, "data_list": []' + '}' * (split != 'val'))
    write_foreign_surrogates(tmp_path)
    args = [a.replace('{tmp}', str(tmp_path)) for a in args]
    proc = subprocess.run([sys.executable, *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert message.replace('{tmp}', str(tmp_path)) in proc.stderr, \
        proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr
    assert not (tmp_path / 'out').exists()
