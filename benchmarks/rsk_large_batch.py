"""RS@k at a large batch: forward + backward time and peak memory of the
loss (one pass vs checkpointed query chunks, with and without SiMix), then
one training step of a small CNN, one pass vs ``large_batch_backward``.

Gradients are compared with the one-pass run of the same setting (largest
absolute difference over the largest gradient). Every run is a fresh
process that makes the call once to warm up, then measures it: times are
the fastest of ``--repeats`` interleaved runs under glibc's default allocator,
peak memory the extra resident set (Linux high-water mark, reset before the
call) of one more run with a fixed mmap threshold (see
``recall_at_k_vs_faiss_pml.run_worker``).

    python benchmarks/rsk_large_batch.py                  # batch 4000 × 512
    python benchmarks/rsk_large_batch.py --batch 400      # quick
"""
import argparse
import json
import os
import sys
import tempfile

import torch
import torch.nn as nn
from recall_at_k_vs_faiss_pml import interleaved_runs, measure

from lsmmocr.losses import RecallSurrogateLoss, large_batch_backward

# The configurations: (SiMix, loss in query chunks) and large_batch_backward.
LOSS_RUNS = [(s, c) for s in (False, True) for c in (False, True)]
MODEL_RUNS = [False, True]


def small_cnn(dim: int, image_size: int) -> nn.Module:
    """Three convolutions and a linear head, no batch statistics (so one
    pass and chunks compute the same function)."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.Flatten(),
        nn.Linear(64 * (image_size // 4)**2, dim))


def class_data(labels: torch.Tensor, shape: tuple,
               noise: float) -> torch.Tensor:
    """A random template per class plus ``noise`` × N(0, 1) per item."""
    gen = torch.Generator().manual_seed(0)
    templates = torch.randn(int(labels.max()) + 1, *shape, generator=gen)
    return templates[labels] + noise * torch.randn(len(labels), *shape,
                                                   generator=gen)


def worker(args) -> dict:
    """One run: loss value, seconds, peak MiB; gradients saved to a file."""
    if args.threads:
        torch.set_num_threads(args.threads)
    labels = torch.arange(args.batch) // args.per_class
    loss_fn = RecallSurrogateLoss(
        simix=args.simix, chunk_size=args.loss_chunk if args.chunked else None)
    if args.worker == 'loss':
        emb = class_data(labels, (args.dim,), args.noise)

        def step():
            e = emb.clone().requires_grad_(True)
            torch.manual_seed(1)  # the same SiMix draws in every run
            value = loss_fn(e, labels)
            value.backward()
            return value.item(), [e.grad]
    else:
        x = class_data(labels, (3, args.image_size, args.image_size), 1.0)
        model = small_cnn(args.dim, args.image_size)

        def step():
            model.zero_grad(set_to_none=True)
            if args.helper:
                value = large_batch_backward(model, x, labels, loss_fn,
                                             args.model_chunk)
            else:
                value = loss_fn(model(x), labels)
                value.backward()
            return value.item(), [p.grad for p in model.parameters()]

    warm = RecallSurrogateLoss()(torch.randn(8, 4, requires_grad=True),
                                 labels[:8])
    warm.backward()  # one-time set-up (thread pools) is not measured
    if args.worker == 'model':
        model(x[:8]).sum().backward()
        model.zero_grad()
    step()  # one-time set-up (thread pools, BLAS buffers) is not measured
    (value, grads), seconds, peak = measure(step)
    torch.save(grads, args.grads)
    return dict(loss=value, seconds=seconds, peak_mib=peak)


def rel_diff(a, b) -> float:
    return max((x - y).abs().max().item() for x, y in zip(a, b)) / max(
        y.abs().max().item() for y in b)


def run_all(args, runs: dict) -> dict:
    """Each run (name -> worker flags) ``--repeats`` times, interleaved:
    fastest time, the peak of a separate memory run, and the gradients."""
    tmp = tempfile.mkdtemp()
    grads = {name: os.path.join(tmp, f'{i}.pth') for i, name in enumerate(runs)}
    results = interleaved_runs(__file__, {
        name: [*flags, '--grads', grads[name], *sys.argv[1:]]
        for name, flags in runs.items()}, args.repeats)
    return {name: dict(r, grads=grads[name]) for name, r in results.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--batch', type=int, default=4000)
    p.add_argument('--dim', type=int, default=512)
    p.add_argument('--per-class', type=int, default=4)
    p.add_argument('--noise', type=float, default=3.0,
                   help='embedding noise around N(0, 1) class centres')
    p.add_argument('--loss-chunk', type=int, default=500,
                   help='queries per checkpointed block of the loss')
    p.add_argument('--model-chunk', type=int, default=200,
                   help='images per chunk in large_batch_backward')
    p.add_argument('--image-size', type=int, default=32)
    p.add_argument('--threads', type=int, default=None,
                   help='torch threads (default: torch\'s)')
    p.add_argument('--repeats', type=int, default=2)
    p.add_argument('--skip-model', action='store_true',
                   help='only the loss table')
    p.add_argument('--worker', choices=('loss', 'model'),
                   help=argparse.SUPPRESS)
    for flag in ('--simix', '--chunked', '--helper'):
        p.add_argument(flag, action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--grads', help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return
    print(f'torch {torch.__version__}, '
          f'{args.threads or torch.get_num_threads()} threads, load average '
          f'{os.getloadavg()[0]:.1f}')

    print(f'\nRS@k loss, forward + backward, embeddings {args.batch} x '
          f'{args.dim} (class centre + {args.noise} noise), '
          f'{args.per_class} per class')
    print('| SiMix | query chunk | loss | time (s) | peak extra (MiB) | '
          'grad diff vs one pass |')
    print('|---|---|---|---|---|---|')
    res = run_all(args, {
        (s, c): ['--worker', 'loss'] + ['--simix'] * s + ['--chunked'] * c
        for s, c in LOSS_RUNS})
    for (s, c), r in res.items():
        ref = torch.load(res[s, False]['grads'])
        print(f'| {"yes" if s else "no"} | {args.loss_chunk if c else "all"} '
              f'| {r["loss"]:.5f} | {r["seconds"]:.2f} | {r["peak_mib"]:.0f} '
              f'| {rel_diff(torch.load(r["grads"]), ref):.1e} |')
    if args.skip_model:
        return
    print(f'\nOne training step (forward, loss, backward) of a small CNN, '
          f'{args.batch} images {args.image_size}x{args.image_size} (class '
          f'template + noise) -> {args.dim}-d; loss in query chunks of '
          f'{args.loss_chunk}')
    print('| method | loss | time (s) | peak extra (MiB) | '
          'param grad diff vs one pass |')
    print('|---|---|---|---|---|')
    res = run_all(args, {
        h: ['--worker', 'model', '--chunked'] + ['--helper'] * h
        for h in MODEL_RUNS})
    ref = torch.load(res[False]['grads'])
    for h, r in res.items():
        name = (f'large_batch_backward, chunks of {args.model_chunk}'
                if h else 'one pass')
        print(f'| {name} | {r["loss"]:.5f} | {r["seconds"]:.2f} | '
              f'{r["peak_mib"]:.0f} | '
              f'{rel_diff(torch.load(r["grads"]), ref):.1e} |')
    print(f'load average at the end {os.getloadavg()[0]:.1f}')


if __name__ == '__main__':
    main()
