# LS-ED post-tuning (Patel et al., ECCV 2020) for any MMOCR recognizer config:
#
#   _base_ = ['mmocr::textrecog/<family>/<config>.py',
#             'lsmmocr::_base_/lsed_posttune.py']
#   load_from = 'path/to/converged_checkpoint.pth'
#
# Only new keys are defined here (MMEngine forbids keys repeated across bases);
# PostTuneRunner applies `post_tune` to the merged config before building.
_base_ = ['posttune_runtime.py']

post_tune = dict(
    # The decoder's loss becomes the LS-ED loss; the original is its proxy.
    module_loss=dict(
        type='LSEDModuleLoss',
        proxy_weight=0.0,  # > 0 mixes the proxy loss back in
        feds=None,  # e.g. dict(lower=0.5, upper=2.0) for FEDS filtering
    ),
    # The hook that fits h_Φ beside the recognizer; its task is the metric.
    trainer=dict(
        type='LearnedSurrogateHook',
        task=dict(
            type='EditDistanceTask',
            surrogate=dict(type='EditDistanceEmbedding'),
            fit_loss=dict(type='SurrogateFitLoss', grad_penalty=0.0),  # λ
        ),
        pretrained=None,  # from tools/train_surrogate.py (global pre-training)
        optimizer=dict(type='Adam', lr=1e-4),
        source='local-global',
        inner_steps=1,
        monitor_interval=10,  # exploitation check: 1 extra forward / 10 steps
    ),
    overrides=_base_.posttune_overrides,
)
