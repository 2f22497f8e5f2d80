# LS-ED post-tuning of CRNN on synthetic text rendered on the fly: every batch
# is new to the recognizer (the on-disk train split is small enough to be
# memorised). `tools/main_job.py --posttune-data online` uses it.
_base_ = ['crnn_mini-vgg_synth_online.py', '../../_base_/lsed_posttune.py']
