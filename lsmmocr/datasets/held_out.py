"""Held-out batches drawn at random from a dataset, apart from the training
stream (the dynamic loss's ψ objective reads them)."""
import copy
from typing import Callable

import numpy as np


def held_out_dataset_cfg(train_dataset: dict, ann_file: str) -> dict:
    """The training dataset's config (pipeline included) reading
    ``ann_file`` instead: a single dataset, or a ``ConcatDataset`` of one."""
    cfg = copy.deepcopy(train_dataset)
    inner = cfg.get('datasets', [cfg])
    if len(inner) != 1 or 'ann_file' not in inner[0]:
        raise ValueError(
            f'held_out={ann_file!r} needs a training set of one annotation '
            f'file to swap it into; train_dataloader.dataset is a '
            f'{cfg.get("type")} of {len(inner)} dataset(s)')
    inner[0]['ann_file'] = ann_file
    return cfg


class HeldOutBatches:
    """Batches drawn at random from a dataset (collated by ``collate``), with
    a generator kept in checkpoints."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def draw(self, dataset, collate: Callable, size: int) -> dict:
        idx = self.rng.choice(len(dataset), size, replace=len(dataset) < size)
        return collate([dataset[int(i)] for i in idx])

    def state_dict(self) -> dict:
        return dict(rng=self.rng.bit_generator.state)

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state['rng']
