"""Trained models shipped in ``artifacts/``: readers and detectors, their
validation curve, the convergence rule, and shipping one.

A *reader* is a recognizer config trained by ``tools/train.py`` on the font
stream (``configs/textrecog/*/*_fonts.py``), a *detector* a text-detector
config trained on a scene set (``configs/textdet/rbox/*_hard.py``). Shipped
(``tools/ship_model.py``) it is loaded by name, ``load_from =
'lsmmocr://<readers|detectors>/<config name>'``, its float16 weights read back
into the float32 model.
"""
import glob
import os.path as osp
import re
import tempfile
from dataclasses import dataclass
from functools import partial
from typing import Callable, Dict, List, Optional, Tuple

from mmengine.config import Config
from mmocr.models.textrecog.recognizers import BaseRecognizer
from mmocr.registry import MODELS

from ..utils import package_data
from ..visualization import read_scalar_history
from .artifact_cache import SHIPPED_ROOT, record, ship_weights
from .testing import edit_distance_test, matched_iou_test

# Validation word accuracy (MMOCR's convention: case and symbols ignored).
ACC = 'Fonts/recog/word_acc_ignore_case_symbol'
PREFIX = 'Fonts'
# Validation hmean at match IoU 0.5 (MMOCR's HmeanIOUMetric, prefix icdar).
HMEAN = 'icdar/hmean'


@dataclass(frozen=True)
class ModelKind:
    """What shipping a kind of model needs: its artifact folder, the
    validation metric MMEngine logs, the manifest field of its curve, the
    convergence rule's tolerance (points), and its test (config, checkpoint,
    work dir -> figures)."""
    folder: str
    key: str
    curve_field: str
    tolerance: float
    test: Callable[[str, str, str], Dict[str, float]]

    def name(self, config: str) -> str:
        """The artifact name of ``config``'s model, ``<folder>/<config
        name>`` (``lsmmocr://`` + it loads the shipped file)."""
        return f'{self.folder}/' + osp.splitext(osp.basename(config))[0]


READER = ModelKind('readers', ACC, 'validation_word_acc', 1.0,
                   partial(edit_distance_test, prefix=PREFIX))
DETECTOR = ModelKind('detectors', HMEAN, 'validation_hmean', 0.5,
                     matched_iou_test)


def model_kind(config: str) -> ModelKind:
    """:data:`READER` for a recognizer config, :data:`DETECTOR` for a text
    detector's (MMOCR's ``SingleStageTextDetector`` family)."""
    model = Config.fromfile(package_data(config)).get('model', {}).get('type')
    cls = MODELS.get(model) if model else None
    if cls is not None and issubclass(cls, BaseRecognizer):
        return READER
    if cls is not None and issubclass(cls, MODELS.get('SingleStageTextDetector')):
        return DETECTOR
    raise ValueError(f'{config}: model type {model!r} is neither a text '
                     'recognizer nor a single-stage text detector')


def validation_curve(work_dir: str, key: str = ACC) -> List[Tuple[int, float]]:
    """``(iteration, value of key)`` of every validation in ``work_dir``
    (all resumed segments); by default word accuracy."""
    return [(r['step'], r[key]) for r in read_scalar_history(work_dir)
            if key in r]


def convergence(curve: List[Tuple[int, float]], window: float = 0.2,
                tolerance: float = 1.0, min_points: int = 3) -> Optional[Dict]:
    """The rule: the validation metric changes by less than ``tolerance``
    points over the last ``window`` of the iterations run. ``spread``
    (points), ``converged`` and the ``window``; None before ``min_points``
    validations fall in it (two points agreeing by chance is no plateau)."""
    if not curve:
        return None
    last = curve[-1][0]
    values = [v for step, v in curve if step >= (1 - window) * last]
    if len(values) < min_points:
        return None
    spread = 100 * (max(values) - min(values))
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


def ship_model(config: str, work_dir: str, provenance: Dict,
               checkpoint: Optional[str] = None,
               root: str = SHIPPED_ROOT) -> Tuple[str, Dict]:
    """Ship ``checkpoint`` (default: the best on validation) of the run in
    ``work_dir`` as ``<readers|detectors>/<config name>`` in float16, with its
    validation curve, the convergence rule and the figures of the *shipped*
    weights on the config's test split. Returns its path and manifest entry."""
    kind = model_kind(config)
    checkpoint = checkpoint or best_checkpoint(work_dir)
    name = kind.name(config)
    curve = validation_curve(work_dir, kind.key)
    entry = dict(provenance, config=config,
                 iteration=checkpoint_iteration(checkpoint),
                 convergence=convergence(curve, tolerance=kind.tolerance))
    entry[kind.curve_field] = [[s, round(v, 4)] for s, v in curve]
    path = ship_weights(checkpoint, name, entry, root=root, half=True)
    with tempfile.TemporaryDirectory() as tmp:  # the float16 file as shipped
        entry['test_metrics'] = kind.test(config, path, tmp)
    record(root, name + '.pth', dict(test_metrics=entry['test_metrics']))
    return path, entry
