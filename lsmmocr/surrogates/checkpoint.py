"""Save and load h_Φ together with what it was trained for."""
from typing import Optional

import torch
import torch.nn as nn
from mmocr.registry import MODELS

from .sequence_layout import SequenceLayout


def build_surrogate(cfg: dict, layout: SequenceLayout) -> nn.Module:
    """Build h_Φ from ``cfg`` for the classes and length of ``layout``."""
    return MODELS.build(dict(cfg, num_classes=layout.num_classes,
                             seq_len=layout.seq_len))


def surrogate_state(surrogate: nn.Module, layout: SequenceLayout,
                    cfg: dict) -> dict:
    """A self-describing checkpoint entry: weights, layout and architecture."""
    return dict(meta=dict(layout.meta(), surrogate=dict(cfg)),
                state_dict={k: v.cpu() for k, v in
                            surrogate.state_dict().items()})


def check_compatible(state: dict, layout: SequenceLayout,
                     source: Optional[str] = None,
                     check_targets: bool = False) -> None:
    """Raise ``ValueError`` if ``state`` was made for another layout.

    ``check_targets`` also requires the same ground-truth rows
    (``align_targets``): what post-tuning needs; embedding texts (lexicon
    retrieval) does not."""
    # Checkpoints from before ``align_targets`` existed used canonical rows.
    want = layout.meta()
    have = {'align_targets': False, **state.get('meta', {})}
    if not check_targets:
        want.pop('align_targets')
    diff = {k: (have.get(k), v) for k, v in want.items() if have.get(k) != v}
    if diff:
        lines = '; '.join(f'{k}: checkpoint has {a!r}, model needs {b!r}'
                          for k, (a, b) in diff.items())
        raise ValueError(f'surrogate checkpoint {source or ""} was made for '
                         f'another dictionary, length or target rows: {lines}')


def load_surrogate_file(path: str, layout: SequenceLayout,
                        check_targets: bool = False) -> dict:
    """Read a surrogate checkpoint written by ``tools/train_surrogate.py``
    (or the ``lsed_surrogate`` entry of a post-tuning checkpoint) and check
    it fits ``layout`` (see :func:`check_compatible`)."""
    state = torch.load(path, map_location='cpu', weights_only=False)
    state = state.get('lsed_surrogate', state)
    if 'state_dict' not in state:
        raise ValueError(f'{path} is not a surrogate checkpoint')
    check_compatible(state, layout, path, check_targets)
    return state


def load_surrogate(path: str, layout: SequenceLayout,
                   check_targets: bool = False) -> nn.Module:
    """h_Φ rebuilt from a surrogate checkpoint (its architecture travels with
    its weights), checked to fit ``layout``."""
    state = load_surrogate_file(path, layout, check_targets)
    surrogate = build_surrogate(state['meta']['surrogate'], layout)
    surrogate.load_state_dict(state['state_dict'])
    return surrogate
