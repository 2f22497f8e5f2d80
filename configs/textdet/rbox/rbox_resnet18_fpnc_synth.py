# An EAST-style rotated-box text detector (lsmmocr's RBoxHead) on MMOCR's
# ResNet-18 + FPNC (DBNet's backbone and neck), trained from scratch on the
# built-in synthetic scenes (`tools/make_synth_data.py --task textdet`; test in
# unseen fonts). The detector LS-IoU post-tunes.
_base_ = ['mmocr::textdet/_base_/default_runtime.py']
custom_imports = dict(imports=['lsmmocr'], allow_failed_imports=False)
default_scope = 'mmocr'

model = dict(
    type='SingleStageTextDetector',
    backbone=dict(
        type='mmdet.ResNet',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='caffe'),  # from scratch: nothing is downloaded
    neck=dict(type='FPNC', in_channels=[64, 128, 256, 512],
              lateral_channels=64, out_channels=32),
    det_head=dict(
        type='RBoxHead',
        in_channels=128,
        module_loss=dict(type='RBoxModuleLoss'),
        postprocessor=dict(type='RBoxPostprocessor')),
    data_preprocessor=dict(
        type='TextDetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32))

synth_det_root = '{{$LSMMOCR_SYNTH_DET_ROOT:data/synth_det}}'
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation'),
    dict(type='LoadOCRAnnotations', with_polygon=True, with_bbox=True,
         with_label=True),
    dict(type='TorchVisionWrapper', op='ColorJitter', brightness=32.0 / 255,
         saturation=0.5),
    dict(type='PackTextDetInputs',
         meta_keys=('img_path', 'ori_shape', 'img_shape')),
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation'),
    dict(type='Resize', scale=(256, 256), keep_ratio=True),
    dict(type='LoadOCRAnnotations', with_polygon=True, with_bbox=True,
         with_label=True),
    dict(type='PackTextDetInputs',
         meta_keys=('img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='OCRDataset', data_root=synth_det_root,
                 ann_file='textdet_train.json', pipeline=train_pipeline))
val_dataloader = dict(
    train_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='OCRDataset', data_root=synth_det_root,
                 ann_file='textdet_val.json', test_mode=True,
                 pipeline=test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], ann_file='textdet_test.json'))
val_evaluator = dict(type='HmeanIOUMetric')
test_evaluator = val_evaluator

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
log_processor = dict(by_epoch=False)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500,
                    max_keep_ckpts=2))
visualizer = dict(type='TextDetLocalVisualizer',
                  vis_backends=[dict(type='LocalVisBackend')],
                  name='visualizer')
