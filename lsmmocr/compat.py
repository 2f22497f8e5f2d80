"""Fixes to third-party behaviour on today's stack; the only place for them.

PyTorch >= 2.6 makes ``torch.load`` default to ``weights_only=True``. MMEngine
0.10.7 (the last release) calls ``torch.load`` without the argument, so loading
a checkpoint MMEngine itself saved (``--resume``, ``load_from``,
``tools/test.py``) fails with ``Unsupported global: ... HistoryBuffer``. MMEngine
fixed this on master (commit 151a87ab, PR #1670), but no release carries it.

:func:`apply` re-registers MMEngine's loader for *local files only* (the ``''``
scheme of :class:`mmengine.runner.CheckpointLoader`) so that it loads with
``weights_only=False``. Remote schemes (http, open-mmlab://) are left alone:
full unpickling is only enabled for files on this machine, which the user
chose to load. Remove this module once an MMEngine release includes the fix.

albumentations (used by MMOCR's ABINet pipeline through ``mmdet.Albu``) checks
PyPI for a newer release whenever it is imported; :func:`apply` turns that
network call off (``NO_ALBUMENTATIONS_UPDATE=1``) unless the user set it.

MMEngine's ``package::path`` config inheritance knows only OpenMMLab's own
packages (``MODULE2PACKAGE``) and finds a package through its distribution's
location, which is wrong for an editable install (the files stay in the
checkout). :func:`apply` adds ``lsmmocr`` and locates it by its import, so
``_base_ = ['lsmmocr::_base_/lsed_posttune.py']`` reaches the configs shipped
in ``lsmmocr/.mim/configs`` from any directory, installed or editable.
"""
import os
import os.path as osp
from typing import Optional, Union

import mmengine.config.config as mmengine_config
import torch
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.runner.checkpoint import CheckpointLoader

MapLocation = Optional[Union[str, torch.device]]


def load_local_checkpoint(filename: str, map_location: MapLocation = None) -> dict:
    """Load a local checkpoint file with ``weights_only=False``.

    Mirrors ``mmengine.runner.checkpoint.load_from_local`` except for that flag.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)


def _installed_path(package: str, _original=mmengine_config.get_installed_path
                    ) -> str:
    """MMEngine's ``get_installed_path``, lsmmocr found by its import."""
    if package == 'lsmmocr':
        return osp.dirname(osp.abspath(__file__))
    return _original(package)


def apply() -> None:
    """Apply every compatibility fix (idempotent)."""
    os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
    MODULE2PACKAGE.setdefault('lsmmocr', 'lsmmocr')
    mmengine_config.get_installed_path = _installed_path
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)
