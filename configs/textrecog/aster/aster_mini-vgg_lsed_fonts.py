# LS-ED post-tuning of the attention reader (learned edit-distance surrogate).
_base_ = ['aster_mini-vgg_posttune_fonts.py',
          '../../_base_/lsed_posttune.py']
