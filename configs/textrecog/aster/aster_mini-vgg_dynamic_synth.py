# Dynamic-loss post-tuning of the miniature attention recognizer on the built-in data.
_base_ = ['aster_mini-vgg_synth.py', '../../_base_/dynamic_loss_posttune.py']
