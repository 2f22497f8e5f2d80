"""Ship a trained reader or detector in ``artifacts/``.

Takes the run's best checkpoint on validation (or ``--checkpoint``), writes
its weights in float16 as ``artifacts/<readers|detectors>/<config name>.pth``
and records in ``artifacts/manifest.json``: provenance, the validation curve,
the convergence rule (over the last 20 % of iterations, the validation metric
changes by less than: a reader's word accuracy 1 point, "Readers that read"; a
detector's hmean at IoU 0.5 half a point, "LS-IoU where detection is hard")
and the shipped file's figures on the config's test split (a reader's word
accuracy, total edit distance and CER on 5000 unseen-family crops rendered
afresh; a detector's hmean, precision, recall and matched IoU at match IoU
0.5/0.7/0.8 on its test scenes): a few minutes. Configs then start from it by
name: ``load_from = 'lsmmocr://<readers|detectors>/<config name>'``.

Examples::

    python tools/ship_model.py configs/textrecog/crnn/crnn_mini-vgg_fonts.py \\
        ~/lsmmocr_runs/crnn_fonts --source 5fcef4f
    LSMMOCR_SYNTH_DET_HARD_ROOT=~/lsmmocr_runs/data/synth_det_hard \\
    python tools/ship_model.py configs/textdet/rbox/rbox_resnet18_fpnc_hard.py \\
        ~/lsmmocr_runs/det_hard --source 7286817
"""
import argparse
import datetime
import os.path as osp

from lsmmocr.cli import check_args, user_errors_exit
from lsmmocr.engine import SCHEME
from lsmmocr.experiments.artifact_cache import checkout_commit
from lsmmocr.experiments.shipping import model_kind, ship_model


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the config it was trained with')
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
    path, entry = ship_model(args.config, args.work_dir, made, args.checkpoint)
    name = model_kind(args.config).name(args.config)
    print(f'{path}: iteration {entry["iteration"]}; convergence '
          f'{entry["convergence"]}; load it with load_from={SCHEME + name!r}')


if __name__ == '__main__':
    main()
