"""lsmmocr: learned surrogates of evaluation metrics for MMOCR 1.x.

Importing the package applies the compatibility fixes of :mod:`lsmmocr.compat`
and registers every component in MMOCR's registries.
"""
from . import compat

compat.apply()

from . import datasets  # noqa: E402,F401  (registers components)
from .version import __version__  # noqa: E402

__all__ = ['__version__']
