"""Show the system font corpus of a dictionary: design groups, families and
files per split (train / val / test, family-disjoint), why fonts were dropped,
and a specimen PNG of crops rendered in each split's fonts.

The fonts are Debian's packages of tools/font_packages.txt (installed by
`make setup`) plus matplotlib's bundled ones; see lsmmocr.datasets.font_registry.
"""
import argparse
import os
import os.path as osp
from collections import Counter

import cv2
import numpy as np

from lsmmocr.cli import check_args
from lsmmocr.datasets import SynthTextGenerator, read_charset
from lsmmocr.datasets.font_registry import FontRegistry
from lsmmocr.utils import mmocr_dict_file


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--dict', default='lower_english_digits.txt',
                        help='dictionary file, or the name of one MMOCR ships '
                        '(default: %(default)s)')
    parser.add_argument('--render', default='rich',
                        help='render preset of the specimen (default: %(default)s)')
    parser.add_argument('--specimen', default='work_dirs/font_corpus.png',
                        help='PNG of rendered crops per split (default: %(default)s)')
    parser.add_argument('--per-split', type=int, default=24,
                        help='crops per split in the specimen (default: %(default)s)')
    parser.add_argument('--families', action='store_true',
                        help='list every family of each split')
    args = parser.parse_args()
    check_args(parser, args, positive=('per_split', ), out_files=('specimen', ))
    return args


def specimen(gen: SynthTextGenerator, per_split: int, path: str) -> None:
    rows = []
    for split in ('train', 'val', 'test'):
        crops = [cv2.resize(gen.sample(split, i)[0], (160, 40))
                 for i in range(per_split)]
        crops += [np.zeros_like(crops[0])] * (-len(crops) % 6)
        label = np.full((40 * (len(crops) // 6), 60, 3), 255, np.uint8)
        cv2.putText(label, split, (2, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 0, 1)
        grid = np.vstack([np.hstack(crops[i:i + 6])
                          for i in range(0, len(crops), 6)])
        rows.append(np.hstack([label, grid]))
    if osp.dirname(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
    cv2.imwrite(path, np.vstack(rows))


def main() -> None:
    args = parse_args()
    charset = read_charset(mmocr_dict_file(args.dict))
    registry = FontRegistry(charset)
    print(f'{"split":<6}{"designs":>9}{"families":>10}{"files":>7}')
    for split, (groups, fams, files) in registry.counts().items():
        print(f'{split:<6}{groups:>9}{fams:>10}{files:>7}')
    reasons = Counter(why.split(':')[0].split(' for ')[0]
                      for why in registry.dropped.values())
    print(f'dropped {len(registry.dropped)} files: ' +
          ', '.join(f'{n} {why}' for why, n in reasons.most_common()))
    if args.families:
        for split in ('train', 'val', 'test'):
            print(f'{split}: ' + ', '.join(registry.families(split)))
    gen = SynthTextGenerator(charset, font_corpus='system', render_cfg=args.render)
    specimen(gen, args.per_split, args.specimen)
    print(f'specimen: {args.specimen}')


if __name__ == '__main__':
    main()
