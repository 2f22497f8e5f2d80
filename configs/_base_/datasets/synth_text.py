# Synthetic scene text made by `tools/make_synth_data.py` (train/val share font
# families; test uses held-out families). Root: $LSMMOCR_SYNTH_ROOT or data/synth.
synth_data_root = '{{$LSMMOCR_SYNTH_ROOT:data/synth}}'

synth_textrecog_train = dict(
    type='OCRDataset',
    data_root=synth_data_root,
    ann_file='textrecog_train.json',
    pipeline=None)

synth_textrecog_val = dict(
    type='OCRDataset',
    data_root=synth_data_root,
    ann_file='textrecog_val.json',
    test_mode=True,
    pipeline=None)

synth_textrecog_test = dict(
    type='OCRDataset',
    data_root=synth_data_root,
    ann_file='textrecog_test.json',
    test_mode=True,
    pipeline=None)

# What a model config needs to train on this data, iteration based (the set has
# no natural epoch size). A leaf assigns these (they merge into MMOCR's keys),
# e.g. `train_dataloader = _base_.synth_train_dataloader`.
synth_train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(datasets=[synth_textrecog_train]))
synth_val_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(datasets=[synth_textrecog_val]))
synth_test_dataloader = dict(
    synth_val_dataloader, dataset=dict(datasets=[synth_textrecog_test]))
synth_evaluator = dict(dataset_prefixes=['Synth'])
synth_train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=1000, val_interval=250)
synth_param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
synth_log_processor = dict(by_epoch=False)
synth_default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(by_epoch=False, interval=250, max_keep_ckpts=2))
