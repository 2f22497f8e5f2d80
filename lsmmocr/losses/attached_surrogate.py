"""What a module loss that computes ê with a hook-owned h_Φ shares."""
from contextlib import contextmanager
from typing import Iterator

import torch.nn as nn


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Build graphs through ``module`` without making its parameters leaves
    that receive gradients."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


class AttachedSurrogate:
    """Mixin of a module loss whose h_Φ is *not* a submodule: the surrogate
    trainer hook owns it and its optimizer and attaches it, so the model's
    optimizer never holds Φ; the loss computes ê through Φ frozen (no
    gradient to Φ). ``HOOK`` names the hook for the error message."""

    HOOK = 'the surrogate trainer hook'
    _surrogate = None  # class default: nothing attached

    @property
    def surrogate(self) -> nn.Module:
        if self._surrogate is None:
            raise RuntimeError(
                f'{type(self).__name__} has no surrogate: add {self.HOOK} to '
                'custom_hooks (its post-tuning base config does)')
        return self._surrogate

    def attach_surrogate(self, surrogate: nn.Module) -> None:
        """Use ``surrogate`` (owned by the caller) as h_Φ."""
        object.__setattr__(self, '_surrogate', surrogate)  # not a submodule
