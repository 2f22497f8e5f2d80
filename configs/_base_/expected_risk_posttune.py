# Post-tuning on the expected edit distance over sampled decodings
# (REINFORCE), the peer a learned edit-distance surrogate must beat; no
# learned network, so no trainer hook.
#
#   _base_ = ['<recognizer config>.py',
#             'lsmmocr::_base_/expected_risk_posttune.py']
_base_ = ['posttune_runtime.py']

post_tune = dict(
    # The decoder's loss becomes E[ED]; the original is its proxy.
    module_loss=dict(
        type='ExpectedRiskModuleLoss',
        num_samples=8,  # sampled decodings per image
        baseline='mean',  # leave-one-out mean; 'greedy': self-critical
        proxy_weight=0.0,
    ),
    trainer=None,
    overrides=_base_.posttune_overrides,
)
