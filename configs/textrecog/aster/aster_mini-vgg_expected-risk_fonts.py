# The expected-risk arm: the attention reader post-tuned on E[ED].
_base_ = ['aster_mini-vgg_posttune_fonts.py',
          '../../_base_/expected_risk_posttune.py']
