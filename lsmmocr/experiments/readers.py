"""Converged readers on the font stream: their validation curve, the
convergence rule of "Readers that read", and shipping one in ``artifacts/``.

A reader is a recognizer config trained by ``tools/train.py`` on the font
stream (``configs/textrecog/*/*_fonts.py``). Shipped, it is loaded by name,
``load_from = 'lsmmocr://readers/<config name>'``, its float16 weights read back
into the float32 model.
"""
import glob
import os.path as osp
import re
import tempfile
from typing import Dict, List, Optional, Tuple

from ..visualization import read_scalar_history
from .artifact_cache import SHIPPED_ROOT, record, ship_weights
from .testing import edit_distance_test

# Validation word accuracy (MMOCR's convention: case and symbols ignored).
ACC = 'Fonts/recog/word_acc_ignore_case_symbol'
PREFIX = 'Fonts'


def validation_curve(work_dir: str, key: str = ACC) -> List[Tuple[int, float]]:
    """``(iteration, value of key)`` of every validation in ``work_dir``
    (all resumed segments); by default word accuracy."""
    return [(r['step'], r[key]) for r in read_scalar_history(work_dir)
            if key in r]


def convergence(curve: List[Tuple[int, float]], window: float = 0.2,
                tolerance: float = 1.0, min_points: int = 3) -> Optional[Dict]:
    """The rule: word accuracy changes by less than ``tolerance`` points over
    the last ``window`` of the iterations run. ``spread`` (points),
    ``converged`` and the ``window``; None before ``min_points`` validations
    fall in it (two points agreeing by chance is no plateau)."""
    if not curve:
        return None
    last = curve[-1][0]
    accs = [acc for step, acc in curve if step >= (1 - window) * last]
    if len(accs) < min_points:
        return None
    spread = 100 * (max(accs) - min(accs))
    return dict(spread=round(spread, 2), converged=spread < tolerance,
                window=[int((1 - window) * last), last])


def best_checkpoint(work_dir: str) -> str:
    """The checkpoint MMEngine's ``save_best`` kept in ``work_dir``."""
    found = glob.glob(osp.join(work_dir, 'best_*_iter_*.pth'))
    if len(found) != 1:
        raise FileNotFoundError(
            f'expected one best_*_iter_*.pth in {work_dir}, found '
            f'{[osp.basename(f) for f in found] or "none"}')
    return found[0]


def checkpoint_iteration(path: str) -> int:
    """The iteration in a checkpoint's name (``iter_8000.pth``)."""
    found = re.search(r'iter_(\d+)\.pth$', path)
    if not found:
        raise ValueError(f'{path}: no iteration in the name (iter_N.pth)')
    return int(found.group(1))


def ship_reader(config: str, work_dir: str, provenance: Dict,
                checkpoint: Optional[str] = None,
                root: str = SHIPPED_ROOT) -> Tuple[str, Dict]:
    """Ship ``checkpoint`` (default: the best on validation) of the run in
    ``work_dir`` as ``readers/<config name>`` in float16, with its validation
    curve, the convergence rule and the metrics of the *shipped* weights on
    the config's test split. Returns its path and manifest entry."""
    checkpoint = checkpoint or best_checkpoint(work_dir)
    name = reader_name(config)
    curve = validation_curve(work_dir)
    entry = dict(provenance, config=config,
                 iteration=checkpoint_iteration(checkpoint),
                 validation_word_acc=[[s, round(a, 4)] for s, a in curve],
                 convergence=convergence(curve))
    path = ship_weights(checkpoint, name, entry, root=root, half=True)
    with tempfile.TemporaryDirectory() as tmp:  # the float16 file as shipped
        entry['test_metrics'] = edit_distance_test(config, path, tmp, PREFIX)
    record(root, name + '.pth', dict(test_metrics=entry['test_metrics']))
    return path, entry


def reader_name(config: str) -> str:
    """The artifact name of ``config``'s reader: ``readers/<config name>``
    (``lsmmocr://`` + it loads the shipped file)."""
    return 'readers/' + osp.splitext(osp.basename(config))[0]
