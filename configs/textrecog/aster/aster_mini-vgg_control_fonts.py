# The control arm: the attention reader post-tuned on its own proxy loss.
_base_ = ['aster_mini-vgg_posttune_fonts.py',
          '../../_base_/proxy_posttune.py']
