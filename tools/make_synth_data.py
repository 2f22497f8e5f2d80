"""Render a synthetic scene-text dataset (MMOCR 1.x format): word crops for
recognition (``--task textrecog``) or scenes of rotated words for detection
(``--task textdet``).

Writes ``<out-dir>/imgs/<split>/*.jpg`` and ``<out-dir>/<task>_<split>.json``.
The test split uses font families that train and val never use.
"""
import argparse
import inspect
import time

from lsmmocr.cli import check_args
from lsmmocr.datasets import DEFAULT_TEST_FAMILIES, make_synth_dataset
from lsmmocr.datasets.font_registry import FONT_CORPORA
from lsmmocr.datasets.renderer import PRESETS
from lsmmocr.datasets.synth_scene import SCENE_PRESETS
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
    parser.add_argument('--font-corpus', choices=FONT_CORPORA, default='bundled',
                        help="bundled: matplotlib's 5 families (the default job's "
                        'data); system: every installed font that renders the '
                        'dictionary, family-disjoint splits (tools/font_corpus.py)')
    parser.add_argument('--render', default='plain', choices=sorted(PRESETS),
                        help='render preset of word crops (default: %(default)s)')
    parser.add_argument('--scene', default='easy', choices=sorted(SCENE_PRESETS),
                        help='scene preset for textdet: easy (a few words '
                        'apart) or hard (dense lines at any angle, perspective, '
                        'distractors; use with --font-corpus system) (default: '
                        '%(default)s)')
    parser.add_argument('--test-families', nargs='+',
                        default=list(DEFAULT_TEST_FAMILIES),
                        help='bundled corpus: font families held out for the '
                        'test split')
    args = parser.parse_args()
    check_args(parser, args, non_negative=('num_train', 'num_val', 'num_test'),
               positive=('max_len', ), out_dirs=('out_dir', ))
    return args


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
        font_corpus=args.font_corpus,
        **(dict(scene_cfg=args.scene) if args.task == 'textdet'
           else dict(render_cfg=args.render)),
        **({} if args.max_len is None else dict(max_len=args.max_len)))
    for split, path in anns.items():
        print(f'{split}: {path}')
    print(f'done in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
