# Dynamic-loss post-tuning of NRTR on the built-in synthetic data.
_base_ = ['nrtr_modality-transform_synth.py', '../../_base_/dynamic_loss_posttune.py']
