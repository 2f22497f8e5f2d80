# The control arm of the main job: CRNN keeps CTC on the post-tuning schedule.
_base_ = ['crnn_mini-vgg_synth.py', '../../_base_/proxy_posttune.py']
