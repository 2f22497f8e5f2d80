# LS-ED post-tuning of MMOCR's satrn_shallow-small on MMOCR's own datasets.
# Set load_from to a checkpoint of this model trained with its proxy loss.
_base_ = [
    'mmocr::textrecog/satrn/satrn_shallow-small_5e_st_mj.py',
    '../../_base_/lsed_posttune.py',
]
