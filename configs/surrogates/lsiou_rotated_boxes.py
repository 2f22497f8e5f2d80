# LS-IoU: h_Φ over rotated boxes, pre-trained on random boxes and perturbations
# of them labelled with mmcv's exact rotated IoU. Pre-train and evaluate with
#   python tools/train_surrogate.py configs/surrogates/lsiou_rotated_boxes.py
#   python tools/eval_surrogate.py configs/surrogates/lsiou_rotated_boxes.py <ckpt>
default_scope = 'mmocr'
custom_imports = dict(imports=['lsmmocr'], allow_failed_imports=False)

surrogate_task = dict(
    type='RotatedIoUTask',
    surrogate=dict(type='RotatedBoxEmbedding', embed_dims=128, hidden=256,
                   num_layers=4, num_freqs=8),
    fit_loss=dict(type='SurrogateFitLoss', grad_penalty=0.0),
    sampler=dict(size_range=(0.03, 0.6), max_aspect=8.0, random_frac=0.15))
