# The expected-risk arm of the main job for the attention model.
_base_ = ['aster_mini-vgg_synth.py', '../../_base_/expected_risk_posttune.py']
