"""bfloat16 autocast on the CPU, as a config-level optimizer wrapper.

MMEngine 0.10.7's ``AmpOptimWrapper`` asserts a CUDA/NPU/MLU device. On CPUs
with bfloat16 instructions (``avx512_bf16``/``amx_bf16``) autocast roughly
halves a recognizer's or a detector's step time. bfloat16 has float32's
range, so no loss scaling is needed; the module losses run in float32 with
autocast off: a recognizer's (CTC, cross-entropy and their ``log_softmax``,
which CPU autocast would run in bfloat16) and a detection head's (its box
geometry and IoUs).
"""
from contextlib import ExitStack, contextmanager
from typing import Iterator

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from mmocr.models.textdet.heads import BaseTextDetHead
from mmocr.models.textrecog.module_losses import BaseTextRecogModuleLoss


def _to_float(value):
    if torch.is_tensor(value) and value.is_floating_point():
        return value.float()
    if isinstance(value, (list, tuple)):
        return type(value)(_to_float(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_float(v) for k, v in value.items()}
    return value


@contextmanager
def _float32_forward(module: nn.Module) -> Iterator[None]:
    """``module``'s forward runs in float32 with autocast off (its floating
    inputs cast to float32) for the duration of the context."""
    forward = module.forward

    def float32_forward(*args, **kwargs):
        with torch.autocast('cpu', enabled=False):
            return forward(*_to_float(args), **_to_float(kwargs))

    module.forward = float32_forward
    try:
        yield
    finally:
        del module.forward  # back to the class's forward


def _module_losses(model: nn.Module) -> Iterator[nn.Module]:
    """The recognizer module losses and detection heads' ``module_loss`` in
    ``model``."""
    for module in model.modules():
        if isinstance(module, BaseTextRecogModuleLoss):
            yield module
        elif isinstance(module, BaseTextDetHead):
            yield module.module_loss


def bf16_supported() -> bool:
    """Whether this CPU has bfloat16 instructions (Linux ``/proc/cpuinfo``)."""
    try:
        with open('/proc/cpuinfo') as f:
            flags = f.read()
    except OSError:
        return False
    return 'avx512_bf16' in flags or 'amx_bf16' in flags


@OPTIM_WRAPPERS.register_module()
class CPUBF16OptimWrapper(OptimWrapper):
    """:class:`OptimWrapper` whose forward runs under CPU bfloat16 autocast,
    module losses in float32. On a CPU without bfloat16 instructions (where
    emulation would be slower than float32) it trains in float32 and says so.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.enabled = bf16_supported()
        if not self.enabled:
            from mmengine.logging import print_log
            print_log('CPUBF16OptimWrapper: this CPU has no bfloat16 '
                      'instructions; training in float32', logger='current')

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        with ExitStack() as stack:
            stack.enter_context(super().optim_context(model))
            if self.enabled:
                stack.enter_context(torch.autocast('cpu', dtype=torch.bfloat16))
                for loss in _module_losses(model):
                    stack.enter_context(_float32_forward(loss))
            yield
