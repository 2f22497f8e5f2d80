"""Crops per second of the synthetic text renderer on one core: the default
job's data (bundled fonts, 'plain' preset) beside the converged readers'
stream (system font corpus, 'rich' preset), measured in the same run, and
what a trainer consumes (batch size / step time) for comparison.
"""
import argparse
import time

import torch

from lsmmocr.datasets import SynthTextGenerator, read_charset
from lsmmocr.utils import mmocr_dict_file

SETTINGS = (('bundled', 'plain'), ('system', 'rich'))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--num', type=int, default=500,
                        help='crops per setting and split (default: %(default)s)')
    parser.add_argument('--step-time', type=float, default=1.0,
                        help='trainer seconds per step, to compare (default: 1.0, '
                        'CRNN at batch 64 with bf16 on this machine kind)')
    parser.add_argument('--batch-size', type=int, default=64)
    args = parser.parse_args()
    if args.num <= 0 or args.step_time <= 0 or args.batch_size <= 0:
        parser.error('--num, --step-time and --batch-size must be positive')
    return args


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)
    charset = read_charset(mmocr_dict_file('lower_english_digits.txt'))
    need = args.batch_size / args.step_time
    print(f'{"fonts":<9}{"render":<7}{"split":<6}{"crops/s":>9}{"x need":>8}')
    for corpus, preset in SETTINGS:
        gen = SynthTextGenerator(charset, font_corpus=corpus, render_cfg=preset)
        for split in ('train', 'test'):
            gen.sample(split, 0)  # font loading out of the timing
            t0 = time.perf_counter()
            for i in range(args.num):
                gen.sample(split, i)
            rate = args.num / (time.perf_counter() - t0)
            print(f'{corpus:<9}{preset:<7}{split:<6}{rate:>9.0f}{rate / need:>8.1f}')
    print(f'a trainer at batch {args.batch_size}, {args.step_time} s/step needs '
          f'{need:.0f} crops/s')


if __name__ == '__main__':
    main()
