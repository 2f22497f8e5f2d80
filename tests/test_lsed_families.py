"""Every MMOCR recognizer family post-tunes with LS-ED from its own config."""
import pytest
import torch
from conftest import CONFIGS, tiny_cfg
from mmengine.hooks import Hook

FAMILY_CONFIGS = sorted(
    str(p) for p in CONFIGS.glob('textrecog/*/*_lsed.py'))


def test_there_is_a_config_per_family():
    families = {p.split('/')[-2] for p in FAMILY_CONFIGS}
    assert families == {'abinet', 'aster', 'crnn', 'master', 'nrtr',
                        'robust_scanner', 'sar', 'satrn', 'svtr'}


class SnapshotSurrogate(Hook):
    """Copies Φ's weights once the surrogate trainer has built them."""

    def __init__(self, trainer) -> None:
        self.trainer = trainer

    def before_train(self, runner) -> None:
        self.phi = {k: v.clone()
                    for k, v in self.trainer.network.state_dict().items()}


@pytest.mark.slow
@pytest.mark.parametrize('cfg_path', FAMILY_CONFIGS,
                         ids=lambda p: p.split('/')[-2])
def test_family_post_tunes(cfg_path, synth_root, tmp_path):
    from lsmmocr.engine import PostTuneRunner
    from lsmmocr.hooks import LearnedSurrogateHook

    runner = PostTuneRunner.from_cfg(tiny_cfg(cfg_path, synth_root, tmp_path))
    hook = next(h for h in runner.hooks if isinstance(h, LearnedSurrogateHook))
    snap = SnapshotSurrogate(hook)
    runner.register_hook(snap, priority='LOWEST')
    model_before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    losses = runner.message_hub.get_scalar('train/loss_lsed').data[0]
    assert all(torch.isfinite(torch.tensor(losses)))

    # The recognizer's optimizer holds no parameter of Φ.
    phi_ids = {id(p) for p in hook.network.parameters()}
    opt_ids = {id(p) for g in runner.optim_wrapper.optimizer.param_groups
               for p in g['params']}
    assert not phi_ids & opt_ids
    assert not any(w in k for k in runner.model.state_dict()
                   for w in ('surrogate', 'network', 'slot'))

    # Both networks were updated.
    model_after = runner.model.state_dict()
    assert any(not torch.equal(v, model_after[k])
               for k, v in model_before.items() if v.is_floating_point())
    assert hook.steps == 2
    phi_after = hook.network.state_dict()
    assert any(not torch.equal(v, phi_after[k]) for k, v in snap.phi.items())
