# LS-ED post-tuning of MMOCR's nrtr_modality-transform on MMOCR's own datasets.
# Set load_from to a checkpoint of this model trained with its proxy loss.
_base_ = [
    'mmocr::textrecog/nrtr/nrtr_modality-transform_6e_st_mj.py',
    '../../_base_/lsed_posttune.py',
]
