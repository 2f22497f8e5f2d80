"""TrueType fonts available offline, grouped into families for font-disjoint splits."""
import os.path as osp
from pathlib import Path
from typing import Dict, List, Sequence

import matplotlib

# matplotlib bundles these TrueType files (mpl-data/fonts/ttf). Symbol-only
# fonts (cmex10, cmsy10, STIXSize*, STIXNonUni*) and the glyph-poor Display
# variants are left out: they cannot render plain words.
FONT_FAMILIES: Dict[str, Sequence[str]] = {
    'dejavu-sans': ('DejaVuSans.ttf', 'DejaVuSans-Bold.ttf',
                    'DejaVuSans-Oblique.ttf', 'DejaVuSans-BoldOblique.ttf'),
    'dejavu-mono': ('DejaVuSansMono.ttf', 'DejaVuSansMono-Bold.ttf',
                    'DejaVuSansMono-Oblique.ttf',
                    'DejaVuSansMono-BoldOblique.ttf'),
    'computer-modern': ('cmr10.ttf', 'cmb10.ttf', 'cmss10.ttf', 'cmtt10.ttf'),
    'dejavu-serif': ('DejaVuSerif.ttf', 'DejaVuSerif-Bold.ttf',
                     'DejaVuSerif-Italic.ttf', 'DejaVuSerif-BoldItalic.ttf'),
    'stix': ('STIXGeneral.ttf', 'STIXGeneralBol.ttf', 'STIXGeneralItalic.ttf',
             'STIXGeneralBolIta.ttf'),
}

# Families held out of training by default: the test split renders only
# these, so it measures recognition in fonts the model never saw.
DEFAULT_TEST_FAMILIES = ('dejavu-serif', 'stix')


def font_dir() -> Path:
    """Directory of matplotlib's bundled TrueType fonts."""
    return Path(matplotlib.get_data_path()) / 'fonts' / 'ttf'


def font_files(families: Sequence[str]) -> List[str]:
    """Paths of every font file of ``families``, in a fixed order.

    Raises:
        KeyError: a family is unknown.
        FileNotFoundError: a font file is missing from matplotlib's data.
    """
    unknown = [f for f in families if f not in FONT_FAMILIES]
    if unknown:
        raise KeyError(f'unknown font families {unknown}; '
                       f'known: {sorted(FONT_FAMILIES)}')
    paths = [str(font_dir() / name) for fam in families
             for name in FONT_FAMILIES[fam]]
    missing = [p for p in paths if not osp.isfile(p)]
    if missing:
        raise FileNotFoundError(f'font files not found: {missing}')
    return paths


def split_families(test_families: Sequence[str] = DEFAULT_TEST_FAMILIES
                   ) -> Dict[str, List[str]]:
    """Map split name to font families: train/val share, test is disjoint."""
    train = [f for f in FONT_FAMILIES if f not in test_families]
    return dict(train=train, val=train, test=list(test_families))
