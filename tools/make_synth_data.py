"""Render a synthetic scene-text dataset (MMOCR 1.x format): word crops for
recognition (``--task textrecog``) or scenes of rotated words for detection
(``--task textdet``).

Writes ``<out-dir>/imgs/<split>/*.jpg`` and ``<out-dir>/<task>_<split>.json``.
The test split uses font families that train and val never use.
"""
import argparse
import time

from lsmmocr.datasets import DEFAULT_TEST_FAMILIES, make_synth_dataset
from lsmmocr.utils import mmocr_dict_file

DEFAULTS = dict(
    textrecog=dict(out_dir='data/synth', train=4000, val=200, test=500, max_len=12),
    textdet=dict(out_dir='data/synth_det', train=2000, val=100, test=300,
                 max_len=10))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--task', choices=sorted(DEFAULTS), default='textrecog',
                        help='textrecog (word crops) or textdet (scenes)')
    parser.add_argument('--out-dir',
                        help='output directory (default: data/synth for '
                        'textrecog, data/synth_det for textdet)')
    parser.add_argument('--dict', default='lower_english_digits.txt',
                        help='dictionary file, or the name of one MMOCR ships '
                        '(default: %(default)s)')
    for split in ('train', 'val', 'test'):
        sizes = ', '.join(f'{d[split]} for {t}' for t, d in DEFAULTS.items())
        parser.add_argument(f'--num-{split}', type=int,
                            help=f'{split} samples (default: {sizes})')
    parser.add_argument('--max-len', type=int,
                        help='longest word (default: 12 for textrecog, 10 for textdet)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--test-families', nargs='+',
                        default=list(DEFAULT_TEST_FAMILIES),
                        help='font families held out for the test split')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    defaults = DEFAULTS[args.task]
    sizes = {split: defaults[split] if getattr(args, f'num_{split}') is None
             else getattr(args, f'num_{split}') for split in ('train', 'val', 'test')}
    t0 = time.time()
    anns = make_synth_dataset(
        args.out_dir or defaults['out_dir'],
        mmocr_dict_file(args.dict),
        sizes,
        seed=args.seed,
        task=args.task,
        max_len=args.max_len or defaults['max_len'],
        test_families=args.test_families)
    for split, path in anns.items():
        print(f'{split}: {path}')
    print(f'done in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
