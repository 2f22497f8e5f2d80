# LS-ED post-tuning of MMOCR's CRNN on its own datasets (MJSynth; the six
# standard test sets). Set load_from to a CRNN trained with CTC.
_base_ = [
    'mmocr::textrecog/crnn/crnn_mini-vgg_5e_mj.py',
    '../../_base_/lsed_posttune.py',
]
