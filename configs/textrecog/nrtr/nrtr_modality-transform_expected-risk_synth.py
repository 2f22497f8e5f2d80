# The expected-risk arm of the main job for NRTR.
_base_ = ['nrtr_modality-transform_synth.py', '../../_base_/expected_risk_posttune.py']
