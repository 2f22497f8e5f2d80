"""Training runs as a user runs them: ``tools/train.py`` in a subprocess,
followed on one progress line, a finished run reused by its config and
options (or, with cache parts, from the artifact cache or the shipped
artifacts)."""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
from typing import Dict, List, Optional

from mmengine.config import Config

from ..engine import SCHEME
from ..utils import package_data, write_json
from .artifact_cache import SHIPPED_ROOT, ArtifactCache
from .stages import progress_line


def finished_run(work_dir: str, run: dict) -> Optional[str]:
    """The final checkpoint of a finished run in ``work_dir`` (which may have
    been copied from elsewhere) of the same config and options, if any."""
    try:
        with open(osp.join(work_dir, 'run.json')) as f:
            same = json.load(f) == run
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            ckpt = osp.join(work_dir, osp.basename(f.read().strip()))
    except FileNotFoundError:
        return None
    return ckpt if same and osp.isfile(ckpt) else None


ITER = re.compile(r'Iter\(train\) \[\s*(\d+)/(\d+)\]')


def _follow(proc: subprocess.Popen, log, label: str) -> None:
    """Copy a training run's output to ``log``; one progress line on the
    terminal (redrawn in place; every 30 s when the output is not a
    terminal): iteration, elapsed time, ETA."""
    t0, shown, tty = time.time(), 0.0, sys.stdout.isatty()
    for line in proc.stdout:
        log.write(line)
        m = ITER.search(line)
        if m and (tty or time.time() - shown >= 30 or m[1] == m[2]):
            shown = time.time()
            print(('\r' if tty else '') + progress_line(
                label, int(m[1]), int(m[2]), shown - t0),
                end='' if tty else '\n', flush=True)
    if tty:
        print()


def config_text(cfg: str) -> str:
    """The text of ``cfg`` and of its bases, without their file paths."""
    text = Config.fromfile(package_data(cfg))._text
    return '\n'.join(line for line in text.splitlines()
                     if not osp.isfile(line))


def run_record(cfg: str, options: List[str]) -> Dict:
    """What identifies a training run in its work dir's ``run.json``: its
    config and options, a shipped artifact by its ``lsmmocr://`` name rather
    than this checkout's path (another copy of the source reuses the run)."""
    root = osp.join(SHIPPED_ROOT, '')
    return dict(config=cfg, options=[o.replace(root, SCHEME) for o in options])


def train(cfg: str, work_dir: str, options: List[str], label: str,
          cache: Optional[Dict] = None, use_shipped: bool = True) -> str:
    """Run ``tools/train.py`` and return the final checkpoint path; a run
    already finished in ``work_dir`` with the same config and options is
    reused. ``cache``: what else identifies the result (data, the start
    checkpoint): it is then shared across work dirs (:class:`ArtifactCache`),
    or taken from the shipped artifacts if ``use_shipped``."""
    run = run_record(cfg, options)
    done = finished_run(work_dir, run)
    if done:
        print(f'{label}: reusing {done} (same config and options)', flush=True)
        return done
    if cache is None:
        return _run_training(cfg, work_dir, options, run, label)
    return ArtifactCache(label).get_or_make(
        artifact_parts(cfg, options, cache),
        lambda: _run_training(cfg, work_dir, options, run, label), use_shipped)


def artifact_parts(cfg: str, options: List[str], cache: Dict) -> Dict:
    """What identifies a training run's result across work dirs."""
    return dict(config=config_text(cfg), options=options, **cache)


def _run_training(cfg: str, work_dir: str, options: List[str], run: Dict,
                  label: str) -> str:
    """``lsmmocr train`` (``tools/train.py``) in a subprocess, followed, its
    ``run.json`` written first; its final checkpoint."""
    cmd = [sys.executable, '-m', 'lsmmocr', 'train',
           package_data(cfg), '--work-dir', work_dir, '--cfg-options', *options]
    print('$', ' '.join(cmd), flush=True)
    clear_stale_checkpoints(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    write_json(osp.join(work_dir, 'run.json'), run)
    with open(osp.join(work_dir, 'stdout.log'), 'w') as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                env=dict(os.environ, PYTHONUNBUFFERED='1'))
        _follow(proc, log, label)
    if proc.wait() != 0:
        raise RuntimeError(f'training failed; see {work_dir}/stdout.log')
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def clear_stale_checkpoints(work_dir: str) -> None:
    """Delete the checkpoints an earlier, different (or unfinished) run left
    in ``work_dir``: a new run does not replace another run's best
    checkpoint, and its own would be ambiguous."""
    stale = glob.glob(osp.join(work_dir, '*.pth'))
    last = osp.join(work_dir, 'last_checkpoint')
    for path in stale + ([last] if osp.isfile(last) else []):
        os.remove(path)
    if stale:
        print(f'{work_dir}: removed {len(stale)} checkpoint(s) of an earlier '
              'run with other settings', flush=True)
