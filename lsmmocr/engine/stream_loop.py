"""Resume a run on an endless rendered stream without rendering again what
it already trained on.

On ``--resume``, MMEngine's ``IterBasedTrainLoop`` loads and discards every
batch of the finished iterations to put the data loader where it was: on a
stream rendered on the fly that is hours of rendering (1 M crops at ~400
crops/s). When sample ``i`` is a pure function of ``i`` (the online synthetic
datasets), :class:`StreamSampler` can instead start at the first unseen
index, and :class:`StreamTrainLoop` skips the finished batches without
loading them: the resumed run sees exactly the batches an uninterrupted one
would.
"""
import itertools
from typing import Iterator, Optional

from mmengine.dist import get_dist_info
from mmengine.registry import DATA_SAMPLERS, LOOPS
from mmengine.runner import IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator
from torch.utils.data import Dataset, Sampler


@DATA_SAMPLERS.register_module()
class StreamSampler(Sampler):
    """Indices ``offset, offset + 1, ...`` in order, rank ``r`` of ``w``
    taking every ``w``-th from ``r``, cycling over the dataset.

    Args:
        dataset (Dataset): The dataset (its length bounds the indices).
        seed (int, optional): Unused; accepted because MMEngine passes it.
        offset (int): The first index: a run that must not see what an
            earlier run on the same stream trained on (post-tuning a reader)
            starts past it. Defaults to 0.
    """

    def __init__(self, dataset: Dataset, seed: Optional[int] = None,
                 offset: int = 0) -> None:
        self.size = len(dataset)
        if not 0 <= offset < self.size:
            raise ValueError(f'StreamSampler offset must be in [0, {self.size})'
                             f' (the dataset\'s length), got {offset}')
        self.offset = offset
        self.rank, self.world_size = get_dist_info()
        self.start = 0  # samples per rank already consumed

    def __iter__(self) -> Iterator[int]:
        first = self.offset + self.start * self.world_size + self.rank
        for step in itertools.count():
            yield (first + step * self.world_size) % self.size

    def __len__(self) -> int:
        return self.size // self.world_size

    def set_epoch(self, epoch: int) -> None:
        """Nothing to reshuffle (the MMEngine sampler interface)."""


class _SkipFirst:
    """An iterator whose first ``n`` items are None, not fetched."""

    def __init__(self, iterator, n: int) -> None:
        self.iterator, self.n = iterator, n

    def __next__(self):
        if self.n > 0:
            self.n -= 1
            return None
        return next(self.iterator)


@LOOPS.register_module()
class StreamTrainLoop(IterBasedTrainLoop):
    """``IterBasedTrainLoop`` that resumes a :class:`StreamSampler` stream at
    its first unseen sample instead of loading every finished batch again
    (any other sampler resumes as MMEngine does)."""

    def run(self):
        sampler = self.dataloader.sampler
        if self._iter > 0 and isinstance(sampler, StreamSampler):
            sampler.start = self._iter * self.dataloader.batch_size
            # Rebuilt so the workers start from the new index.
            self.dataloader_iterator = _SkipFirst(
                _InfiniteDataloaderIterator(self.dataloader), self._iter)
        return super().run()
