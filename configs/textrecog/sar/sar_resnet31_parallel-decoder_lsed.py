# LS-ED post-tuning of MMOCR's sar_resnet31_parallel-decoder on MMOCR's own datasets.
# Set load_from to a checkpoint of this model trained with its proxy loss.
_base_ = [
    'mmocr::textrecog/sar/sar_resnet31_parallel-decoder_5e_st-sub_mj-sub_sa_real.py',
    '../../_base_/lsed_posttune.py',
]
