# The control of post-tuning: the recognizer keeps its own proxy
# loss (CTC / CE) on the post-tuning schedule, so a learned surrogate is judged
# against the same iterations from the same start.
#
#   _base_ = ['<model config>.py', 'lsmmocr::_base_/proxy_posttune.py']
_base_ = ['posttune_runtime.py']

post_tune = dict(module_loss=None, trainer=None,
                 overrides=_base_.posttune_overrides)
