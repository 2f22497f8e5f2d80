"""Render a synthetic scene-text dataset (MMOCR 1.x format): word crops for
recognition (``--task textrecog``) or scenes of rotated words for detection
(``--task textdet``).

Writes ``<out-dir>/imgs/<split>/*.jpg`` and ``<out-dir>/<task>_<split>.json``.
The test split uses font families that train and val never use.
"""
import argparse
import inspect
import time

from lsmmocr.datasets import DEFAULT_TEST_FAMILIES, make_synth_dataset
from lsmmocr.datasets.synth_sets import GENERATORS
from lsmmocr.utils import mmocr_dict_file

DEFAULTS = dict(
    textrecog=dict(out_dir='data/synth', train=4000, val=200, test=500),
    textdet=dict(out_dir='data/synth_det', train=2000, val=100, test=300))


def per_task(values: dict) -> str:
    """``'a for textrecog, b for textdet'``."""
    return ', '.join(f'{v} for {t}' for t, v in values.items())


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--task', choices=sorted(DEFAULTS), default='textrecog',
                        help='textrecog (word crops) or textdet (scenes)')
    parser.add_argument('--out-dir', help='output directory (default: ' + per_task(
        {t: d['out_dir'] for t, d in DEFAULTS.items()}) + ')')
    parser.add_argument('--dict', default='lower_english_digits.txt',
                        help='dictionary file, or the name of one MMOCR ships '
                        '(default: %(default)s)')
    for split in ('train', 'val', 'test'):
        sizes = per_task({t: d[split] for t, d in DEFAULTS.items()})
        parser.add_argument(f'--num-{split}', type=int,
                            help=f'{split} samples (default: {sizes})')
    max_lens = per_task({t: inspect.signature(g).parameters['max_len'].default
                         for t, g in GENERATORS.items()})
    parser.add_argument('--max-len', type=int,
                        help=f'longest word (default: the generator\'s, {max_lens})')
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
        test_families=args.test_families,
        **({} if args.max_len is None else dict(max_len=args.max_len)))
    for split, path in anns.items():
        print(f'{split}: {path}')
    print(f'done in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
