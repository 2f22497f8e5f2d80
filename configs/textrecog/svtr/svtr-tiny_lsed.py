# LS-ED post-tuning of MMOCR's svtr-tiny on MMOCR's own datasets.
# Set load_from to a checkpoint of this model trained with its proxy loss.
_base_ = [
    'mmocr::textrecog/svtr/svtr-tiny_20e_st_mj.py',
    '../../_base_/lsed_posttune.py',
]
