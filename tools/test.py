"""Evaluate a checkpoint: MMOCR's ``tools/test.py`` with lsmmocr registered.

Same command line as MMOCR's (``config``, ``checkpoint``, ``--work-dir``,
``--save-preds``, ``--show-dir``, ``--cfg-options``, ``--launcher``, ``--tta``);
run with ``--help`` for details.
"""
from lsmmocr.cli import run_mmocr_tool

if __name__ == '__main__':
    run_mmocr_tool('test.py')
