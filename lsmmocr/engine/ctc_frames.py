"""The number of frames a config's CTC decoder emits, found by running it.

The frame count follows from the backbone's strides and the training
pipeline's image size, and differs within a family (MMOCR's SVTR-tiny and
-small emit 25 frames, SVTR-base and -large 40). Rather than have users type
it, :func:`ctc_frames` builds the config's recognizer (random weights) and runs
it once on a blank crop passed through the training pipeline.
"""
from typing import Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope
from mmocr.registry import MODELS

# Two blank crops of different widths: a fixed-size pipeline gives both the
# same frame count; a keep-ratio one (frames grow with the width) does not.
PROBE_SIZES: Tuple[Tuple[int, int], ...] = ((32, 100), (48, 400))


def _pipeline(cfg: Config) -> Tuple[Compose, bool]:
    """The training pipeline without its loaders (the crop is made here),
    and whether it loads grayscale images."""
    pipeline = cfg.get('train_pipeline')
    if not pipeline:
        raise KeyError(f'{cfg.filename}: no train_pipeline to find the CTC '
                       'frame count from; set post_tune.module_loss.ctc_seq_len')
    gray = any(t.get('color_type') == 'grayscale' for t in pipeline
               if t['type'] == 'LoadImageFromFile')
    return Compose([t for t in pipeline
                    if not t['type'].startswith('Load')]), gray


def _probe(pipeline: Compose, gray: bool, size: Tuple[int, int]) -> dict:
    h, w = size
    img = np.full((h, w) if gray else (h, w, 3), 255, np.uint8)
    sample = pipeline(dict(img=img, img_path='', ori_shape=(h, w),
                           img_shape=(h, w), pad_shape=(h, w),
                           gt_texts=['a'], instances=[dict(text='a')]))
    return dict(inputs=[sample['inputs']],
                data_samples=[sample['data_samples']])


def ctc_frames(cfg: Config) -> int:
    """Frames the recognizer of ``cfg`` outputs per crop of its training
    pipeline (``(N, T, C)`` decoder outputs: ``T``)."""
    frames = {}
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmocr')), \
            torch.no_grad():
        model = MODELS.build(cfg.model).eval()
        pipeline, gray = _pipeline(cfg)
        for size in PROBE_SIZES:
            data = model.data_preprocessor(_probe(pipeline, gray, size), False)
            frames[size] = model(**data, mode='tensor').shape[1]
    if len(set(frames.values())) > 1:
        found = ', '.join(f'{t} for a {w}-pixel-wide crop'
                          for (_, w), t in frames.items())
        raise ValueError(
            f'{cfg.filename}: the CTC frame count depends on the crop width '
            f'({found}): the training pipeline keeps the aspect ratio. LS-ED '
            'needs a fixed count: resize to a fixed size, or set '
            'post_tune.module_loss.ctc_seq_len')
    return frames[PROBE_SIZES[0]]
