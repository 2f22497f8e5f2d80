# The control arm of the main job for the attention model (CE).
_base_ = ['aster_mini-vgg_synth.py', '../../_base_/proxy_posttune.py']
