"""The synthetic detection scenes, read by MMOCR's own dataset, pipeline and
hmean metric."""
import json

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from shapely.geometry import Polygon

from lsmmocr.datasets import OnlineSynthSceneDataset, SynthSceneGenerator, read_charset
from lsmmocr.datasets.fonts import split_families
from lsmmocr.datasets.synth_sets import make_synth_dataset
from lsmmocr.utils import mmocr_dict_file

DICT = mmocr_dict_file('lower_english_digits.txt')
PIPELINE = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation'),
    dict(type='LoadOCRAnnotations', with_polygon=True, with_bbox=True,
         with_label=True),
    dict(type='PackTextDetInputs', meta_keys=('img_path', 'ori_shape', 'img_shape')),
]


@pytest.fixture(scope='module')
def det_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('det')
    make_synth_dataset(str(root), DICT, dict(train=6, test=6), task='textdet')
    return root


def test_scenes_are_deterministic_rectangles_inside_and_apart():
    a, b = (SynthSceneGenerator(read_charset(DICT), seed=3) for _ in range(2))
    words = 0
    for i in range(8):
        (img_a, inst_a), (img_b, inst_b) = a.sample('train', i), b.sample('train', i)
        assert np.array_equal(img_a, img_b) and inst_a == inst_b
        h, w = img_a.shape[:2]
        polys = [Polygon(np.reshape(d['polygon'], (4, 2))) for d in inst_a]
        for p, d in zip(polys, inst_a):
            quad = np.reshape(d['polygon'], (4, 2))
            sides = np.roll(quad, -1, 0) - quad
            assert abs(np.dot(sides[0], sides[1])) < 1e-6  # a right angle
            assert quad.min() >= 0 and quad[:, 0].max() <= w and quad[:, 1].max() <= h
            assert d['text'] and p.area > 0
        assert all(not p.intersects(q) for j, p in enumerate(polys)
                   for q in polys[j + 1:])
        words += len(polys)
    assert words >= 8
    assert a.sample('train', 0)[1] != SynthSceneGenerator(
        read_charset(DICT), seed=4).sample('train', 0)[1]


def test_hard_scenes_are_dense_rotated_any_way_and_deterministic():
    gen = SynthSceneGenerator(read_charset(DICT), seed=0, scene_cfg='hard',
                              font_corpus='system')
    again = SynthSceneGenerator(read_charset(DICT), seed=0,
                                scene_cfg=dict(preset='hard'),
                                font_corpus='system')
    angles, counts = [], []
    for i in range(6):
        img, inst = gen.sample('test', i)
        assert np.array_equal(img, again.sample('test', i)[0])
        h, w = img.shape[:2]
        counts.append(len(inst))
        for d in inst:
            quad = np.reshape(d['polygon'], (4, 2))
            sides = np.roll(quad, -1, 0) - quad
            assert abs(np.dot(sides[0], sides[1])) < 1e-6 * np.abs(sides).max() ** 2
            assert quad.min() >= -1e-6 and quad[:, 0].max() <= w + 1e-6
            angles.append(np.degrees(np.arctan2(-sides[0][1], sides[0][0])))
        polys = [Polygon(np.reshape(d['polygon'], (4, 2))) for d in inst]
        for j, p in enumerate(polys):  # a line's warped words may touch
            assert all(p.intersection(q).area < 0.1 * min(p.area, q.area)
                       for q in polys[j + 1:])
    assert np.mean(counts) >= 5
    assert max(np.abs(angles)) > 70  # beyond the easy preset's ±60°
    with pytest.raises(ValueError, match="unknown scene preset 'hardest'"):
        SynthSceneGenerator(read_charset(DICT), scene_cfg='hardest')
    with pytest.raises(ValueError, match='bad scene config'):
        SynthSceneGenerator(read_charset(DICT), scene_cfg=dict(words_=3))


def test_a_placed_word_keeps_its_gap_as_later_words_come():
    """Each word's taken region is grown by the gap once: the margin round
    an early word does not widen with every later word."""
    gen = SynthSceneGenerator(read_charset(DICT), seed=0)
    rng = np.random.default_rng(0)
    taken = np.zeros((256, 256), np.uint8)
    mask = np.ones((10, 30), np.float32)
    regions = []
    for _ in range(4):
        affine = gen._put(taken, mask, 0.0, rng)
        quad = np.float64([[0, 0], [30, 0], [30, 10], [0, 10]])
        region = np.zeros_like(taken)
        cv2.fillPoly(region, [np.round(quad @ affine[:, :2].T + affine[:, 2])
                              .astype(np.int32)], 1)
        regions.append(cv2.dilate(region, np.ones((9, 9), np.uint8)))  # gap 4
    assert np.array_equal(taken, np.bitwise_or.reduce(regions))


def test_written_set_is_mmocr_textdet_with_unseen_test_fonts(det_root):
    ann = {s: json.loads((det_root / f'textdet_{s}.json').read_text())
           for s in ('train', 'test')}
    assert ann['train']['metainfo']['task_name'] == 'textdet'
    gen = SynthSceneGenerator(read_charset(DICT))
    fonts = {s: {i['font'] for k in range(6) for i in gen.sample(s, k)[1]}
             for s in ann}
    assert fonts['train'] and fonts['test'] and not fonts['train'] & fonts['test']
    assert set(split_families()['test']).isdisjoint(split_families()['train'])
    for k, item in enumerate(ann['test']['data_list']):
        assert [i['polygon'] for i in item['instances']] == [
            i['polygon'] for i in gen.sample('test', k)[1]]
        for inst in item['instances']:
            xy = np.reshape(inst['polygon'], (4, 2))
            assert inst['bbox'] == [*xy.min(0), *xy.max(0)]


def test_mmocr_reads_disk_and_online_sets_alike_and_hmean_of_truth_is_one(det_root):
    from mmocr.evaluation import HmeanIOUMetric
    from mmocr.registry import DATASETS
    init_default_scope('mmocr')
    disk = DATASETS.build(dict(type='OCRDataset', data_root=str(det_root),
                               ann_file='textdet_test.json', pipeline=PIPELINE))
    online = OnlineSynthSceneDataset(DICT, 6, split='test', pipeline=PIPELINE)
    metric = HmeanIOUMetric()
    metric.dataset_meta = disk.metainfo
    for k in range(6):
        a, b = disk[k]['data_samples'], online[k]['data_samples']
        assert torch.allclose(a.gt_instances.bboxes, b.gt_instances.bboxes)
        assert all(np.allclose(p, q) for p, q in zip(
            a.gt_instances.polygons, b.gt_instances.polygons))
        img = online.get_data_info(k)['img']  # what was written, before JPEG
        jpeg = cv2.imdecode(cv2.imencode(
            '.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, 95])[1], cv2.IMREAD_COLOR)
        assert np.array_equal(jpeg, cv2.imread(str(det_root / disk.get_data_info(
            k)['img_path'])))
        pred = a.clone()
        pred.pred_instances = a.gt_instances.clone()
        pred.pred_instances.scores = torch.ones(len(a.gt_instances))
        metric.process(None, [pred.to_dict()])
    assert metric.evaluate(6)['icdar/hmean'] == pytest.approx(1.0)


def test_bad_split_and_size_are_named():
    with pytest.raises(ValueError, match="'dev'"):
        OnlineSynthSceneDataset(DICT, num_samples=2, split='dev')
    with pytest.raises(ValueError, match='num_samples'):
        OnlineSynthSceneDataset(DICT, num_samples=0)
    with pytest.raises(ValueError, match="'textseg'"):
        make_synth_dataset('/nonexistent', DICT, dict(train=1), task='textseg')
