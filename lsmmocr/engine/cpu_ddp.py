"""Distributed data parallel on CPU processes (gloo).

MMEngine 0.10.7 cannot train with several CPU processes: its ``pytorch``
launcher calls ``torch.cuda.set_device`` and ``Runner.wrap_model`` always
passes ``device_ids=[LOCAL_RANK]``, which torch's DDP rejects for a CPU module.
:func:`init_cpu_distributed` creates the gloo process group first (MMEngine
then skips its own initialisation) and :class:`CPUDistributedDataParallel`
wraps without device ids; ``tools/train.py`` applies both when launched with
``--launcher pytorch`` on a machine without CUDA.

:func:`finish_distributed` ends a finished run's process group while the
interpreter is alive. MMEngine's runner never does, and a gloo worker thread
that still owns the last reference to an asynchronous collective's tensors at
interpreter exit needs the GIL to free them and aborts the process
(``terminate called without an active exception``, SIGABRT), so a finished
run reports failure now and then (5-10 % of two-process runs under load).
Destroying the group alone is not enough (measured): the pending work must be
finished first, which a gloo barrier does.
"""
import gc
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


def finish_distributed() -> None:
    """After a successful distributed run: wait for every rank's pending
    collectives (a barrier, which on gloo also waits for each rank's earlier
    asynchronous work), destroy the default process group and free what
    referenced it. Call it only after success: on a failed rank the barrier
    would wait for ranks that are still training."""
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return
    torch_dist.barrier()
    torch_dist.destroy_process_group()
    gc.collect()


def init_cpu_distributed() -> bool:
    """Create the gloo process group of a ``torch.distributed.run`` worker
    when CUDA is unavailable. Returns True if it did."""
    if (torch.cuda.is_available() or 'RANK' not in os.environ
            or torch_dist.is_initialized()):
        return False
    torch_dist.init_process_group(backend='gloo')
    return True
