"""``pip install .`` into a fresh virtual environment, used from another
directory: the package registers every component, ships its configs, and a
user's config inheriting a shipped post-tuning config by ``lsmmocr::`` trains."""
import json
import os
import site
import subprocess
import sys
import venv

import pytest
import torch
from conftest import POSTTUNE_OPTS, REPO

REGISTERED = (
    'import json, lsmmocr, mmocr.registry as r\n'
    'from mmengine.registry import Registry\n'
    'print(json.dumps(sorted(f"{n}.{k}" for n, reg in vars(r).items()\n'
    '    if isinstance(reg, Registry) for k, v in reg.module_dict.items()\n'
    '    if getattr(v, "__module__", "").startswith("lsmmocr"))))\n')


def run(python, cwd, *args, env=None) -> str:
    """``python ARGS`` in ``cwd``; its stdout (its stderr on failure)."""
    proc = subprocess.run([str(python), *args], cwd=cwd, capture_output=True,
                          text=True, env=dict(os.environ, **(env or {})),
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """The Python of a fresh venv with lsmmocr ``pip install``-ed from this
    checkout (dependencies reached through a path file, not installed
    again), and a directory outside the checkout."""
    root = tmp_path_factory.mktemp('installed')
    venv.create(root / 'venv', with_pip=True)
    python = root / 'venv/bin/python'
    purelib = run(python, root, '-c', 'import sysconfig; '
                  'print(sysconfig.get_paths()["purelib"])').strip()
    # Only the project venv's own site-packages: its .pth files (this
    # checkout's editable install among them) are not read from there.
    with open(f'{purelib}/deps.pth', 'w') as f:
        f.write(site.getsitepackages()[0] + '\n')
    subprocess.run([python, '-m', 'pip', 'install', '-q', '--no-deps',
                    '--no-build-isolation', str(REPO)], check=True, cwd=root)
    elsewhere = root / 'elsewhere'
    elsewhere.mkdir()
    return python, elsewhere


def test_import_registers_every_component(installed):
    python, elsewhere = installed
    where = run(python, elsewhere, '-c', 'import lsmmocr; print(lsmmocr.__file__)')
    assert 'site-packages' in where and str(REPO) not in where
    ours = json.loads(subprocess.run([sys.executable, '-c', REGISTERED],
                                     capture_output=True, text=True,
                                     check=True).stdout)
    theirs = json.loads(run(python, elsewhere, '-c', REGISTERED))
    assert theirs == ours and 'HOOKS.LearnedSurrogateHook' in theirs


@pytest.mark.slow
def test_a_user_config_inherits_a_shipped_one_and_trains(installed, synth_root):
    python, elsewhere = installed
    (elsewhere / 'my_crnn.py').write_text(
        "_base_ = ['lsmmocr::textrecog/crnn/crnn_mini-vgg_lsed_synth.py']\n")
    run(python, elsewhere, '-m', 'lsmmocr', 'train', 'my_crnn.py',
        '--work-dir', 'work', '--cfg-options', *POSTTUNE_OPTS,
        'post_tune.overrides.train_cfg.max_iters=1',
        'post_tune.overrides.default_hooks.checkpoint.interval=1',
        env=dict(LSMMOCR_SYNTH_ROOT=str(synth_root)))
    state = torch.load(elsewhere / 'work/iter_1.pth', weights_only=False)
    assert state['lsed_surrogate']['steps'] == 1
