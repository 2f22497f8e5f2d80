"""Ship a reader trained on the font stream in ``artifacts/readers/``.

Takes the run's best checkpoint on validation (or ``--checkpoint``), writes
its weights in float16 as ``artifacts/readers/<config name>.pth`` and records
in ``artifacts/manifest.json``: provenance, the validation curve, the
convergence rule of "Readers that read" (word accuracy changes by less than
1 point over the last 20 % of iterations) and the shipped file's word
accuracy, total edit distance and CER on the config's unseen-family test
split (5000 crops rendered afresh: a few minutes). Configs then start from it
by name: ``load_from = 'lsmmocr://readers/<config name>'``.

Example::

    python tools/ship_reader.py configs/textrecog/crnn/crnn_mini-vgg_fonts.py \\
        ~/lsmmocr_runs/crnn_fonts --source 5fcef4f
"""
import argparse
import datetime
import os.path as osp

from lsmmocr.cli import check_args, user_errors_exit
from lsmmocr.engine import SCHEME
from lsmmocr.experiments.artifact_cache import checkout_commit
from lsmmocr.experiments.readers import reader_name, ship_reader


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the reader config it was trained with')
    parser.add_argument('work_dir', help='its training work dir')
    parser.add_argument('--checkpoint', help='the checkpoint to ship '
                        '(default: the best on validation in WORK_DIR)')
    parser.add_argument('--source', default=None,
                        help='the commit the run was trained from (default: '
                        "this checkout's)")
    args = parser.parse_args()
    check_args(parser, args, files=('config', 'checkpoint'))
    if not osp.isdir(args.work_dir):
        parser.error(f'work_dir: no such directory: {args.work_dir}')
    return args


@user_errors_exit
def main() -> None:
    args = parse_args()
    here = checkout_commit()
    made = dict(date=datetime.date.today().isoformat(), commit=here,
                made_by=f'tools/train.py {args.config} --work-dir <run> '
                '--resume', trained_from=args.source or here)
    path, entry = ship_reader(args.config, args.work_dir, made,
                              args.checkpoint)
    rule = entry['convergence']
    print(f'{path}: iteration {entry["iteration"]}; convergence {rule}; '
          f'load it with load_from={SCHEME + reader_name(args.config)!r}')


if __name__ == '__main__':
    main()
