"""Small helpers shared by tools and components."""
import os.path as osp
from typing import Optional

import mmocr
from mmengine.config import Config


def mmocr_dict_file(name_or_path: str) -> str:
    """Resolve a dictionary: an existing path, or a name MMOCR ships in ``dicts/``."""
    if osp.isfile(name_or_path):
        return name_or_path
    shipped = osp.join(osp.dirname(mmocr.__file__), '.mim', 'dicts', name_or_path)
    if osp.isfile(shipped):
        return shipped
    raise FileNotFoundError(
        f'dictionary {name_or_path!r} is neither a file nor one of MMOCR\'s '
        f'dictionaries in {osp.dirname(shipped)}')


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``Config.fromfile`` plus ``--cfg-options`` overrides, as MMOCR's tools do."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg
