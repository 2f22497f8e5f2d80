"""Shared fixtures: a tiny generated dataset and a runner for the real tools."""
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from lsmmocr.datasets import make_synth_dataset
from lsmmocr.utils import mmocr_dict_file

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / 'configs'


@pytest.fixture(scope='session')
def synth_root(tmp_path_factory) -> Path:
    """A tiny synthetic dataset (16 train, 8 val, 8 test crops)."""
    root = tmp_path_factory.mktemp('synth')
    make_synth_dataset(
        str(root), mmocr_dict_file('lower_english_digits.txt'),
        dict(train=16, val=8, test=8), seed=0, max_len=8)
    return root


def run_tool(args: List[str], cwd: Path,
             env: Optional[Dict[str, str]] = None,
             timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``python <args>`` from the repository as a user would; fail loudly."""
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', **(env or {}))
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(
            f'{" ".join(args)} exited {proc.returncode}\n'
            f'--- stdout ---\n{proc.stdout[-6000:]}\n'
            f'--- stderr ---\n{proc.stderr[-6000:]}')
    return proc


def train_tool(args: List[str], env: Dict[str, str],
               expect_kill: bool = False) -> None:
    """``tools/train.py <args>`` as a user runs it; with ``expect_kill``, the
    run must end by SIGKILL (see :func:`killed_config`)."""
    if not expect_kill:
        run_tool(['tools/train.py', *args], REPO, env)
        return
    proc = subprocess.run([sys.executable, 'tools/train.py', *args], cwd=REPO,
                          env=dict(os.environ, **env), capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]


def killed_config(tmp_path: Path, base: str, iteration: int = 2) -> Path:
    """A config that is ``base`` plus a hook that SIGKILLs the training
    process right after iteration ``iteration``'s checkpoint (``tests/
    kill_hook.py``; ``tests`` must be on ``PYTHONPATH``)."""
    path = tmp_path / 'killed.py'
    path.write_text(
        f"_base_ = ['{base}']\n"
        "custom_imports = dict(imports=['lsmmocr', 'kill_hook'])\n"
        f"custom_hooks = [dict(type='SigkillAfterIter', iteration={iteration})]\n")
    return path


def tiny_cfg(cfg_path: str, synth_root: Path, work_dir: Path, iters: int = 2,
             batch_size: int = 2, **overrides):
    """A post-tuning config on the tiny generated data: ``iters`` iterations,
    no validation, no worker processes, a fixed seed."""
    from mmengine.config import Config

    from lsmmocr.utils import train_on_synth_split
    cfg = train_on_synth_split(Config.fromfile(cfg_path), synth_root, batch_size)
    # merge_from_dict keeps the base's `_delete_` markers (ConfigDict.merge
    # would drop them).
    over = 'post_tune.overrides.'
    cfg.merge_from_dict({
        over + 'train_cfg.max_iters': iters,
        over + 'train_cfg.val_interval': 10**6,
        over + 'default_hooks.checkpoint.interval': iters,
        'default_hooks.logger.interval': 1,
    })
    cfg.update(work_dir=str(work_dir), randomness=dict(seed=0), load_from=None)
    cfg.merge_from_dict(overrides)
    return cfg


POSTTUNE_OPTS = ['post_tune.overrides.train_cfg.val_interval=1000',
                 'post_tune.overrides.default_hooks.checkpoint.interval=2',
                 'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
                 'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
                 'randomness.seed=0']


def posttune_tool(work: Path, iters: int, synth_root: Path, config,
                  resume: bool = False, expect_kill: bool = False,
                  options: List[str] = ()):
    """Post-tuning by ``tools/train.py`` as a user runs it (checkpoints every
    2 iterations); the final checkpoint (a dict)."""
    import torch
    args = [str(config), '--work-dir', str(work)]
    args += ['--resume'] if resume else []
    args += ['--cfg-options', *POSTTUNE_OPTS, *options,
             'post_tune.overrides.train_cfg.max_iters=%d' % iters]
    train_tool(args, dict(LSMMOCR_SYNTH_ROOT=str(synth_root),
                          PYTHONPATH=str(REPO / 'tests')), expect_kill)
    if not expect_kill:
        return torch.load(work / f'iter_{iters}.pth', weights_only=False)


def assert_same_state(a: dict, b: dict):
    """Two state dicts are equal, key for key, bit for bit."""
    import torch
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.fixture(scope='session')
def baseline(synth_root, tmp_path_factory) -> Path:
    """A proxy-trained CRNN (3 CTC iterations): the post-tuning start."""
    work = tmp_path_factory.mktemp('baseline')
    run_tool(['tools/train.py', str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_synth.py'),
              '--work-dir', str(work), '--cfg-options',
              'train_cfg.max_iters=3', 'train_cfg.val_interval=100',
              'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
              'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
              'default_hooks.checkpoint.interval=3', 'randomness.seed=0'],
             REPO, dict(LSMMOCR_SYNTH_ROOT=str(synth_root)))
    return work / 'iter_3.pth'


def post_tune_final(config: str, synth_root: Path, work_dir: Path, **options):
    """Final recognizer weights, the hook's network (h_Φ or E_ψ; None without
    a hook) and the message hub of a 3-step post-tuning run in-process."""
    from lsmmocr.engine import PostTuneRunner
    from lsmmocr.hooks import AttachedNetworkHook
    cfg = tiny_cfg(config, synth_root, work_dir, iters=3, **options)
    runner = PostTuneRunner.from_cfg(cfg)
    runner.train()
    hooks = [h for h in runner.hooks if isinstance(h, AttachedNetworkHook)]
    phi = hooks[0].network.state_dict() if hooks else None
    return runner.model.state_dict(), phi, runner.message_hub
