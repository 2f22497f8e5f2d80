# The control arm of the main job for NRTR (CE on the post-tuning schedule).
_base_ = ['nrtr_modality-transform_synth.py', '../../_base_/proxy_posttune.py']
