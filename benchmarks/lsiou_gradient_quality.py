"""The LS-IoU gradient-quality instrument on held-out box pairs.

Steps each held-out prediction box along the normalised negative gradient of
ê (a pre-trained LS-IoU h_Φ), of the smooth-L1 delta loss of rotated-box
detectors, and of a random direction, and prints the mean exact IoU after each
step size (and the mean cosine with the smooth-L1 gradient). See
``lsmmocr.diagnostics.box_gradient_quality``.
"""
import argparse

import lsmmocr  # noqa: F401
from lsmmocr.diagnostics import box_gradient_quality
from lsmmocr.diagnostics.box_gradient_quality import surrogate_loss
from lsmmocr.surrogates import RotatedBoxSpace, RotatedIoUTask, load_surrogate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('checkpoints', nargs='+', help='LS-IoU h_Φ checkpoints')
    parser.add_argument('--num-pairs', type=int, default=5000)
    parser.add_argument('--steps', type=float, nargs='+',
                        default=[0.01, 0.03, 0.1, 0.3, 1.0],
                        help='step norms, in units of the box\'s own scale')
    args = parser.parse_args()
    pairs = RotatedIoUTask().held_out_pairs(args.num_pairs, seed=0)
    losses = {}
    for path in args.checkpoints:
        losses[f'ê ({path})'] = surrogate_loss(
            load_surrogate(path, RotatedBoxSpace()).eval())
    res = box_gradient_quality(pairs, losses, args.steps)
    print(f'{len(pairs)} held-out pairs, mean IoU before any step '
          f'{float(1 - pairs.e.mean()):.4f}; mean IoU after a step of norm:\n')
    print('| direction | cos with smooth L1 | ' +
          ' | '.join(f'{s:g}' for s in args.steps) + ' |')
    print('|---|---|' + '---|' * len(args.steps))
    for name, r in res.items():
        print(f'| {name} | {r["cos"]:.2f} | ' +
              ' | '.join(f'{r["iou"][s]:.4f}' for s in args.steps) + ' |')


if __name__ == '__main__':
    main()
