# The paper's setting in miniature: an attention recognizer composed from
# MMOCR's registered modules -- CRNN's mini-VGG backbone, ASTER's BiLSTM encoder
# and ASTER's attention decoder (TPS-ResNet-BiLSTM-Attn without the TPS and
# with a small CNN) -- trained with cross-entropy on the built-in synthetic data.
_base_ = ['../crnn/crnn_mini-vgg_synth.py']

dictionary = dict(
    type='Dictionary',
    dict_file={{_base_.dictionary.dict_file}},  # lower-case letters, digits
    with_padding=True,
    with_unknown=True,
    same_start_end=True,
    with_start=True,
    with_end=True)

model = dict(
    _delete_=True,
    type='ASTER',
    preprocessor=None,
    backbone=dict(type='MiniVGG', leaky_relu=False, input_channels=1),
    encoder=dict(type='ASTEREncoder', in_channels=512, num_layers=1),
    decoder=dict(
        type='ASTERDecoder',
        max_seq_len=14,  # start token + 12 characters + end token
        in_channels=512,
        emb_dims=128,
        attn_dims=128,
        hidden_size=256,
        postprocessor=dict(type='AttentionPostprocessor'),
        # The dictionary is lower-case (as CRNN's): capitals are read as
        # their lower case, as CRNN's CTC loss reads them, not as <UKN>.
        module_loss=dict(
            type='CEModuleLoss', flatten=True, ignore_first_char=True,
            letter_case='lower'),
        dictionary=dictionary),
    data_preprocessor=dict(
        type='TextRecogDataPreprocessor', mean=[127], std=[127]))

# A fixed 100x32 input at test time too (the decoder reads any width, but the
# model is trained at this one).
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='Resize', scale=(100, 32), keep_ratio=False),
    dict(type='LoadOCRAnnotations', with_text=True),
    dict(
        type='PackTextRecogInputs',
        meta_keys=('img_path', 'ori_shape', 'img_shape', 'valid_ratio'))
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    _delete_=True, type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
