"""Render a synthetic scene-text recognition dataset (MMOCR 1.x format).

Writes ``<out-dir>/imgs/<split>/*.jpg`` and ``<out-dir>/textrecog_<split>.json``.
The test split uses font families that train and val never use.
"""
import argparse
import time

from lsmmocr.datasets import DEFAULT_TEST_FAMILIES, make_synth_dataset
from lsmmocr.utils import mmocr_dict_file


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--out-dir', default='data/synth',
                        help='output directory (default: %(default)s)')
    parser.add_argument('--dict', default='lower_english_digits.txt',
                        help='dictionary file, or the name of one MMOCR ships '
                        '(default: %(default)s)')
    parser.add_argument('--num-train', type=int, default=4000)
    parser.add_argument('--num-val', type=int, default=200)
    parser.add_argument('--num-test', type=int, default=500)
    parser.add_argument('--max-len', type=int, default=12,
                        help='longest label (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--test-families', nargs='+',
                        default=list(DEFAULT_TEST_FAMILIES),
                        help='font families held out for the test split')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    t0 = time.time()
    anns = make_synth_dataset(
        args.out_dir,
        mmocr_dict_file(args.dict),
        dict(train=args.num_train, val=args.num_val, test=args.num_test),
        seed=args.seed,
        max_len=args.max_len,
        test_families=args.test_families)
    for split, path in anns.items():
        print(f'{split}: {path}')
    print(f'done in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
