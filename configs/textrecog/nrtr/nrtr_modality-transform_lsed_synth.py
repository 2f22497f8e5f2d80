# LS-ED post-tuning of NRTR on the built-in synthetic data (main job, attention).
_base_ = [
    'nrtr_modality-transform_synth.py',
    '../../_base_/lsed_posttune.py',
]
