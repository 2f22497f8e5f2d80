from .config_task import config_task
from .cpu_amp import CPUBF16OptimWrapper
from .cpu_ddp import (CPUDistributedDataParallel, finish_distributed,
                      init_cpu_distributed)
from .post_tune_runner import PostTuneRunner, apply_post_tune
from .shipped_checkpoints import SCHEME, shipped_path
from .stream_loop import StreamSampler, StreamTrainLoop

__all__ = [
    'CPUBF16OptimWrapper', 'StreamSampler', 'StreamTrainLoop',
    'CPUDistributedDataParallel', 'finish_distributed',
    'init_cpu_distributed', 'PostTuneRunner',
    'apply_post_tune', 'config_task', 'SCHEME', 'shipped_path'
]
