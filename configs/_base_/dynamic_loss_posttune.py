# Dynamic-loss post-tuning (Shankar & Piratla, 2022) for any MMOCR recognizer
# config: the recognizer (an inference network) steps on a learned energy
# model E_ψ(x, z); ψ is learned through that step with implicit gradients.
#
#   _base_ = ['mmocr::textrecog/<family>/<config>.py',
#             'lsmmocr::_base_/dynamic_loss_posttune.py']
#   load_from = 'path/to/converged_checkpoint.pth'
#
# Only new keys are defined here (MMEngine forbids keys repeated across bases);
# PostTuneRunner applies `post_tune` to the merged config before building.
_base_ = ['posttune_runtime.py']

post_tune = dict(
    # The decoder's loss becomes E_ψ; the original is its proxy.
    module_loss=dict(
        type='DynamicEnergyModuleLoss',
        # The proxy loss stays in (Tu, Pang & Gimpel 2020's local term): E_ψ
        # alone collapses the recognizer (benchmarks/RESULTS_dynamic_loss.md §1).
        proxy_weight=1.0,
        # ψ's objective is the proxy loss unless `task` is set, e.g.
        # task=dict(type='ExpectedRiskModuleLoss') or dict(type='LSEDModuleLoss')
        # (not defined here: a dict could not then be set over it).
    ),
    # The hook that trains E_ψ through the recognizer's step.
    trainer=dict(
        type='DynamicLossHook',
        energy=dict(type='SequenceEnergy', feat_channels=512, hidden=128),
        psi_update='implicit',  # 'unrolled' (one step), 'margin' (Tu & Gimpel)
        margin_weight=0.0,
        inverse='neumann',  # or 'cg'
        inverse_terms=3,
        warmup_iters=50,  # margin steps of ψ before the first recognizer step
        optimizer=dict(type='Adam', lr=1e-4),
        task_surrogate=None,  # h_Φ checkpoint when task is LSEDModuleLoss
        held_out=None,  # ψ's held-out data: None (train set) or an ann file
    ),
    overrides=_base_.posttune_overrides,
)
