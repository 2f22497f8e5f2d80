# The attention recognizer of aster_mini-vgg_synth.py (mini-VGG, ASTER's BiLSTM
# encoder and attention decoder) trained to convergence on the font-rich stream,
# exactly as crnn_mini-vgg_fonts.py trains CRNN.
_base_ = [
    'aster_mini-vgg_synth.py',
    '../../_base_/datasets/synth_fonts.py',
    '../../_base_/schedules/stream_adam_cosine.py',
]

train_dataloader = _base_.fonts_train_dataloader
val_dataloader = dict(
    _base_.fonts_val_dataloader,
    dataset=dict(datasets=[_base_.fonts_textrecog_val],
                 pipeline=_base_.test_pipeline))
test_dataloader = dict(
    _base_.fonts_test_dataloader,
    dataset=dict(datasets=[_base_.fonts_textrecog_test],
                 pipeline=_base_.test_pipeline))
val_evaluator = _base_.fonts_evaluator
test_evaluator = _base_.fonts_test_evaluator
optim_wrapper = _base_.stream_optim_wrapper
param_scheduler = _base_.stream_param_scheduler
train_cfg = _base_.stream_train_cfg
log_processor = _base_.stream_log_processor
default_hooks = _base_.stream_default_hooks
