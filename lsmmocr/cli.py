"""Run MMOCR's own command-line tools with lsmmocr's components registered:
``lsmmocr train CONFIG ...`` (also ``python -m lsmmocr``), the same as
``tools/train.py`` in a checkout."""
import functools
import os.path as osp
import runpy
import sys
from typing import Callable, List, Optional

import mmocr


def mmocr_tool_path(name: str) -> str:
    """Path of ``tools/<name>`` shipped inside the mmocr wheel (``.mim``)."""
    path = osp.join(osp.dirname(mmocr.__file__), '.mim', 'tools', name)
    if not osp.isfile(path):
        raise FileNotFoundError(f'mmocr {mmocr.__version__} ships no {path}')
    return path


def run_mmocr_tool(name: str) -> None:
    """Execute MMOCR's ``tools/<name>`` as ``__main__`` with the current argv.

    Importing :mod:`lsmmocr` first registers the plugin's components and
    applies :mod:`lsmmocr.compat`, so configs need no ``custom_imports``.
    Distributed runs without CUDA get gloo and the CPU DDP wrapper
    (:mod:`lsmmocr.engine.cpu_ddp`). After a successful distributed run the
    process group, MMEngine's included, is finished cleanly
    (:func:`~lsmmocr.engine.finish_distributed`).
    """
    import lsmmocr  # noqa: F401  (registration and compat fixes)
    from lsmmocr.engine import finish_distributed, init_cpu_distributed
    path = mmocr_tool_path(name)
    sys.argv[0] = path
    if '--launcher' in sys.argv and init_cpu_distributed():
        sys.argv += ['--cfg-options',
                     'model_wrapper_cfg.type=CPUDistributedDataParallel']
    runpy.run_path(path, run_name='__main__')
    finish_distributed()


TOOLS = {'train': 'train.py', 'test': 'test.py'}


def main(argv: Optional[List[str]] = None) -> None:
    """``lsmmocr {train,test} ARGS``: MMOCR's tool of that name (``ARGS`` as
    it takes them; ``lsmmocr train --help``)."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in TOOLS:
        sys.exit(f'usage: lsmmocr {{{",".join(TOOLS)}}} ARGS  (MMOCR\'s '
                 'tools/train.py and tools/test.py with lsmmocr registered; '
                 'lsmmocr train --help)')
    sys.argv = [argv[0], *argv[1:]]
    run_mmocr_tool(TOOLS[argv[0]])


def user_errors_exit(main: Callable[[], None]) -> Callable[[], None]:
    """Run a tool's ``main``; a bad input it reports (a missing file, a
    value or key at fault: ``FileNotFoundError``, ``ValueError``,
    ``KeyError``) ends the process with ``<tool>: error: <message>`` and
    exit status 2, as argparse does, instead of a traceback."""

    @functools.wraps(main)
    def run() -> None:
        try:
            main()
        except (FileNotFoundError, ValueError, KeyError) as e:
            message = e.args[0] if isinstance(e, KeyError) and e.args else e
            sys.exit(f'{osp.basename(sys.argv[0])}: error: {message}')

    return run
