"""EditDistanceMetric against MMOCR's metrics and a Python reference."""
import string

from hypothesis import given, settings
from hypothesis import strategies as st
from mmocr.evaluation import OneMinusNEDMetric, WordMetric

from lsmmocr.metrics import EditDistanceMetric, edit_distances

texts = st.text(alphabet=string.ascii_letters + string.digits + '!-. ',
                max_size=12)


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def run(metric, pairs):
    metric.process(None, [dict(pred_text=dict(item=p), gt_text=dict(item=g))
                          for p, g in pairs])
    return metric.compute_metrics(metric.results)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(texts, texts), min_size=1, max_size=20))
def test_matches_mmocr_and_reference(pairs):
    ours = run(EditDistanceMetric(), pairs)
    assert ours['1-N.E.D'] == run(OneMinusNEDMetric(), pairs)['1-N.E.D']
    assert ours['word_acc'] == run(
        WordMetric(mode='ignore_case_symbol'),
        pairs)['word_acc_ignore_case_symbol']

    exact = run(EditDistanceMetric(mode='exact'), pairs)
    eds = [levenshtein(p, g) for p, g in pairs]
    assert exact['total_edit_distance'] == sum(eds)
    assert list(edit_distances(*zip(*pairs))) == eds
    expected_cer = sum(eds) / max(sum(len(g) for _, g in pairs), 1)
    assert abs(exact['cer'] - expected_cer) < 1e-4
    expected_ned = sum(e / max(len(g), 1) for e, (_, g) in zip(eds, pairs))
    assert abs(exact['ned_gt'] - expected_ned / len(pairs)) < 1e-4


def test_edit_distances_validates_lengths():
    import pytest
    with pytest.raises(ValueError, match='2 predictions but 1 targets'):
        edit_distances(['a', 'b'], ['a'])
