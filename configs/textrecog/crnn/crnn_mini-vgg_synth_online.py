# MMOCR's CRNN trained on synthetic text rendered on the fly (nothing on
# disk): as long a run as wanted. Same generator, fonts and test split as the
# on-disk set of `tools/make_synth_data.py`; val/test still read that set.
_base_ = ['crnn_mini-vgg_synth.py']

synth_online_train = dict(
    type='OnlineSynthTextDataset',
    dict_file={{_base_.model.decoder.dictionary.dict_file}},
    num_samples=10_000_000,
    split='train',
    seed=0,
    pipeline=None)  # ConcatDataset passes train_pipeline

train_dataloader = dict(dataset=dict(datasets=[synth_online_train]))
