# LS-ED post-tuning of MMOCR's aster on MMOCR's own datasets.
# Set load_from to a checkpoint of this model trained with its proxy loss.
_base_ = [
    'mmocr::textrecog/aster/aster_resnet45_6e_st_mj.py',
    '../../_base_/lsed_posttune.py',
]
