"""The installed fonts as a corpus: discovered on disk, filtered by glyph
coverage of a dictionary, grouped into families, and split family-disjointly.

``tools/setup_env.sh`` installs Debian's font packages listed in
``tools/font_packages.txt`` (about 600 families); matplotlib's bundled fonts
are always part of the corpus, so it is never empty.

Two fonts that are one design under two names (metric-compatible clones such
as Nimbus Roman / TeX Gyre Termes / Liberation Serif, or one typeface's
families like "Noto Sans" and "Noto Serif") are one *design group*; splits
assign whole groups, so a test font is never a renamed training font.
"""
import hashlib
import json
import os
import os.path as osp
import re
import warnings
import zlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from fontTools.agl import toUnicode
from fontTools.ttLib import TTFont
from PIL import ImageFont

from ..utils import cache_root, write_json
from .fonts import font_dir, font_files, split_families

SYSTEM_FONT_DIRS = ('/usr/share/fonts', '/usr/local/share/fonts',
                    '~/.local/share/fonts', '~/.fonts')
FONT_SUFFIXES = ('.ttf', '.otf')
SPLIT_FRACTIONS = (('train', 0.8), ('val', 0.1), ('test', 0.1))
SCAN_VERSION = 2  # bump when the scan's rules change (invalidates caches)

# Metric-compatible clones of one design, keyed by the first word of their
# family names (see :func:`design_group`).
CLONES = {
    'urw-base35': ('nimbus', 'tex', 'liberation', 'freeserif', 'freesans',
                   'freemono', 'tinos', 'arimo', 'cousine', 'urw', 'c059',
                   'p052', 'z003', 'd050000l', 'standard'),
    'computer-modern': ('cmu', 'latin', 'lm', 'cmr10', 'cmb10', 'cmss10',
                        'cmtt10'),
}
_CLONE_OF = {word: group for group, words in CLONES.items() for word in words}


@dataclass(frozen=True)
class FontInfo:
    """One usable font file: its path, family name and design group."""
    path: str
    family: str
    group: str


def design_group(family: str) -> str:
    """The design group of a family name: its first word, lower case, with
    known clones merged (``'TeX Gyre Termes'`` → ``'urw-base35'``)."""
    word = re.split(r'[\s_-]+', family.strip().lower())[0]
    return _CLONE_OF.get(word, word)


def split_of(group: str) -> str:
    """The split of a design group: fixed by a hash of its name, so adding
    fonts never moves an existing group to another split."""
    u = (zlib.crc32(group.encode()) % 1000) / 1000
    for split, fraction in SPLIT_FRACTIONS:
        if u < fraction:
            return split
        u -= fraction
    return SPLIT_FRACTIONS[-1][0]


def family_name(font: TTFont) -> str:
    """Typographic family (name ID 16), else the legacy family (ID 1)."""
    name = font['name']
    return name.getDebugName(16) or name.getDebugName(1) or ''


def _open_font(path: str) -> Tuple[Dict[int, str], str, ImageFont.FreeTypeFont]:
    """The character map, family name and a renderer of the font file."""
    with TTFont(path, lazy=True, fontNumber=0) as font:
        cmap, family = font.getBestCmap() or {}, family_name(font)
    return cmap, family, ImageFont.truetype(path, 24)


def unusable_reason(path: str, charset: str) -> Optional[str]:
    """Why the font at ``path`` cannot render every character of
    ``charset`` (no glyph in its character map, a glyph named as another
    character, as symbol fonts map letters to symbols, or a glyph without
    ink), or None if it can. Case is ignored: an all-caps font reads."""
    try:
        cmap, _, pil_font = _open_font(path)
    except Exception as e:  # noqa: BLE001  (any defect of a foreign file)
        return f'unreadable font file: {e!r}'
    return _coverage_gap(cmap, pil_font, charset)


def _coverage_gap(cmap: Dict[int, str], pil_font: ImageFont.FreeTypeFont,
                  charset: str) -> Optional[str]:
    ink = [c for c in charset if not c.isspace()]
    missing = [c for c in ink if ord(c) not in cmap]
    if missing:
        return f'no glyph for {"".join(missing[:10])!r}'
    named = {c: toUnicode(cmap[ord(c)]) for c in ink}
    other = [f'{c!r} is {cmap[ord(c)]!r}' for c, u in named.items()
             if u and u.lower() != c.lower()]
    if other:
        return f'glyphs of other characters: {", ".join(other[:3])}'
    blank = [c for c in ink if pil_font.getmask(c).getbbox() is None]
    if blank:
        return f'blank glyph for {"".join(blank[:10])!r}'
    return None


def font_paths(dirs: Iterable[str]) -> List[str]:
    """Every TrueType/OpenType file under ``dirs`` (sorted, deduplicated)."""
    found = set()
    for d in dirs:
        root = Path(osp.expanduser(d))
        if root.is_dir():
            found.update(str(p) for p in root.rglob('*')
                         if p.suffix.lower() in FONT_SUFFIXES and p.is_file())
    return sorted(found)


def scan_fonts(paths: Sequence[str], charset: str
               ) -> Tuple[List[FontInfo], Dict[str, str]]:
    """Usable fonts among ``paths`` and the reason for each one dropped.

    A family that appears twice (the same font from two packages) keeps its
    first file of each base name.
    """
    fonts, dropped, seen = [], {}, set()
    for path in paths:
        try:
            cmap, family, pil_font = _open_font(path)
        except Exception as e:  # noqa: BLE001  (any defect of a foreign file)
            dropped[path] = f'unreadable font file: {e!r}'
            continue
        reason = _coverage_gap(cmap, pil_font, charset)
        if reason:
            dropped[path] = reason
            continue
        key = (family, osp.basename(path).lower())
        if not family or key in seen:
            dropped[path] = 'no family name' if not family else 'duplicate'
            continue
        seen.add(key)
        fonts.append(FontInfo(path, family, design_group(family)))
    return fonts, dropped


def _cache_file(paths: Sequence[str], charset: str) -> Path:
    stats = [(p, os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in paths]
    digest = hashlib.sha1(
        json.dumps([SCAN_VERSION, charset, stats]).encode()).hexdigest()[:16]
    return Path(cache_root()) / 'fonts' / f'scan-{digest}.json'


def cached_scan(paths: Sequence[str], charset: str
                ) -> Tuple[List[FontInfo], Dict[str, str]]:
    """:func:`scan_fonts`, remembered on disk (about 8 s for 1500 files)
    under the files' sizes and modification times and the charset."""
    cache = _cache_file(paths, charset)
    if cache.is_file():
        data = json.loads(cache.read_text())
        return [FontInfo(**f) for f in data['fonts']], data['dropped']
    fonts, dropped = scan_fonts(paths, charset)
    write_json(str(cache), dict(fonts=[f.__dict__ for f in fonts],
                                dropped=dropped))
    return fonts, dropped


class FontRegistry:
    """The usable fonts of a dictionary, grouped and split.

    Args:
        charset (str): Characters every font must render (glyph coverage is
            checked in each font's character map and by rendering).
        dirs (sequence of str): Directories searched recursively, besides
            matplotlib's bundled fonts. Defaults to the system font
            directories (:data:`SYSTEM_FONT_DIRS`).
    """

    def __init__(self, charset: str,
                 dirs: Sequence[str] = SYSTEM_FONT_DIRS) -> None:
        system = font_paths(dirs)
        if not system:
            warnings.warn(
                f'no font files under {list(dirs)}: the corpus has only '
                "matplotlib's bundled fonts (run `make setup` as root to "
                'install tools/font_packages.txt)')
        self.fonts, self.dropped = cached_scan(
            system + font_paths([str(font_dir())]), charset)
        for path, reason in self.dropped.items():
            if reason.startswith('unreadable'):
                warnings.warn(f'skipped {path}: {reason}')

    def families(self, split: str) -> Dict[str, List[str]]:
        """Family name → font files, for the families of ``split``."""
        if split not in dict(SPLIT_FRACTIONS):
            raise KeyError(f'unknown split {split!r}; expected one of '
                           f'{[s for s, _ in SPLIT_FRACTIONS]}')
        out = defaultdict(list)
        for font in self.fonts:
            if split_of(font.group) == split:
                out[font.family].append(font.path)
        return dict(sorted(out.items()))

    def counts(self) -> Dict[str, Tuple[int, int, int]]:
        """Split → (design groups, families, files)."""
        result = {}
        for split, _ in SPLIT_FRACTIONS:
            fams = self.families(split)
            groups = {design_group(f) for f in fams}
            result[split] = (len(groups), len(fams),
                             sum(len(v) for v in fams.values()))
        return result


FONT_CORPORA = ('bundled', 'system')


@dataclass(frozen=True)
class FontSplit:
    """The fonts of one split and how one is drawn: uniformly over files
    (``by_family=False``, the bundled corpus) or over families, then over
    the family's files (so a family with 18 weights is not 18 times as
    likely as one with a single file)."""
    families: Tuple[Tuple[str, ...], ...]
    by_family: bool

    @property
    def files(self) -> List[str]:
        return [f for fam in self.families for f in fam]

    def draw(self, rng) -> str:
        """A font path drawn with the numpy generator ``rng``."""
        if not self.by_family:
            files = self.files
            return files[int(rng.integers(len(files)))]
        family = self.families[int(rng.integers(len(self.families)))]
        return family[int(rng.integers(len(family)))]


def font_splits(corpus: str, charset: str,
                test_families: Sequence[str]) -> Dict[str, FontSplit]:
    """Split name → :class:`FontSplit` of a font corpus.

    Args:
        corpus (str): ``'bundled'``: matplotlib's 5 families (train and val
            share 3, ``test_families`` are held out); ``'system'``: the
            :class:`FontRegistry` of ``charset``, three family-disjoint
            splits (``test_families`` unused).
        charset (str): Characters the fonts must render.
        test_families (sequence of str): The bundled corpus's test families.
    """
    if corpus == 'bundled':
        return {split: FontSplit((tuple(font_files(fams)), ), by_family=False)
                for split, fams in split_families(test_families).items()}
    if corpus != 'system':
        raise ValueError(f'unknown font corpus {corpus!r}; expected one of '
                         f'{FONT_CORPORA}')
    registry = FontRegistry(charset)
    splits = {
        split: FontSplit(tuple(map(tuple, registry.families(split).values())),
                         by_family=True)
        for split, _ in SPLIT_FRACTIONS}
    empty = [s for s, fs in splits.items() if not fs.families]
    if empty:
        raise RuntimeError(f'the system font corpus has no family in split(s) '
                           f'{empty}: install tools/font_packages.txt (make setup)')
    return splits
