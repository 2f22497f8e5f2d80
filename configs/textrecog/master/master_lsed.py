# LS-ED post-tuning of MMOCR's master on MMOCR's own datasets.
# Set load_from to a checkpoint of this model trained with its proxy loss.
_base_ = [
    'mmocr::textrecog/master/master_resnet31_12e_st_mj_sa.py',
    '../../_base_/lsed_posttune.py',
]
