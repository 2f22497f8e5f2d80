"""Plots a person would rather look at than read (matplotlib, Agg backend)."""
import json
import os.path as osp
from typing import Dict, List, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .utils import atomic_path  # noqa: E402


def save_figure(fig, path: str, dpi: int = 120) -> None:
    """Save ``fig`` to ``path`` (atomically) and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi)
    plt.close(fig)

def scatter_e_hat(e: np.ndarray, e_hat: np.ndarray, path: str,
                  title: str) -> None:
    """Surrogate ê against the true edit distance e, with the identity."""
    fig, ax = plt.subplots(figsize=(5, 5))
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(e))
    ax.scatter(e + jitter, e_hat, s=4, alpha=0.3)
    top = float(max(e.max(), e_hat.max()))
    ax.plot([0, top], [0, top], 'k--', lw=1)
    ax.set_xlabel('true edit distance e')
    ax.set_ylabel('surrogate ê')
    ax.set_title(title)
    fig.tight_layout()
    save_figure(fig, path)


def _scalar_files(work_dir: str) -> List[str]:
    """Each run's ``vis_data/scalars.json`` in ``work_dir``, oldest first."""
    import glob
    return sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))


def _records(file: str) -> List[Dict]:
    with open(file) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_scalars(work_dir: str) -> List[Dict]:
    """MMEngine's ``vis_data/scalars.json`` records of the newest run."""
    files = _scalar_files(work_dir)
    return _records(files[-1]) if files else []


def read_scalar_history(work_dir: str) -> List[Dict]:
    """Every run's ``vis_data/scalars.json`` records in ``work_dir``, oldest
    first: a run resumed N times wrote N + 1 files; a step logged again by a
    later file (the iterations after the last checkpoint) keeps the later
    record. Validation records take the iteration they followed."""
    by_step: Dict[tuple, Dict] = {}
    for file in _scalar_files(work_dir):
        last_train = 0
        for rec in _records(file):
            if 'lr' in rec:
                last_train = rec['step']
            elif rec['step'] < last_train:
                # Validation logged by epoch (MMEngine's default
                # ``log_metric_by_epoch``) in an iteration-based run: its
                # step is the epoch, 0; use the iteration.
                rec['step'] = last_train
            by_step[(rec['step'], tuple(sorted(rec)))] = rec
    return sorted(by_step.values(), key=lambda r: r['step'])


def plot_curves(runs: Dict[str, str], keys: Sequence[str],
                path: str) -> List[str]:
    """One panel per scalar ``key`` some run logged (a key no run logged,
    e.g. an arm's that did not run, gets no empty panel); one line per run
    (name -> work dir). Returns the keys plotted (none: no file)."""
    records = {name: read_scalars(work_dir) for name, work_dir in runs.items()}
    lines = {key: {name: [r for r in recs if key in r]
                   for name, recs in records.items()} for key in keys}
    lines = {key: {n: rs for n, rs in by_run.items() if rs}
             for key, by_run in lines.items()}
    shown = [key for key in keys if lines[key]]
    if not shown:
        return []
    fig, axes = plt.subplots(1, len(shown), figsize=(5 * len(shown), 3.6),
                             squeeze=False)
    for ax, key in zip(axes[0], shown):
        for name, recs in lines[key].items():
            ax.plot([r['step'] for r in recs], [r[key] for r in recs],
                    label=name)
        ax.set_title(key)
        ax.set_xlabel('iteration')
        ax.legend()
    fig.tight_layout()
    save_figure(fig, path)
    return shown


def image_grid(rows: Dict[str, Sequence[str]], path: str, title: str) -> None:
    """Image files in a grid: one labelled row per entry (name -> files)."""
    cols = max(len(files) for files in rows.values())
    images = {name: [plt.imread(f) for f in files] for name, files in rows.items()}
    h, w = next(iter(images.values()))[0].shape[:2]
    fig, axes = plt.subplots(len(rows), cols, squeeze=False,
                             figsize=(cols * 2.2 * w / h, len(rows) * 2.2 + 0.4))
    for ax_row, (name, imgs) in zip(axes, images.items()):
        for ax in ax_row:
            ax.axis('off')
        for ax, img in zip(ax_row, imgs):
            ax.imshow(img)
        ax_row[0].set_title(name, loc='left', fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
