"""Train a model: MMOCR's ``tools/train.py`` with lsmmocr registered.

Same command line as MMOCR's (``config``, ``--work-dir``, ``--resume``,
``--amp``, ``--auto-scale-lr``, ``--cfg-options``, ``--launcher``); run with
``--help`` for details.
"""
from lsmmocr.cli import run_mmocr_tool

if __name__ == '__main__':
    run_mmocr_tool('train.py')
