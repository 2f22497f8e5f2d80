"""The hand-off between a module loss that computes through a network it does
not own (LS-ED's and LS-IoU's h_Φ, the dynamic loss's E_ψ) and the hook that
trains that network."""
from typing import Any, Optional

import torch.nn as nn


class NetworkSlot:
    """Where a hook puts the network and a loss leaves each forward's batch.

    Not an ``nn.Module``: the network stays out of the model's parameters,
    optimizer and state dict (the hook owns and checkpoints it).
    """

    def __init__(self) -> None:
        self.network: Optional[nn.Module] = None
        self.batch: Any = None


class AttachedNetworkLoss:
    """Mixin of a module loss whose network is attached by a hook.

    The loss reads the network as :attr:`network` (frozen while it
    computes) and hands each forward's detached batch to the hook through
    :meth:`hand_off`; the hook takes it with :meth:`pop_batch` (a batch is
    used once). ``HOOK`` names the hook for the error message.
    """

    HOOK = 'its trainer hook'

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.slot = NetworkSlot()

    @property
    def network(self) -> nn.Module:
        if self.slot.network is None:
            raise RuntimeError(
                f'{type(self).__name__} has no network attached: add '
                f'{self.HOOK} to custom_hooks (its post-tuning base config '
                'does)')
        return self.slot.network

    def attach(self, network: nn.Module) -> None:
        """Compute through ``network`` (owned by the caller)."""
        self.slot.network = network

    def hand_off(self, batch: Any) -> None:
        """Leave this forward's (detached) batch for the hook."""
        self.slot.batch = batch

    def pop_batch(self) -> Any:
        """The last forward's batch, or None; taken."""
        batch, self.slot.batch = self.slot.batch, None
        return batch
