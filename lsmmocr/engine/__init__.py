from .cpu_ddp import (CPUDistributedDataParallel, destroy_process_group_at_exit,
                      init_cpu_distributed)
from .post_tune_runner import PostTuneRunner, apply_post_tune

__all__ = [
    'CPUDistributedDataParallel', 'destroy_process_group_at_exit',
    'init_cpu_distributed', 'PostTuneRunner',
    'apply_post_tune'
]
