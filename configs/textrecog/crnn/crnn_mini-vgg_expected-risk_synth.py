# The expected-risk arm of the main job: CRNN post-tuned on E[ED].
_base_ = ['crnn_mini-vgg_synth.py', '../../_base_/expected_risk_posttune.py']
