"""One learned-surrogate hook, its behaviour from its task; the names of
earlier configs still build it."""
import warnings

import pytest
from conftest import CONFIGS
from mmengine.config import Config
from mmocr.registry import HOOKS

from lsmmocr.engine import apply_post_tune
from lsmmocr.hooks import LearnedSurrogateHook
from lsmmocr.surrogates import EditDistanceTask, RotatedIoUTask


def trainer(base: str) -> dict:
    return Config.fromfile(str(CONFIGS / '_base_' / base)).post_tune.trainer.to_dict()


def test_lsed_and_lsiou_configs_differ_only_in_the_task():
    lsed, lsiou = trainer('lsed_posttune.py'), trainer('lsiou_posttune.py')
    assert lsed.pop('task')['type'] == 'EditDistanceTask'
    assert lsiou.pop('task')['type'] == 'RotatedIoUTask'
    assert lsed == lsiou


@pytest.mark.parametrize('old,task,extra', [
    ('SurrogateTrainerHook', EditDistanceTask, dict(monitor_interval=10)),
    ('LSIoUTrainerHook', RotatedIoUTask, dict(num_pairs=64))])
def test_old_hook_names_build_the_one_hook_and_warn(old, task, extra):
    cfg = dict(type=old, fit_loss=dict(type='SurrogateFitLoss', grad_penalty=2.0),
               sampler=dict(random_frac=0.5), inner_steps=3, warmup_iters=1)
    with pytest.warns(FutureWarning, match=f'{old} is deprecated'):
        hook = HOOKS.build(dict(cfg, **{k: v for k, v in extra.items()
                                        if k == 'num_pairs'}))
    assert type(hook) is LearnedSurrogateHook and isinstance(hook.task, task)
    assert hook.fit_loss.grad_penalty == 2.0
    assert hook.task.sampler == dict(random_frac=0.5)
    assert (hook.inner_steps, hook.warmup_iters) == (3, 1)
    assert hook.monitor_interval == extra.get('monitor_interval', 0)
    if 'num_pairs' in extra:
        assert hook.task.num_pairs == 64
    with warnings.catch_warnings():  # said once
        warnings.simplefilter('error')
        HOOKS.build(dict(cfg))


def test_old_post_tune_key_still_adds_the_hook():
    cfg = Config.fromfile(str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_lsed_synth.py'))
    hook = cfg.post_tune.pop('trainer')
    cfg.post_tune['surrogate_trainer'] = hook
    cfg.post_tune.module_loss['ctc_seq_len'] = 26
    with pytest.warns(FutureWarning, match='post_tune.surrogate_trainer'):
        cfg = apply_post_tune(cfg)
    assert cfg.custom_hooks[-1] == hook
