"""The hook names of earlier configs, kept working: each builds a
:class:`~.learned_surrogate_hook.LearnedSurrogateHook` with its task and says
so once."""
import warnings
from typing import Callable

from mmocr.registry import HOOKS

from .learned_surrogate_hook import LearnedSurrogateHook

TASK_KEYS = ('surrogate', 'fit_loss', 'sampler')


def _alias(old: str, task_type: str, task_keys: tuple,
           defaults: dict) -> Callable[..., LearnedSurrogateHook]:
    warned = []

    def build(**kwargs) -> LearnedSurrogateHook:
        if not warned:
            warnings.warn(
                f"{old} is deprecated: use dict(type='LearnedSurrogateHook', "
                f"task=dict(type='{task_type}', ...)) (configs/_base_/"
                'lsed_posttune.py and lsiou_posttune.py show how)',
                FutureWarning, stacklevel=2)
            warned.append(True)
        task = dict(type=task_type, **{k: kwargs.pop(k) for k in task_keys
                                       if k in kwargs})
        return LearnedSurrogateHook(task=task, **dict(defaults, **kwargs))

    build.__name__ = old
    build.__doc__ = f'Deprecated: :class:`LearnedSurrogateHook` with ``{task_type}``.'
    HOOKS.register_module(name=old, module=build)
    return build


# LS-ED's hook monitored exploitation every 10 steps by default.
SurrogateTrainerHook = _alias('SurrogateTrainerHook', 'EditDistanceTask',
                              TASK_KEYS, dict(monitor_interval=10))
LSIoUTrainerHook = _alias('LSIoUTrainerHook', 'RotatedIoUTask',
                          TASK_KEYS + ('num_pairs', ), {})
