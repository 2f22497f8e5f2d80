"""Bad input to the tools: one clear error naming what is at fault, a
non-zero exit, and nothing written. (Each case starts a Python process that
imports MMOCR: a few seconds each, so one case per kind of check.)"""
import subprocess
import sys

import pytest
from conftest import CONFIGS, REPO

LSED = str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_lsed_synth.py')
SHIPPED = sorted((REPO / 'artifacts').glob('*/*.pth'))  # baseline, surrogate

CASES = [  # (tool arguments, text the error must contain)
    (['tools/make_synth_data.py', '--num-train', '-5'],
     '--num-train must be >= 0, got -5'),
    (['tools/make_synth_data.py', '--render', 'shiny'], "invalid choice: 'shiny'"),
    (['tools/font_corpus.py', '--per-split', '0'], '--per-split must be positive'),
    (['benchmarks/dist_exit_stress.py', '--runs', '0'], '--runs must be positive'),
    (['tools/eval_surrogate.py', LSED, '{tmp}/truncated.pth'],
     'truncated.pth is not a readable PyTorch checkpoint'),
    (['tools/eval_surrogate.py', LSED, str(SHIPPED[0])],
     f'{SHIPPED[0]} is not a surrogate checkpoint'),
]


@pytest.mark.parametrize('args,message', CASES,
                         ids=[' '.join(a[1:]) for a, _ in CASES])
def test_bad_argument_is_named_and_nothing_is_written(tmp_path, args, message):
    out = tmp_path / 'out'
    # The shipped surrogate, cut short.
    (tmp_path / 'truncated.pth').write_bytes(SHIPPED[1].read_bytes()[:100_000])
    args = [a.replace('{tmp}', str(tmp_path)) for a in args]
    extra = ['--out-dir', str(out)] if 'make_synth_data' in args[0] or (
        'eval_surrogate' in args[0]) else []
    proc = subprocess.run([sys.executable, *args, *extra], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr
    assert not out.exists()
