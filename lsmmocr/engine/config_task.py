"""The learned-surrogate task a config describes, for pre-training h_Φ
(``tools/train_surrogate.py``) and for reports: a ``surrogate_task`` of its
own (e.g. ``configs/surrogates/lsiou_rotated_boxes.py``), or the task of a
post-tuning config's :class:`~lsmmocr.hooks.LearnedSurrogateHook`, bound to
the space of the model's loss, exactly as post-tuning will use it."""
from mmengine.config import Config
from mmocr.registry import HOOKS, MODELS, TASK_UTILS

from ..hooks.learned_surrogate_hook import LearnedSurrogateHook
from ..surrogates.surrogate_task import SurrogateTask
from ..utils import modules_of
from .post_tune_runner import apply_post_tune, loss_owner, trainer_hook


def config_task(cfg: Config) -> SurrogateTask:
    """The task of ``cfg`` (see the module's docstring); ``ValueError`` if it
    describes none."""
    if 'surrogate_task' in cfg:
        return TASK_UTILS.build(cfg.surrogate_task)
    hook_cfg = trainer_hook(cfg.get('post_tune') or {})
    hook = HOOKS.build(hook_cfg) if hook_cfg else None
    if not isinstance(hook, LearnedSurrogateHook):
        raise ValueError(
            f'{cfg.filename} describes no learned surrogate: it has neither a '
            'surrogate_task nor a LearnedSurrogateHook in post_tune.trainer')
    owner = MODELS.build(loss_owner(apply_post_tune(cfg.copy())))
    losses = modules_of(owner, hook.loss_type)
    if not losses:
        raise ValueError(f'{cfg.filename}: post-tuning puts no '
                         f'{hook.loss_type.__name__} in the model')
    hook.metric_space(losses)
    return hook.task
