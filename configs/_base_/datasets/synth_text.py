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
