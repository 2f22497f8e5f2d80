"""Lexicon retrieval by edit distance and by LS-ED, against sort-based
references; configs, checkpoints and errors."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from mmengine.evaluator import Evaluator
from mmengine.registry import DefaultScope
from mmocr.models.common.dictionary import Dictionary

from lsmmocr.metrics import LexiconMetric
from lsmmocr.surrogates import EditDistanceEmbedding, SequenceLayout, surrogate_state
from lsmmocr.utils import mmocr_dict_file

DICT_CFG = dict(type='Dictionary', dict_file='lower_english_digits.txt',
                with_start=True, with_end=True, same_start_end=True,
                with_padding=True, with_unknown=True)
SURROGATE_CFG = dict(type='EditDistanceEmbedding', embed_dims=32, hidden=16)


def levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1,
                           prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def sorted_rank(dist, lexicon, gt):
    """Position of ``gt`` after a sort by distance, ``gt`` last among ties."""
    if gt not in lexicon:
        return math.inf
    order = sorted(range(len(lexicon)), key=lambda j: (dist[j], lexicon[j] == gt))
    return [lexicon[j] for j in order].index(gt) + 1


def summary(ranks, ks, name):
    ranks = np.array(ranks)
    out = {f'{name}_acc': np.mean(ranks == 1)}
    out.update({f'{name}_recall@{k}': np.mean(ranks <= k) for k in ks})
    return out


def samples(preds, gts, lexicons=None):
    out = [dict(pred_text=dict(item=p), gt_text=dict(item=g))
           for p, g in zip(preds, gts)]
    for s, lex in zip(out, lexicons or []):
        s['lexicon'] = lex
    return out


def evaluate(metric, data):
    metric.process([], data[:3])
    metric.process([], data[3:])
    return metric.evaluate(len(data))


words = st.text(alphabet='abc', max_size=5)
lexicon_words = st.text(alphabet='abc', min_size=1, max_size=5)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(words, words, st.lists(lexicon_words, min_size=1,
                                                 max_size=8)),
                min_size=1, max_size=10),
       st.lists(st.integers(1, 9), min_size=1, max_size=3, unique=True))
def test_edit_distance_ranking_matches_reference(cases, ks):
    preds, gts, lexicons = map(list, zip(*cases))
    # Some ground truths are in their lexicon, some not; duplicates stay.
    lexicons = [lex + [gt] if i % 3 else lex
                for i, (lex, gt) in enumerate(zip(lexicons, gts))]
    metric = LexiconMetric(ks=ks, mode='exact')
    got = evaluate(metric, samples(preds, gts, lexicons))
    ranks = []
    for p, g, lex in zip(preds, gts, lexicons):
        lex = list(dict.fromkeys(w for w in lex if w))  # '' is dropped
        ranks.append(sorted_rank([levenshtein(p, w) for w in lex], lex, g))
    want = summary(ranks, ks, 'ed')
    for key, value in want.items():
        assert got[f'lexicon/{key}'] == pytest.approx(value, abs=1e-4)
    assert got['lexicon/gt_in_lexicon'] == pytest.approx(
        np.mean([g != '' and g in lex for g, lex in zip(gts, lexicons)]),
        abs=1e-4)


@pytest.fixture(scope='module')
def layout():
    args = {k: v for k, v in DICT_CFG.items() if k != 'type'}
    args['dict_file'] = mmocr_dict_file(args['dict_file'])
    dictionary = Dictionary(**args)
    return SequenceLayout(dictionary, 'attention', seq_len=8)


@pytest.fixture(scope='module')
def surrogate(layout):
    torch.manual_seed(0)
    return EditDistanceEmbedding(layout.num_classes, layout.seq_len,
                                 embed_dims=32, hidden=16).eval()


def word_list(rng, n):
    letters = list('abcdefghij')
    return [''.join(rng.choice(letters, rng.integers(1, 7))) for _ in range(n)]


def test_lsed_ranking_matches_reference(layout, surrogate, tmp_path):
    rng = np.random.default_rng(0)
    lexicon = list(dict.fromkeys(word_list(rng, 60)))
    gts = [lexicon[i] for i in rng.integers(0, len(lexicon), 25)]
    preds = [g if i % 2 else g[:-1] + 'x' for i, g in enumerate(gts)]
    preds[0] = 'a'  # a wild guess
    lex_file = tmp_path / 'lexicon.txt'
    lex_file.write_text('\n'.join(lexicon) + '\n\n')
    metric = LexiconMetric(lexicon_file=str(lex_file), ks=(1, 3),
                           surrogate=surrogate, layout=layout)
    got = evaluate(metric, samples(preds, gts))

    def embed(words):  # other batches than the metric's
        idx = layout.target_indexes(layout.indexes(words))
        with torch.no_grad():
            return surrogate(layout.one_hot(idx)).double().numpy()

    h_lex, h_preds = embed(lexicon), embed(preds)
    lsed, ed = [], []
    for p, g, h in zip(preds, gts, h_preds):
        lsed.append(sorted_rank(np.linalg.norm(h_lex - h, axis=1),
                                lexicon, g))
        ed.append(sorted_rank([levenshtein(p, w) for w in lexicon], lexicon, g))
    want = {**summary(lsed, (1, 3), 'lsed'), **summary(ed, (1, 3), 'ed')}
    for key, value in want.items():
        assert got[f'lexicon/{key}'] == pytest.approx(value, abs=1e-4)
    assert got['lexicon/gt_in_lexicon'] == 1.0
    # Exact predictions are ranked first by both.
    assert all(r == 1 for r, p, g in zip(lsed, preds, gts) if p == g)
    assert 0 < got['lexicon/lsed_acc'] < 1


def test_truncated_words_tie_against_the_ground_truth(layout, surrogate):
    # The layout holds 7 characters: both words embed identically.
    metric = LexiconMetric(surrogate=surrogate, layout=layout, ks=(1, 2))
    surrogate.train()
    got = evaluate(metric, samples(
        ['abcdefgh'] * 4, ['abcdefgh'] * 4,
        [['abcdefgz', 'abcdefgh', 'zzz']] * 4))
    assert surrogate.training  # the metric leaves h_Φ's mode alone
    surrogate.eval()
    assert got['lexicon/ed_acc'] == 1.0
    assert got['lexicon/lsed_acc'] == 0.0
    assert got['lexicon/lsed_recall@2'] == 1.0


def test_config_with_checkpoint_equals_module(layout, surrogate, tmp_path):
    ckpt = tmp_path / 'surrogate.pth'
    torch.save(surrogate_state(surrogate, layout, SURROGATE_CFG), ckpt)
    lex_file = tmp_path / 'lexicon.txt'
    lex_file.write_text('Hello\nWorld\nhelp\nword\nWORLD!\n')
    data = samples(['hellp', 'w0rld', 'HELP', 'wordd', 'x'],
                   ['Hello', 'world', 'help', 'Word', 'nothere'])
    cfg = dict(type='LexiconMetric', lexicon_file=str(lex_file), ks=(1, 2),
               surrogate=str(ckpt),
               layout=dict(dictionary=DICT_CFG, mode='attention', seq_len=8))
    with DefaultScope.overwrite_default_scope('mmocr'):
        evaluator = Evaluator([cfg, dict(type='EditDistanceMetric')])
    evaluator.process(data)
    from_config = evaluator.evaluate(len(data))
    from_module = evaluate(
        LexiconMetric(lexicon_file=str(lex_file), ks=(1, 2),
                      surrogate=surrogate, layout=layout), data)
    assert {k: v for k, v in from_config.items()
            if k.startswith('lexicon/')} == from_module
    assert 'recog/word_acc' in from_config
    # 'WORLD!' normalises to 'world' (merged); 'nothere' is missing;
    # 'hellp' is 1 edit from 'hello' and 'help', 'wordd' from 'word' and
    # 'world': ties go against the ground truth.
    assert from_module['lexicon/gt_in_lexicon'] == 0.8
    assert from_module['lexicon/ed_acc'] == 0.4
    assert from_module['lexicon/ed_recall@2'] == 0.8


def test_errors_are_clear(layout, surrogate, tmp_path):
    with pytest.raises(ValueError, match='needs its layout'):
        LexiconMetric(surrogate=surrogate)
    empty = tmp_path / 'empty.txt'
    empty.write_text('\n\n')
    with pytest.raises(ValueError, match='has no words'):
        LexiconMetric(lexicon_file=str(empty))
    metric = LexiconMetric()
    with pytest.raises(ValueError, match="no 'lexicon' and LexiconMetric"):
        metric.process([], samples(['a'], ['a']))
    metric.process([], samples(['a'], ['a'], [['!!']]))
    with pytest.raises(ValueError, match='empty after normalisation'):
        metric.compute_metrics(metric.results)
    other = SequenceLayout(layout.dictionary, 'attention', seq_len=9)
    ckpt = tmp_path / 's.pth'
    torch.save(surrogate_state(surrogate, layout, SURROGATE_CFG), ckpt)
    with pytest.raises(ValueError, match='another metric space'):
        LexiconMetric(surrogate=str(ckpt), layout=other)
