# isort: skip_file
"""lsmmocr: learned surrogates of evaluation metrics for MMOCR 1.x.

Importing the package applies the compatibility fixes of :mod:`lsmmocr.compat`
and registers every component in MMOCR's registries (the post-tuning runner in
MMEngine's root runner registry).
"""
from . import compat

compat.apply()

# Registration side effects, after the compat fixes.
from . import (datasets, energy, engine, hooks, losses, metrics, ranking,  # noqa: E402,F401,I001
               registry, surrogates, textdet)
from .version import __version__  # noqa: E402

__all__ = ['__version__']
