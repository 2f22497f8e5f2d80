# The control arm on batches rendered on the fly (--posttune-data online).
_base_ = ['crnn_mini-vgg_synth_online.py', '../../_base_/proxy_posttune.py']
