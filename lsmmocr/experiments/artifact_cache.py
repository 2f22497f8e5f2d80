"""Finished artifacts (a trained baseline, a pre-trained h_Φ) shared across work
dirs, the way ``tools/setup_env.sh`` keeps the built mmcv wheel.

An artifact is stored under a key that hashes everything that could change it:
the resolved config or settings, a fingerprint of the data, and the versions
of the packages that compute it (lsmmocr by a hash of its own sources, so an
edited checkout never reuses a stale result). Set ``LSMMOCR_CACHE`` to move
the cache, or to an empty directory to start afresh.

The repository also *ships* the default job's artifacts (``artifacts/``,
weights only, written by ``tools/ship_artifacts.py``), so a fresh clone's
first run post-tunes at once. Shipped files are keyed by what made them
(config, options, data) without the package versions: they are the project's
reference results, with their provenance in ``artifacts/manifest.json``.
"""
import glob
import hashlib
import json
import os.path as osp
import shutil
import subprocess
from functools import lru_cache
from typing import Callable, Dict, Optional

import torch

from ..surrogates.pretrain import pretrain_surrogate
from ..surrogates.surrogate_task import SurrogateTask
from ..utils import (atomic_path, cache_root, package_data, read_checkpoint,
                     save_atomic, write_json)

SHIPPED_ROOT = package_data('artifacts')
# What a shipped checkpoint keeps: what loading it (not resuming) reads.
SHIPPED_ENTRIES = ('meta', 'state_dict')


def _sha256_files(paths) -> str:
    """Hash of the files' names and contents."""
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(osp.basename(path).encode())
        h.update(file_digest(path).encode())
    return h.hexdigest()


def file_digest(path: str) -> str:
    """SHA-256 of a file's contents."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


@lru_cache()
def versions() -> Dict[str, str]:
    """Versions of the packages that train and evaluate (lsmmocr: a hash of
    its sources)."""
    import mmcv
    import mmengine
    import mmocr
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    sources = glob.glob(osp.join(package, '**', '*.py'), recursive=True)
    return dict(torch=torch.__version__, mmcv=mmcv.__version__,
                mmengine=mmengine.__version__, mmocr=mmocr.__version__,
                lsmmocr=_sha256_files(sources)[:16])


def data_fingerprint(data_root: str) -> str:
    """Hash of a synthetic dataset's annotation files (which name every
    image; the renderer is covered by lsmmocr's source hash)."""
    files = glob.glob(osp.join(data_root, 'textrecog_*.json'))
    if not files:
        raise FileNotFoundError(f'no textrecog_*.json annotations in {data_root}')
    return _sha256_files(files)


def _digest(obj: dict) -> str:
    blob = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def checkout_commit() -> str:
    """The short commit of the checkout the package runs from ('' when
    installed outside one)."""
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    return subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                          cwd=package, capture_output=True,
                          text=True).stdout.strip()


def artifact_key(**parts) -> str:
    """A stable key of ``parts`` (JSON-serialisable) and :func:`versions`."""
    return _digest(dict(parts, versions=versions()))


def shipped_key(**parts) -> str:
    """The key of a shipped artifact: ``parts`` alone."""
    return _digest(parts)


class ArtifactCache:
    """Files of one ``kind`` (``baseline``, ``surrogate``) by key; the
    shipped ones under ``shipped_root``."""

    def __init__(self, kind: str, shipped_root: str = SHIPPED_ROOT) -> None:
        self.kind = kind
        self.dir = osp.join(cache_root(), 'artifacts', kind)
        self.shipped_dir = osp.join(shipped_root, kind)

    def get(self, key: str) -> Optional[str]:
        """The cached file of ``key``, if there is one."""
        path = osp.join(self.dir, key + '.pth')
        return path if osp.isfile(path) else None

    def put(self, key: str, path: str) -> str:
        """Copy ``path`` into the cache (atomically) and return the copy."""
        dest = osp.join(self.dir, key + '.pth')
        with atomic_path(dest) as tmp:
            shutil.copyfile(path, tmp)
        return dest

    def shipped(self, parts: Dict) -> Optional[str]:
        """The shipped file made from ``parts``, if there is one."""
        path = osp.join(self.shipped_dir, shipped_key(**parts) + '.pth')
        return path if osp.isfile(path) else None

    def get_or_make(self, parts: Dict, make: Callable[[], str],
                    use_shipped: bool = True) -> str:
        """The cached file made from ``parts`` (with these package versions);
        else the shipped one (if ``use_shipped``); else ``make()`` (a file
        path), copied into the cache."""
        key = artifact_key(**parts)
        path = self.get(key)
        if path:
            print(f'{self.kind}: cached {path}', flush=True)
            return path
        path = self.shipped(parts) if use_shipped else None
        if path:
            print(f'{self.kind}: shipped {path} (made by '
                  'tools/ship_artifacts.py; see artifacts/manifest.json)',
                  flush=True)
            return path
        return self.put(key, make())

    def ship(self, parts: Dict, path: str, provenance: Dict) -> str:
        """Write ``path``'s weights as the shipped artifact of ``parts`` and
        record it, with ``provenance``, in the manifest."""
        return ship_weights(path, f'{self.kind}/{shipped_key(**parts)}',
                            provenance, root=osp.dirname(self.shipped_dir))


def cached_surrogate(task: SurrogateTask, work_dir: str, parts: Dict,
                     use_shipped: bool = True, **pretrain_args) -> str:
    """Pre-train ``task``'s h_Φ into ``<work_dir>/surrogate.pth``
    (resumable; ``pretrain_args`` for :func:`pretrain_surrogate`), or take it
    from the cache (or the shipped artifacts, if ``use_shipped``) when the
    settings ``parts`` made it before."""

    def make() -> str:
        path = osp.join(work_dir, 'surrogate.pth')
        pretrain_surrogate(task, path, resume=True, **pretrain_args)
        return path

    return ArtifactCache('surrogate').get_or_make(parts, make, use_shipped)


def _half(state_dict: Dict) -> Dict:
    """``state_dict`` with its float32 tensors stored as float16 (loading
    copies them back into the model's float32 parameters)."""
    return {k: v.half() if torch.is_tensor(v) and v.dtype == torch.float32
            else v for k, v in state_dict.items()}


def ship_weights(path: str, name: str, provenance: Dict,
                 root: str = SHIPPED_ROOT, half: bool = False) -> str:
    """Write checkpoint ``path``'s weights (:data:`SHIPPED_ENTRIES`; float16
    if ``half``) as ``<root>/<name>.pth`` and record it in
    ``<root>/manifest.json`` with ``provenance``, its source, SHA-256 and the
    package versions."""
    state = read_checkpoint(path)
    missing = [k for k in SHIPPED_ENTRIES if k not in state]
    if missing:
        raise ValueError(f'{path} has no {missing}: not a checkpoint')
    state = {k: state[k] for k in SHIPPED_ENTRIES}
    if half:
        state['state_dict'] = _half(state['state_dict'])
    dest = osp.join(root, name + '.pth')
    save_atomic(state, dest)
    record(root, name + '.pth', dict(
        provenance, source=osp.basename(path), sha256=file_digest(dest),
        versions=versions()), merge=False)
    return dest


def record(root: str, key: str, fields: Dict, merge: bool = True) -> None:
    """Add ``fields`` to ``key``'s entry of ``<root>/manifest.json`` (or,
    unless ``merge``, make them the entry)."""
    manifest = osp.join(root, 'manifest.json')
    entries = {}
    if osp.isfile(manifest):
        with open(manifest) as f:
            entries = json.load(f)
    entries[key] = dict(entries.get(key, {}) if merge else {}, **fields)
    write_json(manifest, entries, indent=2, sort_keys=True)
