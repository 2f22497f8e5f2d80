"""The baseline and h_Φ shipped in artifacts/: found by the default job, and
reproducing the figures their manifest records."""
import json

import pytest
import torch
from conftest import REPO

from lsmmocr.experiments.artifact_cache import SHIPPED_ROOT, ArtifactCache, file_digest
from lsmmocr.experiments.main_job import (JobConfig, baseline_run, ensure_data,
                                          evaluate, held_out_fidelity,
                                          job_surrogate_spec, surrogate_parts)
from lsmmocr.experiments.training_runs import artifact_parts


def manifest_entry(path: str) -> dict:
    with open(REPO / 'artifacts' / 'manifest.json') as f:
        entry = json.load(f)[str(path).replace(SHIPPED_ROOT + '/', '')]
    assert file_digest(path) == entry['sha256'], path
    return entry


@pytest.mark.slow
def test_default_job_finds_its_shipped_artifacts(tmp_path, monkeypatch):
    job = JobConfig(data_root=str(tmp_path / 'data'))
    ensure_data(job)  # rendered afresh: same fingerprint, same baseline key
    monkeypatch.setenv('LSMMOCR_SYNTH_ROOT', job.data_root)
    baseline = ArtifactCache('baseline').shipped(
        artifact_parts(*baseline_run(job)))
    assert baseline, 'the default job has no shipped baseline'
    assert evaluate(job, baseline, str(tmp_path / 'eval')) == \
        manifest_entry(baseline)['test_metrics']
    spec = job_surrogate_spec(job)
    surrogate = ArtifactCache('surrogate').shipped(surrogate_parts(job, spec))
    assert surrogate, 'the default job has no shipped h_Φ'
    fid = held_out_fidelity(spec, surrogate)
    for k, v in manifest_entry(surrogate)['held_out'].items():
        assert fid[k] == pytest.approx(v, rel=1e-4), k


@pytest.mark.parametrize('model', ['crnn', 'aster'])
@pytest.mark.parametrize('weights', [(1.0, 0.0), (0.0, 1.0)])
def test_converged_regime_finds_its_shipped_surrogates(model, weights):
    """h_Φ for each reader's layout, value and rank fits: found by
    ``main_job.py --regime converged`` and reproducing its manifest's held-out
    figures."""
    job = JobConfig(regime='converged', model=model,
                    fit_value_weight=weights[0], fit_rank_weight=weights[1])
    spec = job_surrogate_spec(job)
    assert spec.fit_loss.get('rank_weight', 0.0) == weights[1]
    surrogate = ArtifactCache('surrogate').shipped(surrogate_parts(job, spec))
    assert surrogate, f'no shipped h_Φ for {model} {weights}'
    fid = held_out_fidelity(spec, surrogate)
    for k, v in manifest_entry(surrogate)['held_out'].items():
        assert fid[k] == pytest.approx(v, rel=1e-4), k


def test_shipped_artifact_is_used_after_the_cache_and_can_be_refused(
        tmp_path, monkeypatch):
    monkeypatch.setenv('LSMMOCR_CACHE', str(tmp_path / 'cache'))
    ckpt = tmp_path / 'made.pth'
    torch.save(dict(meta={}, state_dict={'w': torch.ones(2)},
                    optimizer={'big': torch.zeros(100)}), ckpt)
    cache = ArtifactCache('baseline', shipped_root=str(tmp_path / 'shipped'))
    parts = dict(config='c', options=['a=1'], data='d')
    made = []

    def make() -> str:
        made.append(1)
        return str(ckpt)

    shipped = cache.ship(parts, str(ckpt), dict(made_by='test'))
    assert set(torch.load(shipped)) == {'meta', 'state_dict'}  # weights only
    assert cache.get_or_make(parts, make) == shipped and not made
    assert cache.shipped(dict(parts, data='other')) is None
    cached = cache.get_or_make(parts, make, use_shipped=False)
    assert made and cached != shipped
    assert cache.get_or_make(parts, make) == cached  # the cache comes first
    with open(tmp_path / 'shipped' / 'manifest.json') as f:
        assert json.load(f)[shipped.split('shipped/')[1]]['made_by'] == 'test'
