"""LS-IoU: rotated-box pairs with exact labels, h_Φ over boxes, and the shared
pre-training / fidelity / checkpoint path it has in common with LS-ED."""
import math

import pytest
import torch
from conftest import CONFIGS, REPO, run_tool
from mmcv.ops import box_iou_rotated
from mmocr.models.common.dictionary import Dictionary

from lsmmocr.surrogates import (RotatedBoxEmbedding, RotatedBoxPairSampler,
                                RotatedBoxSpace, RotatedIoUTask, SequenceLayout,
                                iou_distance, load_surrogate, surrogate_state)
from lsmmocr.surrogates.pretrain import fidelity, pretrain_surrogate
from lsmmocr.surrogates.rotated_boxes import box_shape
from lsmmocr.utils import mmocr_dict_file

LSIOU_CFG = CONFIGS / 'surrogates' / 'lsiou_rotated_boxes.py'


def test_labels_are_mmcv_exact_rotated_iou():
    pairs = RotatedBoxPairSampler(seed=0).sample(512)
    exact = box_iou_rotated(pairs.z, pairs.y, aligned=True)
    assert torch.allclose(pairs.e, 1 - exact)
    assert pairs.e.min() < 0.05 and pairs.e.max() == 1  # near and disjoint
    assert ((pairs.e > 0.3) & (pairs.e < 0.7)).float().mean() > 0.15


def test_one_box_has_one_shape_whatever_its_parameters():
    box = torch.tensor([[0.4, 0.5, 0.3, 0.05, 0.7]])
    same = torch.tensor([[0.4, 0.5, 0.05, 0.3, 0.7 + math.pi / 2],
                         [0.4, 0.5, 0.3, 0.05, 0.7 + math.pi],
                         [0.4, 0.5, 0.3, 0.05, 0.7 - 6 * math.pi]])
    assert torch.allclose(box_shape(same), box_shape(box).expand(3, -1),
                          atol=1e-6)
    assert torch.allclose(iou_distance(same, box.expand(3, -1)),
                          torch.zeros(3), atol=1e-4)
    sur = RotatedBoxEmbedding()
    assert torch.allclose(sur(same), sur(box).expand(3, -1), atol=1e-4)


@pytest.mark.parametrize('bad, msg', [
    ([[0.5, 0.5, 0.0, 0.1, 0.0]], r'boxes\[0\] has no area'),
    ([[0.5, 0.5, 0.2, -0.1, 0.0]], r'boxes\[0\] has no area'),
    ([[0.5, float('nan'), 0.2, 0.1, 0.0]], r'boxes\[0\] is not finite'),
    ([[0.5, 0.5, 0.2, 0.1, float('inf')]], r'boxes\[0\] is not finite'),
    ([[0.5, 0.5, 0.2, 0.1]], r'must be \(N, 5\)'),
])
def test_bad_boxes_are_named(bad, msg):
    good = [[0.2, 0.2, 0.1, 0.1, 0.3]]
    with pytest.raises(ValueError, match=msg):
        RotatedBoxEmbedding()(torch.tensor(bad))
    with pytest.raises(ValueError, match=msg.replace('boxes', 'z')):
        iou_distance(torch.tensor(bad), torch.tensor(good))


def test_pretrained_surrogate_beats_an_untrained_network(tmp_path):
    task = RotatedIoUTask()
    held_out = task.held_out_pairs(2000, 0)
    quiet = dict(batch_size=256, save_every=10**9, log=lambda *a: None)
    untrained = pretrain_surrogate(task, str(tmp_path / 'u.pth'), iters=0,
                                   **quiet)
    trained = pretrain_surrogate(task, str(tmp_path / 't.pth'), iters=400,
                                 **quiet)
    before = fidelity(untrained.eval(), held_out, task)
    after = fidelity(trained.eval(), held_out, task)
    assert after['mae'] < 0.5 * before['mae']
    assert after['spearman'] > 0.85 > before['spearman']
    assert set(after['mae_by_bucket']) == {k / 10 for k in range(10)}
    # Its checkpoint names the metric: LS-ED cannot load it, LS-IoU can.
    ckpt = tmp_path / 't.pth'
    again = load_surrogate(str(ckpt), RotatedBoxSpace())
    assert all(torch.equal(a, b) for a, b in zip(
        again.state_dict().values(), trained.state_dict().values()))
    layout = SequenceLayout(Dictionary(mmocr_dict_file(
        'lower_english_digits.txt'), with_padding=True), 'ctc', 26)
    with pytest.raises(ValueError, match='another metric space'):
        load_surrogate(str(ckpt), layout)
    # The architecture is stored resolved: a later default cannot change it.
    state = surrogate_state(trained, RotatedBoxSpace(),
                            dict(type='RotatedBoxEmbedding'))
    assert state['meta']['surrogate']['num_freqs'] == 8
    state['meta']['surrogate']['num_freqs'] = 0  # as if made under another default
    torch.save(state, tmp_path / 's.pth')
    with pytest.raises(RuntimeError, match='size mismatch'):
        load_surrogate(str(tmp_path / 's.pth'), RotatedBoxSpace())


@pytest.mark.slow
def test_train_and_eval_surrogate_tools_serve_lsiou(tmp_path):
    out, eval_dir = tmp_path / 'lsiou.pth', tmp_path / 'eval'
    proc = run_tool(['tools/train_surrogate.py', str(LSIOU_CFG), '--iters', '60',
                     '--batch-size', '64', '--out', str(out)], REPO)
    assert "'metric': 'rotated_iou'" in proc.stdout and out.is_file()
    proc = run_tool(['tools/eval_surrogate.py', str(LSIOU_CFG), str(out),
                     '--num-pairs', '500', '--out-dir', str(eval_dir)], REPO)
    assert 'where e <= 0.5' in proc.stdout
    assert (eval_dir / 'scatter.png').stat().st_size > 1000


def test_box_instrument_ranks_directions():
    from lsmmocr.diagnostics import box_gradient_quality
    pairs = RotatedBoxPairSampler(seed=3, random_frac=0).sample(1000)
    res = box_gradient_quality(pairs, {}, steps=(0.0, 0.03))
    iou0 = float(1 - pairs.e.mean())
    assert res['random']['iou'][0.0] == pytest.approx(iou0, abs=1e-5)
    assert res['smooth L1 deltas']['iou'][0.03] > iou0 > \
        res['random']['iou'][0.03]
    assert res['smooth L1 deltas']['cos'] == pytest.approx(1.0)
