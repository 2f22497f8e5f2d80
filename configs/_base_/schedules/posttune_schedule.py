# The schedule every learned-surrogate post-tuning base applies (its
# `post_tune.overrides`): a short, low, constant learning rate, iteration based
# (real datasets have millions of images: epochs are too coarse for
# post-tuning).
posttune_overrides = dict(
    optim_wrapper=dict(
        _delete_=True,
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=1e-4)),
    train_cfg=dict(
        _delete_=True,
        type='IterBasedTrainLoop',
        max_iters=2000,
        val_interval=500),
    param_scheduler=[dict(type='ConstantLR', factor=1.0, by_epoch=False)],
    log_processor=dict(by_epoch=False),
    default_hooks=dict(
        checkpoint=dict(by_epoch=False, interval=500, max_keep_ckpts=2)),
)
