# LS-ED post-tuning of CRNN on the built-in synthetic data (the main job).
_base_ = ['crnn_mini-vgg_synth.py', '../../_base_/lsed_posttune.py']
