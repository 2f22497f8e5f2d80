# MMOCR's CRNN (mini-VGG, CTC) trained on the built-in synthetic data.
_base_ = [
    'mmocr::textrecog/crnn/crnn_mini-vgg_5e_mj.py',
    '../../_base_/datasets/synth_text.py',
]

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=False,
    dataset=dict(datasets=[_base_.synth_textrecog_train]))
val_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(datasets=[_base_.synth_textrecog_val]))
test_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(datasets=[_base_.synth_textrecog_test]))
val_evaluator = dict(dataset_prefixes=['Synth'])
test_evaluator = val_evaluator
default_hooks = dict(logger=dict(type='LoggerHook', interval=10))
