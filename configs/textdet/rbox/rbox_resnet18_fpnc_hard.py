# The RBox detector on the hard scenes ("LS-IoU where detection is hard"):
# dense lines at any angle, perspective, distractors, in the system font
# corpus (test in font families never trained on). Make the set with
#   python tools/make_synth_data.py --task textdet --scene hard \
#       --font-corpus system --out-dir data/synth_det_hard
# Trained until validation hmean stops moving (warm-up, cosine decay), the
# best checkpoint on validation kept; bfloat16 autocast where the CPU has it
# (the loss in float32): 1.38 -> 0.69 s per step of 8 images on one core.
_base_ = ['rbox_resnet18_fpnc_synth.py']

synth_det_hard_root = '{{$LSMMOCR_SYNTH_DET_HARD_ROOT:data/synth_det_hard}}'
train_dataloader = dict(dataset=dict(data_root=synth_det_hard_root))
val_dataloader = dict(dataset=dict(data_root=synth_det_hard_root))
test_dataloader = dict(dataset=dict(data_root=synth_det_hard_root))

hard_max_iters = 12000
train_cfg = dict(max_iters=hard_max_iters, val_interval=1000)
optim_wrapper = dict(type='CPUBF16OptimWrapper')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, end=500),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=500,
         end=hard_max_iters),
]
default_hooks = dict(
    checkpoint=dict(interval=1000, max_keep_ckpts=3,
                    save_best='icdar/hmean', rule='greater'))
