"""The synthetic scene-text generator."""
import json

import numpy as np
import pytest
from conftest import CONFIGS

from lsmmocr.datasets import SynthTextGenerator, read_charset
from lsmmocr.datasets.fonts import split_families
from lsmmocr.utils import mmocr_dict_file

CHARSET = read_charset(mmocr_dict_file('lower_english_digits.txt'))


def test_same_seed_same_samples_other_seed_others():
    a, b = SynthTextGenerator(CHARSET, seed=1), SynthTextGenerator(CHARSET, seed=1)
    c = SynthTextGenerator(CHARSET, seed=2)
    for i in range(5):
        img_a, text_a, font_a = a.sample('train', i)
        img_b, text_b, font_b = b.sample('train', i)
        assert np.array_equal(img_a, img_b) and (text_a, font_a) == (text_b, font_b)
    assert [c.sample('train', i)[1] for i in range(10)] != [
        a.sample('train', i)[1] for i in range(10)]


def test_written_split_is_deterministic_and_in_mmocr_format(tmp_path):
    gen = SynthTextGenerator(CHARSET, seed=0, max_len=8)
    for out in ('x', 'y'):
        gen.write_split(str(tmp_path / out), 'val', 6)
    ann_x = json.loads((tmp_path / 'x/textrecog_val.json').read_text())
    ann_y = json.loads((tmp_path / 'y/textrecog_val.json').read_text())
    assert ann_x == ann_y
    assert ann_x['metainfo'] == dict(dataset_type='TextRecogDataset',
                                     task_name='textrecog')
    for item in ann_x['data_list']:
        text = item['instances'][0]['text']
        assert 1 <= len(text) <= 8
        assert all(c.lower() in CHARSET for c in text)
        assert (tmp_path / 'x' / item['img_path']).read_bytes() == (
            tmp_path / 'y' / item['img_path']).read_bytes()


def test_test_split_fonts_are_unseen(synth_root):
    fonts = {split: {d['font'] for d in json.loads(
        (synth_root / f'textrecog_{split}.json').read_text())['data_list']}
        for split in ('train', 'val', 'test')}
    assert fonts['train'] and fonts['test']
    assert not fonts['test'] & (fonts['train'] | fonts['val'])
    fams = split_families()
    assert not set(fams['test']) & set(fams['train'])


def test_unknown_split_and_family_are_named():
    gen = SynthTextGenerator(CHARSET)
    with pytest.raises(KeyError, match="'dev'"):
        gen.sample('dev', 0)
    with pytest.raises(KeyError, match='comic-sans'):
        SynthTextGenerator(CHARSET, test_families=['comic-sans'])


def test_online_dataset_serves_the_written_samples(synth_root):
    """Sample i rendered on the fly is the i-th written sample (up to JPEG),
    through MMOCR's own CRNN pipeline (grey) and ConcatDataset."""
    from mmengine.config import Config
    from mmocr.registry import DATASETS
    cfg = Config.fromfile(
        str(CONFIGS / 'textrecog/crnn/crnn_mini-vgg_synth_online.py'))
    online = dict(cfg.synth_online_train, num_samples=16, max_len=8)
    on_disk = dict(type='OCRDataset', data_root=str(synth_root),
                   ann_file='textrecog_train.json')
    sets = [DATASETS.build(dict(type='ConcatDataset', datasets=[d],
                                pipeline=cfg.train_pipeline))
            for d in (online, on_disk)]
    assert len(sets[0]) == 16
    for i in range(4):
        a, b = (s[i] for s in sets)
        assert a['data_samples'].gt_text.item == b['data_samples'].gt_text.item
        assert a['inputs'].shape == b['inputs'].shape == (1, 32, 100)
        diff = (a['inputs'].float() - b['inputs'].float()).abs().mean()
        assert diff < 4, f'sample {i}: mean |online - written| = {diff}'
    with pytest.raises(ValueError, match='LoadImageFromFile'):
        DATASETS.build(dict(online, pipeline=[dict(type='Resize', scale=(8, 8))]))
