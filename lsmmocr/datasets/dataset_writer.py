"""Write rendered samples as an MMOCR 1.x dataset: images plus one JSON."""
import os
import os.path as osp
from typing import Callable, Dict, List, Tuple

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from ..utils import write_json

# index -> (BGR image, the sample's annotation without its img_path)
Record = Callable[[int], Tuple[np.ndarray, dict]]


def write_split(out_dir: str, task: str, split: str, num: int,
                record: Record, metainfo: dict) -> str:
    """Write samples ``0 .. num - 1`` of ``record`` as
    ``imgs/<split>/<index>.jpg`` and ``<task>_<split>.json`` (written last,
    atomically: an interrupted run leaves no half file).

    Returns:
        str: Path of the annotation file.
    """
    img_dir = osp.join(out_dir, 'imgs', split)
    os.makedirs(img_dir, exist_ok=True)
    data_list: List[Dict] = []
    bar = ProgressBar(num) if num > 0 else None
    for i in range(num):
        img, entry = record(i)
        rel = f'imgs/{split}/{i:07d}.jpg'
        cv2.imwrite(osp.join(out_dir, rel), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        data_list.append(dict(img_path=rel, **entry))
        if bar is not None:
            bar.update()
    ann_file = osp.join(out_dir, f'{task}_{split}.json')
    write_json(ann_file, dict(metainfo=metainfo, data_list=data_list))
    return ann_file
