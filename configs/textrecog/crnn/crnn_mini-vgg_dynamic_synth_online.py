# Dynamic-loss post-tuning of CRNN on synthetic text rendered on the fly
# (`tools/main_job.py --posttune-data online`).
_base_ = ['crnn_mini-vgg_synth_online.py', '../../_base_/dynamic_loss_posttune.py']
