# LS-IoU post-tuning of the RBox detector on the built-in synthetic scenes.
_base_ = ['rbox_resnet18_fpnc_synth.py', '../../_base_/lsiou_posttune.py']
