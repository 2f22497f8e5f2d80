"""A CTC decoder's frame count is found by running the model, never typed."""
import pytest
import torch
from conftest import CONFIGS
from mmengine.config import Config

from lsmmocr.engine import config_task
from lsmmocr.surrogates.checkpoint import (build_surrogate, load_surrogate_file,
                                           surrogate_state)

POSTTUNE = CONFIGS / '_base_/lsed_posttune.py'
CRNN_SYNTH = CONFIGS / 'textrecog/crnn/crnn_mini-vgg_lsed_synth.py'


def posttune_config(tmp_path, base: str, extra: str = '') -> Config:
    """A post-tuning config as a user writes it: two ``_base_`` lines."""
    path = tmp_path / 'posttune.py'
    path.write_text(f"_base_ = ['{base}', '{POSTTUNE}']\n{extra}")
    return Config.fromfile(str(path))


@pytest.mark.parametrize('name,frames', [('svtr-tiny', 25), ('svtr-base', 40)])
def test_svtr_configs_need_no_frame_count(tmp_path, name, frames):
    cfg = posttune_config(tmp_path, f'mmocr::textrecog/svtr/{name}_20e_st_mj.py')
    assert config_task(cfg).layout.seq_len == frames


def test_a_surrogate_made_for_another_frame_count_is_refused(tmp_path):
    crnn = config_task(Config.fromfile(str(CRNN_SYNTH))).layout
    assert crnn.seq_len == 26
    svtr = config_task(posttune_config(
        tmp_path, 'mmocr::textrecog/svtr/svtr-tiny_20e_st_mj.py')).layout
    cfg = dict(type='EditDistanceEmbedding')
    path = tmp_path / 'phi.pth'
    torch.save(surrogate_state(build_surrogate(cfg, crnn), crnn, cfg), path)
    with pytest.raises(ValueError, match='seq_len: checkpoint has 26, model needs 25'):
        load_surrogate_file(str(path), svtr)


def test_a_width_dependent_frame_count_is_reported(tmp_path):
    keep_ratio = (
        "train_pipeline = [\n"
        "    dict(type='LoadImageFromFile', color_type='grayscale'),\n"
        "    dict(type='LoadOCRAnnotations', with_text=True),\n"
        "    dict(type='RescaleToHeight', height=32, min_width=32),\n"
        "    dict(type='PackTextRecogInputs')]\n")
    crnn = CONFIGS / 'textrecog/crnn/crnn_mini-vgg_synth.py'
    cfg = posttune_config(tmp_path, str(crnn), keep_ratio)
    with pytest.raises(ValueError, match='depends on the crop width .*26 for '
                       'a 100-pixel-wide crop.*set post_tune.module_loss'):
        config_task(cfg)
    # Given, it is used as is.
    cfg.merge_from_dict({'post_tune.module_loss.ctc_seq_len': 26})
    assert config_task(cfg).layout.seq_len == 26
