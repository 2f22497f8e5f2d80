"""Run MMOCR's own command-line tools with lsmmocr's components registered:
``lsmmocr train CONFIG ...`` (also ``python -m lsmmocr``), the same as
``tools/train.py`` in a checkout."""
import argparse
import functools
import os.path as osp
import runpy
import sys
from typing import Callable, Iterable, List, Optional

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
    sys.argv = list(argv)
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


def _flag(parser: argparse.ArgumentParser, dest: str) -> str:
    """How the user wrote argument ``dest`` (``--num-train``, or a
    positional's name)."""
    for action in parser._actions:
        if action.dest == dest:
            return max(action.option_strings, key=len, default=dest)
    return dest


def _nearest_existing(path: str) -> str:
    """``path``, or its nearest ancestor that exists."""
    path = osp.abspath(path)
    while not osp.exists(path):
        path = osp.dirname(path)
    return path


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace,
               positive: Iterable[str] = (), non_negative: Iterable[str] = (),
               files: Iterable[str] = (), out_dirs: Iterable[str] = (),
               out_files: Iterable[str] = ()) -> None:
    """``parser.error`` (exit status 2, the argument named) unless every
    given argument (by ``dest``; unset ones are skipped) is a positive or
    non-negative number, an existing file, or a place an output directory or
    file can be made (not an existing file / directory in its way)."""
    def values(dests):
        for dest in dests:
            value = getattr(args, dest)
            for v in value if isinstance(value, list) else [value]:
                if v is not None:
                    yield _flag(parser, dest), v

    for flag, v in values(positive):
        if v <= 0:
            parser.error(f'{flag} must be positive, got {v}')
    for flag, v in values(non_negative):
        if v < 0:
            parser.error(f'{flag} must be >= 0, got {v}')
    for flag, v in values(files):
        if not osp.isfile(v):
            parser.error(f'{flag}: no such file: {v}')
    for flag, v in values(out_dirs):
        path = _nearest_existing(v)
        if not osp.isdir(path):
            parser.error(f'{flag}: {path} is a file, not a directory')
    for flag, v in values(out_files):
        if osp.isdir(v):
            parser.error(f'{flag}: {v} is a directory, not a file')
        parent = _nearest_existing(osp.dirname(osp.abspath(v)))
        if not osp.isdir(parent):
            parser.error(f'{flag}: {parent} is a file, not a directory')
