"""Edit-distance labelling throughput: the hook's batched path (rapidfuzz
``process.cpdist``) vs a Python loop over ``editdistance.eval`` and over
``Levenshtein.distance``, on the same pairs (predicted vs true text of
scene-text-like lengths)."""
import argparse
import string
import time

import numpy as np

from lsmmocr.metrics import edit_distances


def pairs(n: int, seed: int):
    rng = np.random.default_rng(seed)
    alphabet = np.array(list(string.ascii_lowercase + string.digits))

    def word():
        return ''.join(rng.choice(alphabet, int(rng.integers(1, 26))))

    gts = [word() for _ in range(n)]
    preds = [g[:-1] + 'x' if rng.random() < 0.5 else word() for g in gts]
    return preds, gts


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--num-pairs', type=int, default=100_000)
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()
    import editdistance
    import Levenshtein
    preds, gts = pairs(args.num_pairs, 0)
    ref = edit_distances(preds, gts)
    peers = {
        'rapidfuzz cpdist (lsmmocr)': lambda: edit_distances(preds, gts),
        'rapidfuzz cpdist, all cores': lambda: edit_distances(preds, gts, -1),
        'editdistance.eval loop': lambda: [editdistance.eval(p, g)
                                           for p, g in zip(preds, gts)],
        'Levenshtein.distance loop': lambda: [Levenshtein.distance(p, g)
                                              for p, g in zip(preds, gts)],
    }
    assert list(ref) == peers['editdistance.eval loop']()
    assert list(ref) == peers['Levenshtein.distance loop']()
    times = {name: best_of(fn, args.repeat) for name, fn in peers.items()}
    base = times['rapidfuzz cpdist (lsmmocr)']
    print(f'{args.num_pairs} pairs (identical distances from all peers)')
    for name, t in times.items():
        print(f'{name:30s} {args.num_pairs / t / 1e6:7.2f} M pairs/s  '
              f'time vs lsmmocr {t / base:5.2f}x')


if __name__ == '__main__':
    main()
