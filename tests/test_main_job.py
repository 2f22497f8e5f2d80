"""A tiny end-to-end run of the main job, as `make demo` runs it."""
import json
import math

import pytest
from conftest import REPO, run_tool


@pytest.mark.slow
def test_main_job_writes_a_finite_report(tmp_path):
    work = tmp_path / 'job'
    run_tool(['tools/main_job.py', '--preset', 'quick', '--work-dir', str(work),
              '--data-root', str(tmp_path / 'data')], REPO, timeout=900)
    report = json.loads((work / 'report.json').read_text())
    for run in ('baseline', 'control', 'lsed'):
        for metric, (mean, std) in report['summary'][run].items():
            assert math.isfinite(mean) and math.isfinite(std), (run, metric)
    assert math.isfinite(report['summary']['ted_change_vs_control'][0])
    md = (work / 'report.md').read_text()
    assert '| lsed |' in md and 'vs control' in md
    assert (work / 'seed0' / 'curves.png').stat().st_size > 1000
    assert (work / 'surrogate_scatter.png').stat().st_size > 1000
