"""Teach a recognizer's word confidence to rank its own errors (SoDeep).

Measures, on held-out crops, Spearman ρ between a word confidence and
−ED(prediction, ground truth) and the share of wrong words found in the least
confident 20 %: for MMOCR's per-character scores aggregated three ways
(before), then for a small confidence head trained on the frozen recognizer's
output features with the SoDeep Spearman loss (after) and, as a peer, the
same head trained by mean squared error on −ED
(:mod:`lsmmocr.experiments.confidence_ranking`).

Steps: (1) the recognizer of --config is trained for --train-iters on the
training split minus --fit-num held-back crops (MMEngine's runner), or loaded
from --checkpoint (then the validation split alone is the fitting set); (2) a
sorter for groups of --group words is trained on synthetic vectors (or loaded
from --sorter); (3) the head is fitted on the held-back and validation crops;
(4) everything is measured on the test split (font families never seen).
Data: $LSMMOCR_SYNTH_ROOT (default data/synth), made by
tools/make_synth_data.py.

The default run (150 CRNN steps, a few minutes on 2 CPU cores) leaves the
CRNN at CTC's all-blank start: it only shows the pipeline. For a recognizer
whose errors are worth ranking, pass --checkpoint or --train-iters 3000
(figures in benchmarks/RESULTS_sorter.md).
"""
import argparse

from mmengine.registry import init_default_scope

import lsmmocr  # noqa: F401  (registration)
from lsmmocr.cli import check_args, user_errors_exit
from lsmmocr.experiments.confidence_ranking import run


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--config',
                        default='configs/textrecog/crnn/crnn_mini-vgg_synth.py')
    parser.add_argument('--checkpoint', help='a trained recognizer (skips '
                        'step 1)')
    parser.add_argument('--train-iters', type=int, default=150,
                        help='recognizer steps; CTC needs thousands to leave '
                        'its all-blank start')
    parser.add_argument('--fit-num', type=int, default=1000,
                        help='training crops held back for the head')
    parser.add_argument('--sorter', help='sorter checkpoint of length --group')
    parser.add_argument('--group', type=int, default=64,
                        help='n: words ranked together by the sorter')
    parser.add_argument('--sorter-iters', type=int, default=600)
    parser.add_argument('--head-iters', type=int, default=400)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--work-dir', default='work_dirs/confidence_ranking')
    parser.add_argument('--dump-scores', metavar='NPZ',
                        help='save the test split\'s word and character '
                        'confidences (real scores for tools/eval_sorter.py) '
                        'and edit distances')
    parser.add_argument('--quick', action='store_true',
                        help='a smoke run: a few iterations of everything')
    args = parser.parse_args()
    check_args(parser, args, files=('config', 'checkpoint', 'sorter'),
               positive=('train_iters', 'fit_num', 'group', 'sorter_iters',
                         'head_iters', 'batch_size'),
               out_dirs=('work_dir', ), out_files=('dump_scores', ))
    if args.quick:
        args.train_iters, args.sorter_iters, args.head_iters = 5, 60, 40
        args.fit_num, args.group, args.batch_size = 8, 8, 8
    return args


@user_errors_exit
def main() -> None:
    args = vars(parse_args())
    args.pop('quick')
    init_default_scope('mmocr')
    run(**args)


if __name__ == '__main__':
    main()
