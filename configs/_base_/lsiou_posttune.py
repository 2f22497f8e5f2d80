# LS-IoU post-tuning (Patel et al., ECCV 2020, section 4) for a rotated-box
# detector config (its det_head an RBoxHead):
#
#   _base_ = ['<detector config>.py', '<this repo>/configs/_base_/lsiou_posttune.py']
#   load_from = 'path/to/converged_detector.pth'
#
# Only new keys (see lsed_posttune.py); PostTuneRunner applies `post_tune`.
# No `custom_imports`: a detector with an RBoxHead already imports lsmmocr.
_base_ = ['schedules/posttune_schedule.py']
runner_type = 'PostTuneRunner'

post_tune = dict(
    # The head's box loss becomes ê; its score loss stays (the proxy's).
    module_loss=dict(type='LSIoUModuleLoss', proxy_weight=0.0),
    # The same hook as LS-ED's; only the task differs.
    trainer=dict(
        type='LearnedSurrogateHook',
        task=dict(
            type='RotatedIoUTask',
            surrogate=dict(type='RotatedBoxEmbedding'),
            fit_loss=dict(type='SurrogateFitLoss', grad_penalty=0.0),
            num_pairs=256,
        ),
        # from tools/train_surrogate.py configs/surrogates/lsiou_rotated_boxes.py
        pretrained=None,
        optimizer=dict(type='Adam', lr=1e-4),
        source='local-global',
        inner_steps=1,
        monitor_interval=10,  # exploitation check: 1 extra forward / 10 steps
    ),
    overrides=_base_.posttune_overrides,
)
