# The control of post-tuning: the recognizer (or detector) keeps its own proxy
# loss (CTC / CE) on the post-tuning schedule, so a learned surrogate is judged
# against the same iterations from the same start.
#
#   _base_ = ['<model config>.py', 'lsmmocr::_base_/proxy_posttune.py']
_base_ = ['schedules/posttune_schedule.py']
custom_imports = dict(imports=['lsmmocr'], allow_failed_imports=False)
runner_type = 'PostTuneRunner'

post_tune = dict(module_loss=None, trainer=None,
                 overrides=_base_.posttune_overrides)
