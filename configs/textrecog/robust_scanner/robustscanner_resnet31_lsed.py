# LS-ED post-tuning of MMOCR's robustscanner_resnet31 on MMOCR's own datasets.
# Set load_from to a checkpoint of this model trained with its proxy loss.
_base_ = [
    'mmocr::textrecog/robust_scanner/robustscanner_resnet31_5e_st-sub_mj-sub_sa_real.py',
    '../../_base_/lsed_posttune.py',
]
