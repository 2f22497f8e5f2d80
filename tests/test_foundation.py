"""The stack and MMOCR's own tools work end to end (subprocesses, real files)."""
import json
import subprocess
import sys

import pytest
import torch
from conftest import CONFIGS, REPO, run_tool

CRNN_SYNTH = str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_synth.py')
TINY = ['train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
        'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
        'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0',
        'randomness.seed=0', 'default_hooks.logger.interval=1']


def test_compiled_stack_imports():
    code = ('import mmcv.ops, mmocr.models, mmocr.datasets, lsmmocr; '
            'from mmcv.ops import nms; import torch; '
            'b = torch.tensor([[0., 0., 1., 1.], [0., 0., 1., 1.]]); '
            'print(len(nms(b, torch.tensor([.9, .8]), .5)[1]))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == '1'  # the compiled NMS op really ran


@pytest.mark.slow
def test_train_resume_test_crnn(synth_root, tmp_path):
    env = dict(LSMMOCR_SYNTH_ROOT=str(synth_root))
    work = tmp_path / 'work'
    run_tool(['tools/train.py', CRNN_SYNTH, '--work-dir', str(work),
              '--cfg-options', 'train_cfg.max_iters=2', *TINY], REPO, env)
    ckpt1 = work / 'iter_2.pth'
    assert ckpt1.is_file()
    state1 = torch.load(ckpt1, weights_only=False)
    assert state1['meta']['iter'] == 2

    proc = run_tool(['tools/train.py', CRNN_SYNTH, '--work-dir', str(work),
                     '--resume', '--cfg-options', 'train_cfg.max_iters=4',
                     *TINY], REPO, env)
    assert 'resumed epoch: 0, iter: 2' in proc.stdout + proc.stderr
    state2 = torch.load(work / 'iter_4.pth', weights_only=False)
    assert state2['meta']['iter'] == 4
    changed = [k for k, v in state1['state_dict'].items()
               if not torch.equal(v, state2['state_dict'][k])]
    assert changed, 'resumed training did not update any weight'

    proc = run_tool(['tools/test.py', CRNN_SYNTH, str(work / 'iter_4.pth'),
                     '--work-dir', str(tmp_path / 'test'), '--cfg-options',
                     'test_dataloader.num_workers=0'], REPO, env)
    out = proc.stdout + proc.stderr
    assert 'Synth/recog/word_acc' in out
    assert 'Synth/recog/char_recall' in out


def test_tools_have_help():
    for tool in ['tools/train.py', 'tools/test.py', 'tools/make_synth_data.py']:
        out = run_tool([tool, '--help'], REPO).stdout
        assert 'usage:' in out
    out = subprocess.run(['bash', 'tools/dist_train.sh', '--help'], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    assert 'NUM_PROCS' in out


def test_generated_annotations_load_in_ocrdataset(synth_root):
    from mmocr.datasets import OCRDataset
    ds = OCRDataset(data_root=str(synth_root), ann_file='textrecog_train.json',
                    pipeline=[])
    assert len(ds) == 16
    raw = json.loads((synth_root / 'textrecog_train.json').read_text())
    assert ds[0]['instances'][0]['text'] == raw['data_list'][0]['instances'][0]['text']
