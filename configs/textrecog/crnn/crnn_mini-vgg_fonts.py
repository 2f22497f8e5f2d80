# MMOCR's CRNN trained to convergence on the font-rich synthetic stream.
_base_ = [
    'mmocr::textrecog/crnn/crnn_mini-vgg_5e_mj.py',
    '../../_base_/datasets/synth_fonts.py',
    '../../_base_/schedules/stream_adam_cosine.py',
]

train_dataloader = _base_.fonts_train_dataloader
val_dataloader = _base_.fonts_val_dataloader
test_dataloader = _base_.fonts_test_dataloader
val_evaluator = _base_.fonts_evaluator
test_evaluator = _base_.fonts_evaluator
optim_wrapper = _base_.stream_optim_wrapper
param_scheduler = _base_.stream_param_scheduler
train_cfg = _base_.stream_train_cfg
log_processor = _base_.stream_log_processor
default_hooks = _base_.stream_default_hooks
