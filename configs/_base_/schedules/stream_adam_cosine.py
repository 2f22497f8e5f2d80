# Training a reader to convergence on an endless rendered stream: Adam with a
# linear warm-up and cosine decay, bfloat16 autocast on CPUs that have it (module
# losses in float32), a loop that resumes the stream without rendering it again,
# validation every 1000 iterations, the best checkpoint kept. A leaf assigns these,
# e.g. `optim_wrapper = _base_.stream_optim_wrapper`.
stream_max_iters = 20000
stream_optim_wrapper = dict(
    _delete_=True,
    type='CPUBF16OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3))
stream_param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, end=1000),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=1000,
         end=stream_max_iters),
]
stream_train_cfg = dict(
    _delete_=True,
    type='StreamTrainLoop',
    max_iters=stream_max_iters,
    val_interval=1000)
stream_log_processor = dict(by_epoch=False)
stream_default_hooks = dict(
    # validation metrics logged at the iteration (not epoch 0) of the run
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(
        by_epoch=False,
        interval=500,
        max_keep_ckpts=3,
        save_best='Fonts/recog/word_acc_ignore_case_symbol',
        rule='greater'))
