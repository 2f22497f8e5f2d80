# MMOCR's CRNN trained to convergence on the font-rich synthetic stream.
_base_ = [
    'mmocr::textrecog/crnn/crnn_mini-vgg_5e_mj.py',
    '../../_base_/datasets/synth_fonts.py',
    '../../_base_/schedules/stream_adam_cosine.py',
]

# Validation and test read crops at the training resize (100 x 32): MMOCR's
# CRNN test pipeline keeps the aspect ratio (padded to the widest crop of a
# batch), which this training never sees. Measured at 4500 iterations
# (benchmarks/reader_split_gap.py, 300 unseen-family crops): 72 % of words
# read at the training resize, 15 % with MMOCR's test pipeline.
eval_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='Resize', scale=(100, 32), keep_ratio=False),
    dict(type='LoadOCRAnnotations', with_text=True),
    dict(type='PackTextRecogInputs',
         meta_keys=('img_path', 'ori_shape', 'img_shape', 'valid_ratio')),
]
train_dataloader = _base_.fonts_train_dataloader
val_dataloader = dict(
    _base_.fonts_val_dataloader,
    dataset=dict(datasets=[_base_.fonts_textrecog_val], pipeline=eval_pipeline))
test_dataloader = dict(
    _base_.fonts_test_dataloader,
    dataset=dict(datasets=[_base_.fonts_textrecog_test], pipeline=eval_pipeline))
val_evaluator = _base_.fonts_evaluator
test_evaluator = _base_.fonts_test_evaluator
optim_wrapper = _base_.stream_optim_wrapper
param_scheduler = _base_.stream_param_scheduler
train_cfg = _base_.stream_train_cfg
log_processor = _base_.stream_log_processor
default_hooks = _base_.stream_default_hooks
