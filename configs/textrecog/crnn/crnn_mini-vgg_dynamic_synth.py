# Dynamic-loss post-tuning of CRNN on the built-in synthetic data (the main job).
_base_ = ['crnn_mini-vgg_synth.py', '../../_base_/dynamic_loss_posttune.py']
