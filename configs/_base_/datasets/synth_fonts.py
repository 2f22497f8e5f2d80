# Synthetic word crops in the system font corpus (~300 families installed by
# `make setup` from tools/font_packages.txt, split family-disjointly) with
# MJSynth-like rendering (render preset 'rich'), rendered on the fly: an endless
# training stream (sample i is a pure function of i: never the same crop twice),
# a validation set and a test set, each in font families no other split uses.
# A leaf assigns these (they merge into MMOCR's keys), e.g.
# `train_dataloader = _base_.fonts_train_dataloader`; with another dictionary,
# set `dict_file` in each dataset.
fonts_stream = dict(
    type='OnlineSynthTextDataset',
    dict_file='lower_english_digits.txt',
    font_corpus='system',
    render_cfg='rich',
    seed=0,
    pipeline=None)
fonts_textrecog_train = dict(fonts_stream, split='train', num_samples=10**9)
fonts_textrecog_val = dict(
    fonts_stream, split='val', num_samples=3000, test_mode=True)
fonts_textrecog_test = dict(
    fonts_stream, split='test', num_samples=5000, test_mode=True)

fonts_train_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(_delete_=True, type='StreamSampler'),
    dataset=dict(datasets=[fonts_textrecog_train]))
fonts_val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(datasets=[fonts_textrecog_val]))
fonts_test_dataloader = dict(
    fonts_val_dataloader, dataset=dict(datasets=[fonts_textrecog_test]))
fonts_evaluator = dict(dataset_prefixes=['Fonts'])
# Post-tuning a reader trained on this stream: fresh crops only (its 20 000
# iterations x 64 read the first 1.28 M indices), so no arm trains on what
# the reader has memorised.
fonts_posttune_train_dataloader = dict(
    fonts_train_dataloader,
    sampler=dict(_delete_=True, type='StreamSampler', offset=2 * 10**8))
# Test metrics: MMOCR's word and character metrics, and the edit-distance
# family (total edit distance, CER, NED) LS-ED is judged by, under its own
# prefix (`Fonts/ed/...`: its `word_acc` would clash with WordMetric's).
fonts_test_evaluator = dict(
    dataset_prefixes=['Fonts'],
    metrics=[
        dict(type='WordMetric',
             mode=['exact', 'ignore_case', 'ignore_case_symbol']),
        dict(type='CharMetric'),
        dict(type='EditDistanceMetric', prefix='ed'),
    ])
# Post-tuning validates on total edit distance and keeps the best checkpoint:
# one selection rule for every arm.
fonts_posttune_val_ted = 'Fonts/ed/total_edit_distance'
fonts_posttune_checkpoint = dict(
    checkpoint=dict(save_best=fonts_posttune_val_ted, rule='less'))
