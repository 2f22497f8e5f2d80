# The expected-risk arm: the CRNN reader post-tuned on E[ED].
_base_ = ['crnn_mini-vgg_posttune_fonts.py',
          '../../_base_/expected_risk_posttune.py']
