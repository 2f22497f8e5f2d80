from .cpu_ddp import CPUDistributedDataParallel, init_cpu_distributed
from .post_tune_runner import PostTuneRunner, apply_post_tune

__all__ = [
    'CPUDistributedDataParallel', 'init_cpu_distributed', 'PostTuneRunner',
    'apply_post_tune'
]
