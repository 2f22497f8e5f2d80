# The control arm: the CRNN reader post-tuned on its own proxy loss.
_base_ = ['crnn_mini-vgg_posttune_fonts.py',
          '../../_base_/proxy_posttune.py']
