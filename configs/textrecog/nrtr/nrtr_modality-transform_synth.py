# MMOCR's NRTR (modality-transform, attention/CE) on the built-in synthetic data.
_base_ = [
    'mmocr::textrecog/nrtr/nrtr_modality-transform_6e_st_mj.py',
    '../../_base_/datasets/synth_text.py',
]

train_dataloader = _base_.synth_train_dataloader
val_dataloader = _base_.synth_val_dataloader
test_dataloader = _base_.synth_test_dataloader
val_evaluator = _base_.synth_evaluator
test_evaluator = _base_.synth_evaluator
train_cfg = _base_.synth_train_cfg
param_scheduler = _base_.synth_param_scheduler
log_processor = _base_.synth_log_processor
default_hooks = _base_.synth_default_hooks
