"""Distributed data parallel on CPU processes (gloo).

MMEngine 0.10.7 cannot train with several CPU processes: its ``pytorch``
launcher calls ``torch.cuda.set_device`` and ``Runner.wrap_model`` always
passes ``device_ids=[LOCAL_RANK]``, which torch's DDP rejects for a CPU module.
:func:`init_cpu_distributed` creates the gloo process group first (MMEngine
then skips its own initialisation) and :class:`CPUDistributedDataParallel`
wraps without device ids; ``tools/train.py`` applies both when launched with
``--launcher pytorch`` on a machine without CUDA.

:func:`destroy_process_group_at_exit` ends the process group before the
interpreter finalizes: MMEngine's runner never destroys it, and a gloo group
still alive then can abort the process after a finished run
(``terminate called without an active exception``, SIGABRT).
"""
import atexit
import os
from typing import Optional, Sequence

import torch
import torch.distributed as torch_dist
import torch.nn as nn
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """:class:`MMDistributedDataParallel` that drops ``device_ids`` for CPU
    modules (GPU modules are wrapped unchanged)."""

    def __init__(self, module: nn.Module,
                 device_ids: Optional[Sequence[int]] = None, **kwargs) -> None:
        if next(module.parameters()).device.type == 'cpu':
            device_ids = None
        super().__init__(module=module, device_ids=device_ids, **kwargs)


def _destroy_process_group() -> None:
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def destroy_process_group_at_exit() -> None:
    """Destroy the default process group (whoever created it) when the
    interpreter exits, before its finalization; registered once."""
    atexit.unregister(_destroy_process_group)
    atexit.register(_destroy_process_group)


def init_cpu_distributed() -> bool:
    """Create the gloo process group of a ``torch.distributed.run`` worker
    when CUDA is unavailable, destroyed again at exit. Returns True if it
    did."""
    if (torch.cuda.is_available() or 'RANK' not in os.environ
            or torch_dist.is_initialized()):
        return False
    torch_dist.init_process_group(backend='gloo')
    destroy_process_group_at_exit()
    return True
