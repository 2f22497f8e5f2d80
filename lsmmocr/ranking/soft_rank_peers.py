"""Soft ranks from torchsort (Blondel et al., 2020), the peer a learned sorter
is measured against. An optional benchmark dependency (``.[bench]``): imported
only when asked for, never required."""
from typing import Callable, Dict, List

import torch

RankFn = Callable[[torch.Tensor], torch.Tensor]


def torchsort_peers(regs: List[float]) -> Dict[str, RankFn]:
    """``{'torchsort eps=<reg>': fn}`` (normalised ascending ranks), or an
    empty dict with a message if torchsort is not installed."""
    try:
        import torchsort
    except ImportError:
        print('torchsort is not installed: no soft-rank peer. Install it with '
              '`pip install --no-build-isolation torchsort` (it compiles a C++ '
              'extension against the installed torch).')
        return {}

    def peer(reg: float) -> RankFn:
        def fn(x: torch.Tensor) -> torch.Tensor:
            r = torchsort.soft_rank(x, regularization_strength=reg)
            return (r - 1) / (x.shape[-1] - 1)
        return fn

    return {f'torchsort eps={reg:g}': peer(reg) for reg in regs}
