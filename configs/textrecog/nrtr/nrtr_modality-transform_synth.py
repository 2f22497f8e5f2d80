# MMOCR's NRTR (modality-transform, attention/CE) on the built-in synthetic data.
_base_ = [
    'mmocr::textrecog/nrtr/nrtr_modality-transform_6e_st_mj.py',
    '../../_base_/datasets/synth_text.py',
]

train_dataloader = dict(
    batch_size=32,
    num_workers=1,
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

train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=1000, val_interval=250)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
log_processor = dict(by_epoch=False)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(by_epoch=False, interval=250, max_keep_ckpts=2))
