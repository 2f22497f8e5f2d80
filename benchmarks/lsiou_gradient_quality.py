"""The LS-IoU gradient-quality instrument on held-out box pairs, or on a
trained detector's own boxes.

Steps each prediction box along the normalised negative gradient of ê (a
pre-trained LS-IoU h_Φ), of the smooth-L1 delta loss of rotated-box
detectors, and of a random direction, and prints the mean exact IoU after each
step size (and the mean cosine with the smooth-L1 gradient). The predictions
are held-out pairs (perturbations of random boxes), or with ``--detector
CONFIG CHECKPOINT`` the boxes an RBox detector's text pixels predict on the
config's test scenes (EAST's own box loss then joins the peers). See
``lsmmocr.diagnostics.box_gradient_quality``.

Example (the hard-scene detector)::

    LSMMOCR_SYNTH_DET_HARD_ROOT=~/lsmmocr_runs/data/synth_det_hard \\
    python benchmarks/lsiou_gradient_quality.py \\
        ~/lsmmocr_runs/surrogates/lsiou_6k.pth \\
        --detector configs/textdet/rbox/rbox_resnet18_fpnc_hard.py \\
        lsmmocr://detectors/rbox_resnet18_fpnc_hard
"""
import argparse

import lsmmocr  # noqa: F401
from lsmmocr.diagnostics import box_gradient_quality
from lsmmocr.diagnostics.box_gradient_quality import (detector_pairs, east_loss,
                                                      surrogate_loss)
from lsmmocr.surrogates import RotatedBoxSpace, RotatedIoUTask, load_surrogate


def detector_instrument(config: str, checkpoint: str, num_images: int,
                        num_pairs: int):
    """The detector's pairs on the first ``num_images`` test scenes and
    EAST's loss on them."""
    from mmengine.config import Config
    from mmocr.registry import DATASETS

    from lsmmocr.experiments.testing import load_model
    cfg = Config.fromfile(config)
    model = load_model(cfg, checkpoint)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    items = [dataset[i] for i in range(min(num_images, len(dataset)))]
    pairs, points, scale = detector_pairs(model, items, num_pairs)
    return pairs, {"EAST's own (−log IoU + angle)": east_loss(points, scale)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('checkpoints', nargs='+', help='LS-IoU h_Φ checkpoints')
    parser.add_argument('--num-pairs', type=int, default=5000)
    parser.add_argument('--detector', nargs=2, metavar=('CONFIG', 'CHECKPOINT'),
                        help="a trained RBox detector: its own boxes on its "
                        "config's test scenes instead of held-out pairs")
    parser.add_argument('--num-images', type=int, default=100,
                        help='test scenes the detector runs on')
    parser.add_argument('--steps', type=float, nargs='+',
                        default=[0.01, 0.03, 0.1, 0.3, 1.0],
                        help='step norms, in units of the box\'s own scale')
    args = parser.parse_args()
    if args.detector:
        pairs, losses = detector_instrument(*args.detector, args.num_images,
                                            args.num_pairs)
        source = f'{args.detector[1]} on {args.num_images} test scenes'
    else:
        pairs, losses = RotatedIoUTask().held_out_pairs(args.num_pairs, seed=0), {}
        source = 'held-out'
    for path in args.checkpoints:
        losses[f'ê ({path})'] = surrogate_loss(
            load_surrogate(path, RotatedBoxSpace()).eval())
    res = box_gradient_quality(pairs, losses, args.steps)
    print(f'{len(pairs)} pairs ({source}), mean IoU before any step '
          f'{float(1 - pairs.e.mean()):.4f}; mean IoU after a step of norm:\n')
    print('| direction | cos with smooth L1 | ' +
          ' | '.join(f'{s:g}' for s in args.steps) + ' |')
    print('|---|---|' + '---|' * len(args.steps))
    for name, r in res.items():
        print(f'| {name} | {r["cos"]:.2f} | ' +
              ' | '.join(f'{r["iou"][s]:.4f}' for s in args.steps) + ' |')


if __name__ == '__main__':
    main()
