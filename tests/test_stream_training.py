"""Training on the rendered stream: bfloat16 autocast, and a resume that
starts at the first unseen sample without rendering the trained part again."""
import pytest
import torch
from conftest import CONFIGS, REPO, assert_same_state, killed_config, train_tool
from mmengine.config import Config

from lsmmocr.engine import StreamSampler
from lsmmocr.engine.cpu_amp import bf16_supported
from lsmmocr.visualization import read_scalar_history

FONTS_CRNN = str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_fonts.py')
TINY = ['train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_cfg.val_interval=1000', 'val_cfg=None', 'val_dataloader=None',
        'val_evaluator=None', 'default_hooks.checkpoint.interval=2',
        'default_hooks.checkpoint.save_best=None', 'randomness.seed=0',
        'default_hooks.logger.interval=1']


def test_stream_sampler_shards_and_starts_where_told():
    data = list(range(10))
    sampler = StreamSampler(data)
    first = [i for i, _ in zip(sampler, range(12))]
    assert first == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]  # cycles
    sampler.start = 3
    assert [i for i, _ in zip(sampler, range(3))] == [3, 4, 5]
    sampler.rank, sampler.world_size = 1, 2
    assert [i for i, _ in zip(sampler, range(3))] == [7, 9, 1]


def test_stream_sampler_offset_skips_what_an_earlier_run_trained_on():
    sampler = StreamSampler(list(range(10)), offset=8)
    assert [i for i, _ in zip(sampler, range(3))] == [8, 9, 0]
    sampler.start = 1  # resumed after one sample
    assert next(iter(sampler)) == 9
    with pytest.raises(ValueError, match='offset must be in'):
        StreamSampler(list(range(10)), offset=10)


def test_fonts_config_builds_the_stream():
    cfg = Config.fromfile(FONTS_CRNN)
    train = cfg.train_dataloader.dataset.datasets[0]
    assert (train.font_corpus, train.render_cfg, train.split) == (
        'system', 'rich', 'train')
    assert cfg.train_cfg.type == 'StreamTrainLoop'
    assert cfg.optim_wrapper.type == 'CPUBF16OptimWrapper'
    splits = [d.dataset.datasets[0].split for d in (cfg.train_dataloader,
                                            cfg.val_dataloader,
                                            cfg.test_dataloader)]
    assert splits == ['train', 'val', 'test']


def test_resume_renders_no_trained_sample_and_equals_straight(tmp_path):
    """2 iterations, SIGKILL, resume to 4 == 4 straight; the resumed process
    renders only the samples of iterations 3 and 4."""
    straight, resumed = tmp_path / 'a', tmp_path / 'b'
    recording = tmp_path / 'recording.py'  # logs each rendered index
    recording.write_text(
        f"_base_ = ['{FONTS_CRNN}']\n"
        "custom_imports = dict(imports=['lsmmocr', 'recording_dataset'])\n"
        "train_dataloader = dict(dataset=dict(datasets=[dict(\n"
        "    _base_.train_dataloader.dataset.datasets[0],\n"
        "    type='RecordingSynthTextDataset')]))\n")
    env = dict(PYTHONPATH=str(REPO / 'tests'))
    opts = ['--cfg-options', *TINY, 'train_cfg.max_iters=4']
    train_tool([str(recording), '--work-dir', str(straight), *opts], env)
    killed = killed_config(tmp_path, FONTS_CRNN, iteration=2)
    train_tool([str(killed), '--work-dir', str(resumed), *opts], env,
               expect_kill=True)
    log = tmp_path / 'rendered.txt'
    train_tool([str(recording), '--work-dir', str(resumed), '--resume', *opts],
               dict(env, RENDERED_LOG=str(log)))
    a = torch.load(straight / 'iter_4.pth', weights_only=False)
    b = torch.load(resumed / 'iter_4.pth', weights_only=False)
    assert_same_state(a['state_dict'], b['state_dict'])
    assert sorted(map(int, log.read_text().split())) == [4, 5, 6, 7]
    # The resumed run's two log segments read as one history, as straight.
    losses = [[(r['step'], r['loss']) for r in read_scalar_history(str(w))
               if 'loss' in r] for w in (straight, resumed)]
    assert [step for step, _ in losses[1]] == [1, 2, 3, 4]
    assert losses[0] == losses[1]


@pytest.mark.skipif(not bf16_supported(), reason='no bfloat16 instructions')
def test_bf16_wrapper_autocasts_the_model_and_keeps_ctc_float32():
    from mmengine.registry import init_default_scope
    from mmocr.registry import MODELS
    init_default_scope('mmocr')
    cfg = Config.fromfile(FONTS_CRNN)
    model = MODELS.build(cfg.model)
    from lsmmocr.engine import CPUBF16OptimWrapper
    wrapper = CPUBF16OptimWrapper(torch.optim.Adam(model.parameters()))
    seen = {}
    loss = model.decoder.module_loss
    loss.ctc_loss.register_forward_hook(  # CTC's log-probabilities
        lambda m, args, out: seen.update(inputs=args[0].dtype))
    model.backbone.register_forward_hook(
        lambda m, args, out: seen.update(backbone=out.dtype))
    from mmengine.structures import LabelData
    from mmocr.structures import TextRecogDataSample
    sample = TextRecogDataSample(metainfo=dict(valid_ratio=1.0))
    sample.gt_text = LabelData(item='ab12')
    with wrapper.optim_context(model):
        losses = model.loss(torch.randn(2, 1, 32, 100), [sample, sample])
    assert seen == dict(backbone=torch.bfloat16, inputs=torch.float32)
    assert losses['loss_ctc'].dtype == torch.float32
    assert 'forward' not in vars(loss)  # the loss is itself again
