"""Confidence ranking (lsmmocr.experiments.confidence_ranking and
tools/confidence_ranking.py): word features of CTC outputs, the review
metric, and a quick end-to-end run on a real CRNN."""
import json

import numpy as np
import pytest
import torch
from conftest import REPO, run_tool
from mmocr.models.common.dictionary import Dictionary
from scipy.stats import spearmanr

from lsmmocr.experiments import confidence_ranking as cr
from lsmmocr.surrogates import SequenceLayout


def ctc_layout(tmp_path, frames: int) -> SequenceLayout:
    """Characters 0, 1, 2 and the blank (padding) at index 3."""
    (tmp_path / 'd.txt').write_text('0\n1\n2\n')
    return SequenceLayout(Dictionary(str(tmp_path / 'd.txt'), with_padding=True),
                          'ctc', frames)


def test_frame_features_follow_greedy_ctc_decoding(tmp_path):
    blank = 3
    layout = ctc_layout(tmp_path, 5)
    assert layout.dictionary.padding_idx == blank
    # Argmax per frame: 0 0 blank 1 blank -> emits "0" (frame 0) and "1"
    # (frame 3), as MMOCR's CTCPostProcessor does.
    probs = torch.tensor([[[.7, .1, .1, .1], [.6, .2, .1, .1],
                           [.1, .1, .1, .7], [.2, .5, .2, .1],
                           [.0, .0, .1, .9]]])
    f = dict(zip(cr.FEATURES, cr.frame_features(probs, layout)[0]))
    assert float(f['num_chars']) == 2
    assert float(torch.sigmoid(f['char_mean'])) == pytest.approx(0.6, abs=1e-5)
    assert float(torch.sigmoid(f['char_min'])) == pytest.approx(0.5, abs=1e-5)
    assert float(f['log_likelihood']) == pytest.approx(np.log(.7 * .5), abs=1e-5)
    assert float(f['frames_below_0.9']) == 4
    assert float(f['char_margin_min']) == pytest.approx(0.3, abs=1e-5)
    empty = cr.frame_features(torch.full((1, 4, 4), .1).index_fill(
        2, torch.tensor([blank]), .7), layout)[0]
    assert float(empty[cr.FEATURES.index('num_chars')]) == 0
    assert torch.isfinite(empty).all()


def test_review_recall_counts_wrong_words_at_the_bottom():
    conf = np.array([.1, .2, .3, .4, .5, .6, .7, .8, .9, 1.])
    ed = np.array([2, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert cr.review_recall(conf, ed, 0.2) == 0.5
    assert cr.review_recall(-conf, ed, 0.2) == 0.5
    assert cr.review_recall(conf, ed * 0 + 1, 0.2) == 0.2


@pytest.mark.slow
def test_quick_run_reports_before_and_after(synth_root, tmp_path):
    work, scores = tmp_path / 'work', tmp_path / 'scores.npz'
    out = run_tool(['tools/confidence_ranking.py', '--quick', '--work-dir',
                    str(work), '--dump-scores', str(scores)], REPO,
                   dict(LSMMOCR_SYNTH_ROOT=str(synth_root),
                        OMP_NUM_THREADS='1')).stdout
    assert 'held-out Spearman' in out
    report = json.loads((work / 'confidence_ranking.json').read_text())
    res = report['results']
    assert set(res) == {'before: char_mean', 'before: char_min',
                        'before: log_likelihood',
                        'after: head, SoDeep Spearman', 'after: head, MSE peer'}
    dumped = np.load(scores)
    assert len(dumped['word_conf']) == len(dumped['edit_distance']) == 8
    assert ((dumped['word_conf'] > 0) & (dumped['word_conf'] <= 1)).all()
    want = spearmanr(dumped['word_conf'], -dumped['edit_distance']).statistic
    assert res['before: char_mean']['spearman'] == pytest.approx(want, abs=1e-4)
    assert (work / 'recognizer.pth').is_file()
    assert (work / 'sorter_n8.pth').is_file()
