"""Save and load h_Φ together with what it was trained for (any metric)."""
import inspect
from typing import Optional

import torch.nn as nn
from mmocr.registry import MODELS

from ..utils import read_checkpoint
from .surrogate_task import MetricSpace


def build_surrogate(cfg: dict, space: MetricSpace) -> nn.Module:
    """Build h_Φ from ``cfg`` for ``space`` (e.g. a layout's classes and
    length)."""
    return MODELS.build(dict(cfg, **space.surrogate_args()))


def resolved(cfg: dict) -> dict:
    """``cfg`` with the constructor's defaults filled in, so that a later
    change of a default never changes what a checkpoint rebuilds."""
    params = inspect.signature(MODELS.get(cfg['type']).__init__).parameters
    return dict({k: p.default for k, p in params.items()
                 if p.default is not inspect.Parameter.empty}, **cfg)


def surrogate_state(surrogate: nn.Module, space: MetricSpace,
                    cfg: dict) -> dict:
    """A self-describing checkpoint entry: weights, space and architecture
    (:func:`resolved`)."""
    return dict(meta=dict(space.meta(), surrogate=resolved(cfg)),
                state_dict={k: v.cpu() for k, v in
                            surrogate.state_dict().items()})


def check_compatible(state: dict, space: MetricSpace,
                     source: Optional[str] = None,
                     check_targets: bool = False) -> None:
    """Raise ``ValueError`` if ``state`` was made for another space.

    ``check_targets`` also requires the same ground-truth rows
    (``align_targets`` of a sequence layout): what post-tuning needs;
    embedding texts (lexicon retrieval) does not."""
    # Checkpoints from before ``align_targets`` existed used canonical rows.
    want = space.meta()
    have = {'align_targets': False, **state.get('meta', {})}
    have.pop('surrogate', None)
    if not check_targets:
        for meta in (want, have):
            meta.pop('align_targets', None)
    # What only the checkpoint has first: it says which metric it is for.
    keys = [k for k in have if k not in want] + list(want)
    diff = {k: (have.get(k), want.get(k)) for k in keys
            if have.get(k) != want.get(k)}
    if diff:
        lines = '; '.join(f'{k}: checkpoint has {a!r}, model needs {b!r}'
                          for k, (a, b) in diff.items())
        raise ValueError(f'surrogate checkpoint {source or ""} was made for '
                         f'another metric space: {lines}')


def _is_network_state(state: object) -> bool:
    """Whether ``state`` is a :func:`surrogate_state` entry."""
    return (isinstance(state, dict) and 'state_dict' in state
            and 'surrogate' in (state.get('meta') or {}))


def load_surrogate_file(path: str, space: MetricSpace,
                        check_targets: bool = False) -> dict:
    """Read a surrogate checkpoint written by ``tools/train_surrogate.py``
    (or the network entry a post-tuning hook keeps in an MMEngine checkpoint)
    and check it fits ``space`` (see :func:`check_compatible`)."""
    state = read_checkpoint(path, 'surrogate checkpoint')
    if not _is_network_state(state):
        state = next((v for v in state.values() if _is_network_state(v)), state)
    if not _is_network_state(state):
        raise ValueError(
            f'{path} is not a surrogate checkpoint (no h_Φ architecture in '
            f'its meta; top-level keys: {sorted(state)[:6]}): a recognizer '
            'checkpoint without a post-tuning hook?')
    check_compatible(state, space, path, check_targets)
    return state


def load_surrogate(path: str, space: MetricSpace,
                   check_targets: bool = False) -> nn.Module:
    """h_Φ rebuilt from a surrogate checkpoint (its architecture travels with
    its weights), checked to fit ``space``."""
    state = load_surrogate_file(path, space, check_targets)
    surrogate = build_surrogate(state['meta']['surrogate'], space)
    surrogate.load_state_dict(state['state_dict'])
    return surrogate
