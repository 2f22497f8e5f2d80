"""The EAST-style rotated-box detector, on the built-in scenes, run with
MMOCR's own tools, dataset, pipeline and hmean metric."""
import numpy as np
import pytest
import torch
from conftest import CONFIGS, REPO, killed_config, run_tool, train_tool
from mmcv.ops import box_iou_rotated
from shapely.geometry import Polygon

from lsmmocr.datasets import make_synth_dataset
from lsmmocr.engine.cpu_amp import bf16_supported
from lsmmocr.textdet.rbox_geometry import (decode, encode, pixel_centres, quad_to_rbox,
                                           rbox_corners)
from lsmmocr.utils import mmocr_dict_file

RBOX = str(CONFIGS / 'textdet/rbox/rbox_resnet18_fpnc_synth.py')
HARD = str(CONFIGS / 'textdet/rbox/rbox_resnet18_fpnc_hard.py')
DETECTOR = 'lsmmocr://detectors/rbox_resnet18_fpnc_hard'  # shipped
OPTS = ['train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0',
        'train_cfg.val_interval=1000', 'default_hooks.checkpoint.interval=2',
        'randomness.seed=0']


@pytest.fixture(scope='module')
def det_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('synth_det')
    make_synth_dataset(str(root), mmocr_dict_file('lower_english_digits.txt'),
                       dict(train=8, val=4, test=4), task='textdet')
    return root


@pytest.fixture(scope='module')
def hard_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('synth_det_hard')
    make_synth_dataset(str(root), mmocr_dict_file('lower_english_digits.txt'),
                       dict(test=4), task='textdet', scene_cfg='hard',
                       font_corpus='system')
    return root


def test_rbox_geometry_matches_polygons_and_mmcv_iou():
    rng = np.random.default_rng(0)
    boxes = torch.tensor(np.c_[rng.uniform(50, 200, (20, 2)),
                               rng.uniform(5, 80, (20, 2)),
                               rng.uniform(-1.5, 1.5, 20)]).float()
    corners = rbox_corners(boxes)
    back = torch.tensor(np.stack([quad_to_rbox(c.flatten()) for c in corners.numpy()]))
    assert torch.allclose(back.float(), boxes, atol=1e-3)
    a, b = corners[:10].numpy(), corners[10:].numpy()
    shapely_iou = [Polygon(p).intersection(Polygon(q)).area
                   / Polygon(p).union(Polygon(q)).area for p, q in zip(a, b)]
    mmcv_iou = box_iou_rotated(boxes[:10], boxes[10:], aligned=True)
    assert np.allclose(mmcv_iou.numpy(), shapely_iou, atol=1e-4)
    points = boxes[:, :2] + torch.randn(20, 2)
    assert torch.allclose(decode(points, encode(points, boxes)), boxes, atol=1e-4)
    with pytest.raises(ValueError, match='finite'):
        quad_to_rbox([0, 0, 1, float('nan'), 1, 1, 0, 1])
    with pytest.raises(ValueError, match='>= 3'):
        quad_to_rbox([0, 0, 1, 1])


def build(cfg_path, det_root):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmocr.registry import DATASETS, MODELS
    init_default_scope('mmocr')
    cfg = Config.fromfile(cfg_path)
    ds = dict(cfg.test_dataloader.dataset, data_root=str(det_root))
    return MODELS.build(cfg.model), DATASETS.build(ds)


@pytest.mark.parametrize('scenes', ['easy', 'hard'])
def test_perfect_maps_decode_to_the_true_polygons(scenes, request):
    """Score and geometry maps made from the targets themselves: the
    postprocessor must return every true box (hmean 1 with MMOCR's metric),
    so targets, decoding, NMS and rescaling agree -- also on the hard scenes'
    small, dense and touching words."""
    from mmocr.evaluation import HmeanIOUMetric

    from lsmmocr.textdet.rbox_module_loss import rbox_targets
    root = request.getfixturevalue('det_root' if scenes == 'easy' else 'hard_root')
    model, dataset = build(RBOX if scenes == 'easy' else HARD, root)
    metric = HmeanIOUMetric()
    metric.dataset_meta = dataset.metainfo
    head = model.det_head
    for k in range(len(dataset)):
        data = model.data_preprocessor(dict(
            inputs=[dataset[k]['inputs']], data_samples=[dataset[k]['data_samples']]))
        samples = data['data_samples']
        hw = (data['inputs'].shape[2] // 4, data['inputs'].shape[3] // 4)
        t = rbox_targets(samples, hw, head.module_loss.shrink)
        text, boxes = t['text'], t['boxes']
        points = pixel_centres(hw, samples[0].batch_input_shape)
        geometry = encode(points, boxes[0]).t().reshape(1, 5, *hw)
        score = (text.float() * 20 - 10).reshape(1, *hw)
        assert text.any()
        pred = head.postprocessor((score, geometry), samples)[0]
        assert len(pred.pred_instances.polygons) == len(samples[0].gt_instances)
        metric.process(None, [pred.to_dict()])
    assert metric.evaluate(len(dataset))['icdar/hmean'] == pytest.approx(1.0)


def test_loss_is_finite_and_trains_every_part(det_root):
    model, dataset = build(RBOX, det_root)
    data = model.data_preprocessor(dict(
        inputs=[dataset[k]['inputs'] for k in range(2)],
        data_samples=[dataset[k]['data_samples'] for k in range(2)]), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_score', 'loss_geometry', 'loss_angle'}
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert model.det_head.out.weight.grad.abs().sum() > 0
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    # An image with no text: the geometry has no target, and says so by 0.
    empty = data['data_samples'][0].clone()
    empty.gt_instances = empty.gt_instances[:0]
    out = model.det_head(model.extract_feat(data['inputs'][:1]))
    zero = model.det_head.module_loss(out, [empty])
    assert zero['loss_geometry'] == 0 and torch.isfinite(zero['loss_score'])


@pytest.mark.skipif(not bf16_supported(), reason='no bfloat16 instructions')
def test_bf16_wrapper_autocasts_the_detector_and_keeps_its_loss_float32(
        det_root, monkeypatch):
    from lsmmocr.engine import CPUBF16OptimWrapper
    model, dataset = build(HARD, det_root)
    data = model.data_preprocessor(dict(
        inputs=[dataset[k]['inputs'] for k in range(2)],
        data_samples=[dataset[k]['data_samples'] for k in range(2)]), True)
    wrapper = CPUBF16OptimWrapper(torch.optim.Adam(model.parameters()))
    seen = {}
    loss = model.det_head.module_loss
    model.backbone.register_forward_hook(
        lambda m, args, out: seen.update(backbone=out[-1].dtype))
    score_loss = loss.score_loss  # the score logits the dice loss is given
    monkeypatch.setattr(loss, 'score_loss', lambda t: seen.setdefault(
        'score', []).append(t['score'].dtype) or score_loss(t))
    with torch.autocast('cpu', dtype=torch.bfloat16):  # plain autocast
        plain = model(**data, mode='loss')
    with wrapper.optim_context(model):
        losses = model(**data, mode='loss')
    assert seen == dict(backbone=torch.bfloat16,
                        score=[torch.bfloat16, torch.float32])
    for name, value in losses.items():
        assert value.dtype == torch.float32
        assert torch.isclose(value, plain[name].float(), rtol=0.05), name
    assert 'forward' not in vars(loss)  # the loss is itself again


def train(work, iters, det_root, resume=False, config=RBOX, expect_kill=False):
    args = [str(config), '--work-dir', str(work), *(['--resume'] if resume else []),
            '--cfg-options', *OPTS, f'train_cfg.max_iters={iters}']
    train_tool(args, dict(LSMMOCR_SYNTH_DET_ROOT=str(det_root),
                          PYTHONPATH=str(REPO / 'tests')), expect_kill)
    if not expect_kill:
        return torch.load(work / f'iter_{iters}.pth', weights_only=False)


@pytest.mark.slow
def test_detector_trains_resumes_exactly_and_tools_test_evaluates(det_root, tmp_path):
    killed = killed_config(tmp_path, RBOX)
    straight = train(tmp_path / 'a', 4, det_root)
    train(tmp_path / 'b', 4, det_root, config=killed, expect_kill=True)
    assert (tmp_path / 'b/iter_2.pth').exists()
    resumed = train(tmp_path / 'b', 4, det_root, resume=True)
    first = torch.load(tmp_path / 'a/iter_2.pth', weights_only=False)['state_dict']
    assert any(not torch.equal(first[k], v)
               for k, v in straight['state_dict'].items())  # it trains
    for k, v in straight['state_dict'].items():
        assert torch.equal(v, resumed['state_dict'][k]), k
    proc = run_tool(['tools/test.py', RBOX, str(tmp_path / 'a/iter_4.pth'),
                     '--work-dir', str(tmp_path / 'test'), '--cfg-options',
                     'test_dataloader.num_workers=0'],
                    REPO, dict(LSMMOCR_SYNTH_DET_ROOT=str(det_root)))
    assert 'icdar/hmean' in proc.stdout + proc.stderr


def test_instrument_pairs_are_the_detectors_pixels_and_east_its_loss(hard_root):
    """The gradient-quality instrument on the shipped hard-scene detector:
    its pairs are the boxes the text pixels predict (EAST's loss on them is
    the detector's own geometry loss), and they overlap their truths."""
    from mmengine.runner import load_checkpoint

    from lsmmocr.diagnostics.box_gradient_quality import (box_gradient_quality,
                                                          detector_pairs, east_loss)
    model, dataset = build(HARD, hard_root)
    load_checkpoint(model, DETECTOR, map_location='cpu', logger='silent')
    items = [dataset[i] for i in range(len(dataset))]
    pairs, points, scale = detector_pairs(model.eval(), items[:1], max_pairs=10 ** 9)
    data = model.data_preprocessor(dict(inputs=[items[0]['inputs']],
                                        data_samples=[items[0]['data_samples']]))
    with torch.no_grad():
        own = model.det_head.module_loss(
            model.det_head(model.extract_feat(data['inputs'])), data['data_samples'])
    east = east_loss(points, scale)
    assert float(east(pairs.z, pairs.y).mean()) == pytest.approx(
        float(own['loss_geometry'] + own['loss_angle']), rel=1e-4)
    assert float(east(pairs.y, pairs.y).abs().max()) < 1e-4
    pairs, points, scale = detector_pairs(model, items, max_pairs=2000)
    iou0 = float(1 - pairs.e.mean())
    assert iou0 > 0.4  # a trained detector's boxes, not noise
    res = box_gradient_quality(pairs, {'east': east_loss(points, scale)}, (0.03,))
    assert res['east']['iou'][0.03] > iou0 > res['random']['iou'][0.03]


def test_detection_errors_sorts_every_true_word(hard_root):
    """benchmarks/detection_errors.py on the shipped detector: each true
    word of the scenes lands in exactly one kind."""
    import json
    words = sum(len(img['instances']) for img in json.loads(
        (hard_root / 'textdet_test.json').read_text())['data_list'])
    proc = run_tool(['benchmarks/detection_errors.py', HARD, f'shipped={DETECTOR}',
                     '--num-images', '4'], REPO,
                    dict(LSMMOCR_SYNTH_DET_HARD_ROOT=str(hard_root)))
    row = next(line for line in proc.stdout.splitlines()
               if line.startswith('| shipped |'))
    cells = [c.strip() for c in row.strip('|').split('|')]
    counts = [int(c.split()[0]) for c in cells[2:]]
    assert int(cells[1]) == sum(counts) == words and len(counts) == 4
    assert counts[0] > 0  # it finds words
