"""Wall time of a job's stages, shown as they run and summed up at the end."""
import time
from contextlib import contextmanager
from typing import Dict, Iterator


def clock(seconds: float) -> str:
    """``seconds`` as ``[h:]mm:ss``."""
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f'{h}:{m:02d}:{s:02d}' if h else f'{m:02d}:{s:02d}'


def progress_line(label: str, done: int, total: int, elapsed: float) -> str:
    """``label: iteration done/total, elapsed …, ETA …`` (ETA from the mean
    time per iteration so far)."""
    eta = clock(elapsed / done * (total - done)) if done else '?'
    return (f'{label}: iteration {done}/{total}, elapsed {clock(elapsed)}, '
            f'ETA {eta}')


class Stages:
    """Times named stages: ``with stages('baseline'): ...``."""

    def __init__(self) -> None:
        self.seconds: Dict[str, float] = {}
        self.start = time.time()

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.time()
        print(f'== {name}', flush=True)
        yield
        self.seconds[name] = time.time() - t0
        print(f'== {name}: {clock(self.seconds[name])}', flush=True)

    def markdown(self) -> str:
        """A table of the stages' times and the total."""
        rows = ''.join(f'| {name} | {clock(sec)} |\n'
                       for name, sec in self.seconds.items())
        total = clock(time.time() - self.start)
        return f'| stage | time |\n|---|---|\n{rows}| **total** | **{total}** |\n'
