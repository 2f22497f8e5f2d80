"""Finished artifacts (a trained baseline, a pre-trained h_Φ) shared across work
dirs, the way ``tools/setup_env.sh`` keeps the built mmcv wheel.

An artifact is stored under a key that hashes everything that could change it:
the resolved config or settings, a fingerprint of the data, and the versions
of the packages that compute it (lsmmocr by a hash of its own sources, so an
edited checkout never reuses a stale result). Set ``LSMMOCR_CACHE`` to move
the cache, or to an empty directory to start afresh.
"""
import glob
import hashlib
import json
import os
import os.path as osp
import shutil
from functools import lru_cache
from typing import Callable, Dict, Optional


def cache_root() -> str:
    """``$LSMMOCR_CACHE``, else ``${XDG_CACHE_HOME:-~/.cache}/lsmmocr``."""
    default = osp.join(os.environ.get('XDG_CACHE_HOME') or
                       osp.expanduser('~/.cache'), 'lsmmocr')
    return os.environ.get('LSMMOCR_CACHE') or default


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
    import torch
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


def artifact_key(**parts) -> str:
    """A stable key of ``parts`` (JSON-serialisable) and :func:`versions`."""
    blob = json.dumps(dict(parts, versions=versions()), sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


class ArtifactCache:
    """Files of one ``kind`` (``baseline``, ``surrogate``) by key."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.dir = osp.join(cache_root(), 'artifacts', kind)

    def get(self, key: str) -> Optional[str]:
        """The cached file of ``key``, if there is one."""
        path = osp.join(self.dir, key + '.pth')
        return path if osp.isfile(path) else None

    def put(self, key: str, path: str) -> str:
        """Copy ``path`` into the cache (atomically) and return the copy."""
        os.makedirs(self.dir, exist_ok=True)
        dest = osp.join(self.dir, key + '.pth')
        shutil.copyfile(path, dest + '.tmp')
        os.replace(dest + '.tmp', dest)
        return dest

    def get_or_make(self, key: str, make: Callable[[], str]) -> str:
        """The cached file of ``key``; else ``make()`` (a file path), copied
        into the cache."""
        path = self.get(key)
        if path:
            print(f'{self.kind}: cached {path}', flush=True)
            return path
        return self.put(key, make())
