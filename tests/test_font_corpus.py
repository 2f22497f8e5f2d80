"""The system font corpus: glyph coverage, design groups, family-disjoint
splits, a bad font file, and the 'rich' renderer on it."""
import numpy as np
import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

from lsmmocr.datasets import SynthTextGenerator, read_charset
from lsmmocr.datasets.font_registry import (SYSTEM_FONT_DIRS, FontRegistry,
                                            design_group, font_paths, split_of,
                                            unusable_reason)
from lsmmocr.datasets.fonts import font_dir
from lsmmocr.datasets.renderer import RenderConfig, render_config
from lsmmocr.utils import mmocr_dict_file

CHARSET = read_charset(mmocr_dict_file('lower_english_digits.txt'))
HAS_SYSTEM_FONTS = bool(font_paths(SYSTEM_FONT_DIRS))
needs_system_fonts = pytest.mark.skipif(
    not HAS_SYSTEM_FONTS, reason='no system fonts (make setup installs them)')


def make_font(path, chars: str, inked: str, family: str = 'Probe Sans'):
    """A TrueType font mapping ``chars``; only those in ``inked`` have a
    contour (a square), the others are empty glyphs."""
    names = ['.notdef'] + [f'g{ord(c)}' for c in chars]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({ord(c): f'g{ord(c)}' for c in chars})
    glyphs = {}
    for name in names:
        pen = TTGlyphPen(None)
        if name != '.notdef' and chr(int(name[1:])) in inked:
            pen.moveTo((100, 0))
            pen.lineTo((100, 700))
            pen.lineTo((600, 700))
            pen.lineTo((600, 0))
            pen.closePath()
        glyphs[name] = pen.glyph()
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics({n: (700, 100) for n in names})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable(dict(familyName=family, styleName='Regular'))
    fb.setupOS2()
    fb.setupPost()
    fb.save(str(path))
    return path


def test_glyph_coverage_is_checked_in_the_cmap_and_by_ink(tmp_path):
    full = make_font(tmp_path / 'full.ttf', CHARSET, CHARSET)
    letters = ''.join(c for c in CHARSET if c.isalpha())
    no_digits = make_font(tmp_path / 'letters.ttf', letters, letters)
    blank_q = make_font(tmp_path / 'blank.ttf', CHARSET, CHARSET.replace('q', ''))
    assert unusable_reason(str(full), CHARSET) is None
    assert "no glyph for '0123456789'" in unusable_reason(str(no_digits), CHARSET)
    assert "blank glyph for 'q'" in unusable_reason(str(blank_q), CHARSET)
    # matplotlib's bundled fonts: text fonts pass, a symbol font does not.
    assert unusable_reason(str(font_dir() / 'DejaVuSans.ttf'), CHARSET) is None
    assert unusable_reason(str(font_dir() / 'cmex10.ttf'), CHARSET)


def test_bad_font_file_is_skipped_with_a_warning_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv('LSMMOCR_CACHE', str(tmp_path / 'cache'))
    fonts = tmp_path / 'fonts'
    fonts.mkdir()
    make_font(fonts / 'good.ttf', CHARSET, CHARSET)
    (fonts / 'broken.ttf').write_bytes(b'\x00\x01\x00\x00 not a font')
    for _ in range(2):  # scanned, then read from the cache: same warning
        with pytest.warns(UserWarning, match=r'skipped .*broken\.ttf: unreadable'):
            registry = FontRegistry(CHARSET, dirs=[str(fonts)])
        assert str(fonts / 'good.ttf') in [f.path for f in registry.fonts]
        assert str(fonts / 'broken.ttf') in registry.dropped


def test_clones_share_a_design_group_and_groups_a_fixed_split():
    clones = ['TeX Gyre Termes', 'Nimbus Roman', 'Liberation Serif', 'FreeSerif']
    assert {design_group(f) for f in clones} == {'urw-base35'}
    assert design_group('Noto Sans') == design_group('Noto Serif Display') == 'noto'
    assert design_group('CMU Serif') == design_group('cmr10') == 'computer-modern'
    splits = [split_of(f'group{i}') for i in range(2000)]
    assert splits == [split_of(f'group{i}') for i in range(2000)]
    share = {s: splits.count(s) / len(splits) for s in ('train', 'val', 'test')}
    assert 0.75 < share['train'] < 0.85 and 0.07 < share['test'] < 0.13


@needs_system_fonts
def test_system_splits_are_family_and_design_disjoint():
    registry = FontRegistry(CHARSET)
    groups, families = {}, {}
    for split in ('train', 'val', 'test'):
        fams = registry.families(split)
        families[split] = set(fams)
        groups[split] = {design_group(f) for f in fams}
        assert fams, f'no family in the {split} split'
        for paths in fams.values():
            assert all(unusable_reason(p, CHARSET) is None for p in paths[:1])
    for a, b in (('train', 'val'), ('train', 'test'), ('val', 'test')):
        assert not families[a] & families[b]
        assert not groups[a] & groups[b]
    counts = registry.counts()
    assert counts['test'][1] >= 10 and counts['train'][1] >= 100, counts
    with pytest.raises(KeyError, match="'dev'"):
        registry.families('dev')


@needs_system_fonts
def test_rich_system_samples_are_deterministic_and_use_their_split():
    a = SynthTextGenerator(CHARSET, seed=3, font_corpus='system', render_cfg='rich')
    b = SynthTextGenerator(CHARSET, seed=3, font_corpus='system', render_cfg='rich')
    test_files = set(a.fonts['test'].files)
    for i in range(6):
        img_a, text_a, font_a = a.sample('test', i)
        img_b, text_b, font_b = b.sample('test', i)
        assert np.array_equal(img_a, img_b) and (text_a, font_a) == (text_b, font_b)
        assert font_a in test_files and font_a not in a.fonts['train'].files
        assert img_a.dtype == np.uint8 and img_a.ndim == 3


def test_render_presets_and_bad_settings_are_named():
    assert render_config(None) == render_config('plain') == RenderConfig()
    rich = render_config('rich')
    assert rich.fit_warp and rich.jpeg_prob > 0
    no_jpeg = render_config(dict(preset='rich', jpeg_prob=0.0))
    assert no_jpeg.jpeg_prob == 0 and no_jpeg.curve_prob == rich.curve_prob
    with pytest.raises(ValueError, match="'glossy'"):
        render_config('glossy')
    with pytest.raises(ValueError, match='shine'):
        render_config(dict(shine=1))
    with pytest.raises(ValueError, match='min_contrast'):
        render_config(dict(min_contrast=200))
    with pytest.raises(ValueError, match="'comic'"):
        SynthTextGenerator(CHARSET, font_corpus='comic')


def test_fitted_warp_keeps_all_ink_in_the_crop():
    """The rich preset's fitted warp: rotation and perspective move no ink
    off the crop (the unfitted warp of the plain preset can)."""
    import cv2

    from lsmmocr.datasets.renderer import _homography, fitted
    mask = np.ones((40, 200), np.float32)
    lost = []
    for seed in range(20):
        warp = _homography(200, 40, render_config('rich'), np.random.default_rng(seed))
        quad = cv2.perspectiveTransform(
            np.float32([[[0, 0], [200, 0], [200, 40], [0, 40]]]), warp)
        area = cv2.contourArea(quad)  # of the warped crop
        fit, size = fitted(warp, 200, 40)
        kept = cv2.warpPerspective(mask, fit, size).sum()
        assert kept > 0.97 * area, seed
        lost.append(cv2.warpPerspective(mask, warp, (200, 40)).sum() < 0.97 * area)
    assert any(lost)  # without fitting, some ink leaves the crop
