# LS-IoU post-tuning of the RBox detector trained on the hard scenes
# (rbox_resnet18_fpnc_hard.py), in bfloat16 autocast as it trained (the
# head's loss, ê included, in float32).
_base_ = ['rbox_resnet18_fpnc_hard.py', '../../_base_/lsiou_posttune.py']
post_tune = dict(overrides=dict(optim_wrapper=dict(type='CPUBF16OptimWrapper')))
