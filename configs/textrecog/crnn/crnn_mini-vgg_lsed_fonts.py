# LS-ED post-tuning of the CRNN reader (learned edit-distance surrogate).
_base_ = ['crnn_mini-vgg_posttune_fonts.py',
          '../../_base_/lsed_posttune.py']
