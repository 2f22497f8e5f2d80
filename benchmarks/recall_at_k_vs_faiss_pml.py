"""Exact Recall@k: lsmmocr's RecallAtK search vs faiss IndexFlat (+ the same
counting) and vs pytorch-metric-learning's AccuracyCalculator.

All three get the same synthetic embeddings (``--num`` × ``--dim``,
``--per-class`` samples around random class centres, leave-one-out) and
report recall@k; the script prints the values, the largest difference, the
queries whose positive counts differ (lsmmocr vs faiss), wall time (the
fastest of ``--repeats`` interleaved runs), the time ratio against lsmmocr
and the peak extra resident memory. Each run is a fresh process that warms
up on a tenth of the data; its peak is the resident-set high-water mark
(reset after the warm-up) minus the resident set before the call.

    python benchmarks/recall_at_k_vs_faiss_pml.py                 # 100k × 128
    python benchmarks/recall_at_k_vs_faiss_pml.py --num 5000      # quick

Needs ``pip install faiss-cpu pytorch-metric-learning`` (benchmark peers
only; lsmmocr does not import them).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Tuple

import numpy as np

METHODS = ('lsmmocr', 'faiss', 'pml')


def _status_mib(key: str) -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def measure(fn: Callable[[], object]) -> Tuple[object, float, float]:
    """``fn()``, its wall seconds and peak extra resident MiB (Linux)."""
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # reset the high-water mark to the current RSS
    before = _status_mib('VmRSS')
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    return result, seconds, _status_mib('VmHWM') - before


def run_worker(script: str, argv: List[str], for_memory: bool) -> dict:
    """``python script *argv`` in a fresh process: its last line, as JSON.

    For the memory run glibc gets a fixed mmap threshold (128 KiB), so blocks
    freed during the call go back to the system instead of staying resident
    and hiding (or inflating) the peak of what follows. Timed runs keep
    glibc's default, as users run: under the fixed threshold every freed
    block over 128 KiB is unmapped and faulted in again on its next use,
    which slows a method by its allocation pattern, not its work (lsmmocr's
    per-block buffers: 5.5 s instead of 3.0 s at 50k × 128)."""
    env = dict(os.environ)
    if for_memory:
        env['MALLOC_MMAP_THRESHOLD_'] = '131072'
    out = subprocess.run([sys.executable, script, *argv], check=True,
                         capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def interleaved_runs(script: str, runs: Dict[str, List[str]],
                     repeats: int) -> Dict[str, dict]:
    """Each run (name -> ``script`` arguments) ``repeats`` times, the runs
    interleaved, the fastest time kept; then once more each for its peak
    memory (see :func:`run_worker`)."""
    results = {}
    for for_memory in [False] * repeats + [True]:
        for name, argv in runs.items():
            r = run_worker(script, argv, for_memory)
            if for_memory:
                results[name]['peak_mib'] = r['peak_mib']
            elif name in results:
                results[name]['seconds'] = min(r['seconds'],
                                               results[name]['seconds'])
            else:
                results[name] = r
    return results


def make_data(args) -> Tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(args.seed)
    labels = np.arange(args.num) // args.per_class
    centres = rng.standard_normal((labels[-1] + 1, args.dim), dtype=np.float32)
    x = rng.standard_normal((args.num, args.dim), dtype=np.float32)
    x *= args.noise
    x += centres[labels]
    return x, labels


def run_lsmmocr(x, labels, args):
    from lsmmocr.metrics.recall_at_k import positive_counts
    return positive_counts(x, labels, ks=args.ks, distance=args.distance)


def run_faiss(x, labels, args):
    """IndexFlat k-NN (self included, then removed), counted like lsmmocr."""
    import faiss
    if args.distance == 'cosine':
        x = x.copy()
        faiss.normalize_L2(x)
        index = faiss.IndexFlatIP(x.shape[1])
    else:
        index = faiss.IndexFlatL2(x.shape[1])
    index.add(x)
    _, nn = index.search(x, max(args.ks) + 1)
    is_self = nn == np.arange(len(x))[:, None]
    is_self[~is_self.any(1), -1] = True  # self beyond k+1: drop the last
    nn = nn[~is_self].reshape(len(x), -1)
    cum = np.cumsum(labels[nn] == labels[:, None], axis=1)
    counts = cum[:, [k - 1 for k in args.ks]]
    n_pos = np.bincount(labels)[labels] - 1
    return counts, n_pos


def run_pml(x, labels, args):
    """AccuracyCalculator with one recall@k metric per k on its k-NN labels
    (faiss IndexFlat inside, lone queries left out as in lsmmocr)."""
    import faiss
    import torch
    from pytorch_metric_learning.utils import accuracy_calculator as ac
    from pytorch_metric_learning.utils.inference import FaissKNN

    def recall(k):
        def fn(self, knn_labels, query_labels, not_lone_query_mask, **kw):
            knn, q = ac.try_getting_not_lone_labels(knn_labels, query_labels,
                                                    not_lone_query_mask)
            return (knn[:, :k] == q[:, None]).any(1).float().mean().item()
        return fn

    methods = {f'calculate_recall_at_{k}': recall(k) for k in args.ks}
    methods['requires_knn'] = lambda self: (
        ac.AccuracyCalculator.requires_knn(self) +
        [f'recall_at_{k}' for k in args.ks])
    Calculator = type('RecallCalculator', (ac.AccuracyCalculator,), methods)
    if args.distance == 'cosine':
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        knn = FaissKNN(index_init_fn=faiss.IndexFlatIP)
    else:
        knn = FaissKNN()  # IndexFlatL2
    calc = Calculator(include=tuple(f'recall_at_{k}' for k in args.ks) +
                      ('precision_at_1',), k=max(args.ks), knn_func=knn,
                      device=torch.device('cpu'))
    return calc.get_accuracy(torch.from_numpy(x), torch.from_numpy(labels))


def worker(args) -> None:
    """One method in this process: print a JSON line, save its counts."""
    import faiss
    import torch

    from lsmmocr.metrics.recall_at_k import summarize_counts
    if args.threads:
        torch.set_num_threads(args.threads)
        faiss.omp_set_num_threads(args.threads)
    x, labels = make_data(args)
    run = dict(lsmmocr=run_lsmmocr, faiss=run_faiss, pml=run_pml)[args.worker]
    warm = len(x) // 10  # one-time set-up (thread pools, BLAS buffers)
    run(x[:warm], labels[:warm], args)
    out, seconds, peak = measure(lambda: run(x, labels, args))
    if args.worker == 'pml':
        values = {f'recall@{k}': out[f'recall_at_{k}'] for k in args.ks}
        values['precision_at_1'] = out['precision_at_1']
    else:
        values = summarize_counts(*out, args.ks)
        np.save(args.counts, out[0])
    print(json.dumps(dict(values=values, seconds=seconds, peak_mib=peak)))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--num', type=int, default=100_000, help='embeddings')
    p.add_argument('--dim', type=int, default=128)
    p.add_argument('--per-class', type=int, default=10)
    p.add_argument('--noise', type=float, default=1.5,
                   help='per-dimension noise around unit-variance centres')
    p.add_argument('--ks', type=int, nargs='+', default=[1, 2, 4, 8])
    p.add_argument('--distance', choices=('cosine', 'euclidean'),
                   default='cosine')
    p.add_argument('--methods', nargs='+', choices=METHODS, default=METHODS)
    p.add_argument('--threads', type=int, default=None,
                   help='threads for torch and faiss (default: theirs)')
    p.add_argument('--repeats', type=int, default=3,
                   help='runs per method (interleaved); the fastest counts')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--worker', choices=METHODS, help=argparse.SUPPRESS)
    p.add_argument('--counts', help=argparse.SUPPRESS)
    return p.parse_args()


def main() -> None:
    args = parse_args()
    if args.worker:
        return worker(args)
    import torch
    print(f'{args.num} x {args.dim}, {args.per_class} per class, '
          f'{args.distance}, ks={args.ks}; threads (torch and faiss) '
          f'{args.threads or torch.get_num_threads()}; load average '
          f'{os.getloadavg()[0]:.1f}')
    tmp = tempfile.mkdtemp()
    counts = {m: os.path.join(tmp, f'{m}.npy') for m in args.methods}
    results = interleaved_runs(__file__, {
        m: ['--worker', m, '--counts', counts[m], *sys.argv[1:]]
        for m in args.methods}, args.repeats)
    for m, r in results.items():
        r['counts'] = counts[m] if m != 'pml' else None
    base = results.get('lsmmocr')
    print('| method | ' + ' | '.join(f'R@{k}' for k in args.ks) +
          ' | time (s) | time / lsmmocr | peak extra (MiB) |')
    print('|---' * (len(args.ks) + 4) + '|')
    for m, r in results.items():
        ratio = r['seconds'] / base['seconds'] if base else float('nan')
        print(f'| {m} | ' + ' | '.join(
            f"{r['values'][f'recall@{k}']:.5f}" for k in args.ks) +
            f" | {r['seconds']:.1f} | {ratio:.2f} | {r['peak_mib']:.0f} |")
    if base:
        for m, r in results.items():
            diff = max(abs(r['values'][f'recall@{k}'] -
                           base['values'][f'recall@{k}']) for k in args.ks)
            line = f'{m}: max |recall@k - lsmmocr| = {diff:.2e}'
            if r['counts']:
                differ = (np.load(r['counts']) != np.load(
                    base['counts'])).any(1).sum()
                line += f', queries with other counts: {differ}'
            if m == 'pml':
                line += (f", its precision_at_1 = "
                         f"{r['values']['precision_at_1']:.5f}")
            print(line)
    print(f'load average at the end {os.getloadavg()[0]:.1f}')


if __name__ == '__main__':
    main()
