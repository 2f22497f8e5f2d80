"""Synthetic text rendered on the fly (word crops or scenes): long runs
without disk."""
from typing import Sequence, Tuple

import cv2
from mmcv.transforms import LoadImageFromFile
from mmengine.dataset import BaseDataset, Compose
from mmocr.datasets.transforms import LoadImageFromNDArray
from mmocr.registry import DATASETS

from ..utils import mmocr_dict_file
from .synth_scene import METAINFO as DET_METAINFO
from .synth_scene import SynthSceneGenerator
from .synth_text import METAINFO, SynthTextGenerator, read_charset


def in_memory(pipeline: Compose) -> Tuple[Compose, bool]:
    """``pipeline`` with its leading ``LoadImageFromFile`` replaced by
    ``LoadImageFromNDArray`` (the image is in ``results['img']``), and
    whether that loader asked for grey images."""
    transforms = list(pipeline.transforms)
    if not transforms:
        return pipeline, False
    loader = transforms[0]
    if not isinstance(loader, LoadImageFromFile):
        raise ValueError('an online synthetic dataset expects a pipeline that '
                         f'starts with LoadImageFromFile, got {loader!r}')
    transforms[0] = LoadImageFromNDArray(to_float32=loader.to_float32)
    return Compose(transforms), loader.color_type == 'grayscale'


class SampleIndices(Sequence):
    """``[dict(index=0), dict(index=1), ...]`` of any length, made when read
    (a list of 10⁹ dicts would not fit in memory)."""

    def __init__(self, num: int) -> None:
        self.num = num

    def __len__(self) -> int:
        return self.num

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.num))]
        if not -self.num <= i < self.num:
            raise IndexError(f'index {i} out of range for {self.num} samples')
        return dict(index=i % self.num)


class OnlineRenderedDataset(BaseDataset):
    """Samples of a generator (its ``record(split, index)``) rendered when
    they are read; any MMOCR pipeline of the task works unchanged: its
    leading ``LoadImageFromFile`` reads the rendered image instead (converted
    to grey here when the loader asked for ``color_type='grayscale'``).

    Sample ``i`` of a split is the one ``tools/make_synth_data.py`` with the
    same seed writes as the ``i``-th file of that split (before JPEG
    compression), so an on-disk set and this dataset are interchangeable;
    ``num_samples`` can be far larger than a disk would hold.

    Args:
        dict_file (str): Dictionary file (or the name of one MMOCR ships);
            words use its characters.
        num_samples (int): Length of the dataset.
        split (str): ``'train'``, ``'val'`` or ``'test'`` (test renders with
            the held-out font families). Defaults to ``'train'``.
        seed (int): Generator seed. Defaults to 0.
        pipeline (list[dict]): MMOCR pipeline starting with LoadImageFromFile.
        test_mode (bool): As for MMOCR's ``OCRDataset``. Defaults to False.
        **generator_kwargs: Passed to the generator (e.g. ``max_len``).
    """

    GENERATOR: type  # the generator class of a subclass

    def __init__(self,
                 dict_file: str,
                 num_samples: int,
                 split: str = 'train',
                 seed: int = 0,
                 pipeline: Sequence[dict] = (),
                 test_mode: bool = False,
                 **generator_kwargs) -> None:
        if num_samples <= 0:
            raise ValueError(f'num_samples must be positive, got {num_samples}')
        self.generator = self.GENERATOR(
            read_charset(mmocr_dict_file(dict_file)), seed=seed,
            **generator_kwargs)
        if split not in self.generator.fonts:
            raise ValueError(f'split must be one of '
                             f'{sorted(self.generator.fonts)}, got {split!r}')
        self.split = split
        self.num_samples = num_samples
        super().__init__(pipeline=pipeline, test_mode=test_mode,
                         serialize_data=False)

    @property
    def pipeline(self) -> Compose:
        return self._pipeline

    @pipeline.setter
    def pipeline(self, pipeline: Compose) -> None:
        # Also catches MMOCR's ConcatDataset, which assigns its pipeline.
        self._pipeline, self.grayscale = in_memory(pipeline)

    def load_data_list(self) -> SampleIndices:
        return SampleIndices(self.num_samples)

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        img, entry = self.generator.record(self.split, info['index'])
        if self.grayscale:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        info.update(img=img, **entry)
        return info


@DATASETS.register_module()
class OnlineSynthTextDataset(OnlineRenderedDataset):
    """:class:`SynthTextGenerator` word crops (``textrecog``), rendered when
    read; arguments as :class:`OnlineRenderedDataset` (``max_len``: longest
    label, default 12)."""

    METAINFO = METAINFO
    GENERATOR = SynthTextGenerator


@DATASETS.register_module()
class OnlineSynthSceneDataset(OnlineRenderedDataset):
    """:class:`SynthSceneGenerator` scenes of rotated words (``textdet``),
    rendered when read; arguments as :class:`OnlineRenderedDataset`."""

    METAINFO = DET_METAINFO
    GENERATOR = SynthSceneGenerator
