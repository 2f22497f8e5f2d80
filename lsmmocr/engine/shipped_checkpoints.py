"""Shipped weights by name: ``load_from = 'lsmmocr://readers/crnn_mini-vgg_fonts'``.

The plugin registers the ``lsmmocr://`` scheme with MMEngine's
:class:`~mmengine.runner.CheckpointLoader`, the way MMEngine resolves
``open-mmlab://`` and ``torchvision://`` names: ``lsmmocr://<kind>/<name>`` is
the package's ``artifacts/<kind>/<name>.pth``, whose provenance and figures
``artifacts/manifest.json`` records. Nothing is downloaded: the files ship
with the package.
"""
import json
import os.path as osp
from typing import List

from mmengine.runner import CheckpointLoader

from ..utils import package_data, read_checkpoint

SCHEME = 'lsmmocr://'


def shipped_names() -> List[str]:
    """The names of the shipped artifacts (``readers/crnn_mini-vgg_fonts``)."""
    manifest = package_data('artifacts', 'manifest.json')
    if not osp.isfile(manifest):
        return []
    with open(manifest) as f:
        return sorted(k.removesuffix('.pth') for k in json.load(f))


def shipped_path(uri: str) -> str:
    """The local file of a ``lsmmocr://`` name; any other path as it is."""
    if not uri.startswith(SCHEME):
        return uri
    name = uri[len(SCHEME):].removesuffix('.pth')
    path = package_data('artifacts', name + '.pth')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{uri}: no shipped artifact {name!r} in '
            f'{package_data("artifacts")}; shipped: '
            f'{", ".join(shipped_names()) or "none"}')
    return path


@CheckpointLoader.register_scheme(prefixes=SCHEME)
def load_from_shipped(filename: str, map_location=None) -> dict:
    """MMEngine's loader of ``lsmmocr://`` names (on the CPU; the runner
    moves the model)."""
    return read_checkpoint(shipped_path(filename), 'shipped checkpoint')
