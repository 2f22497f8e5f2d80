"""Teach a recognizer's word confidence to rank its own errors (SoDeep).

A review queue wants the words a recognizer got wrong at the bottom of its
confidence order. This tool measures, on held-out crops, Spearman ρ between a
word confidence and −ED(prediction, ground truth) (higher is better; ties in
ED are averaged) and the share of wrong words found in the least confident
20 %, for MMOCR's usual per-character scores aggregated three ways (before),
then for a small confidence head trained on the frozen recognizer's output
features with the SoDeep Spearman loss (after) and, as a peer, the same head
trained by mean squared error on −ED.

Steps: (1) the CRNN of --config is trained for --train-iters on the training
split minus --fit-num held-back crops (or loaded from --checkpoint, then the
validation split alone is the fitting set); (2) a sorter for groups of --group
words is trained on synthetic vectors (or loaded from --sorter); (3) the head
is fitted on the held-back and validation crops; (4) everything is measured on
the test split (font families never seen). Crops are resized to 100×32 as in
training. Data: $LSMMOCR_SYNTH_ROOT (default data/synth), made by
tools/make_synth_data.py.

The default run (150 CRNN steps, about 2.5 minutes on 2 CPU cores) leaves
the CRNN at CTC's all-blank start: it only shows the pipeline. For a
recognizer whose errors are worth ranking, pass --checkpoint or
--train-iters 3000 (about 35 minutes on 2 CPU cores; the figures in
benchmarks/RESULTS_sorter.md).
"""
import argparse
import json
import os
import os.path as osp
import time
from typing import Dict, List, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar
from mmocr.registry import DATASETS, MODELS
from scipy.stats import spearmanr
from torch.utils.data import DataLoader, Subset

import lsmmocr  # noqa: F401  (registration)
from lsmmocr.metrics import edit_distances
from lsmmocr.ranking import load_sorter, save_atomic, train_sorter

FEATURES = ('char_mean', 'char_min', 'log_likelihood', 'num_chars',
            'frame_mean', 'frame_min', 'margin_mean', 'margin_min',
            'entropy_mean', 'entropy_max', 'frames_below_0.9', 'char_margin_min')
BASELINES = ('char_mean', 'char_min', 'log_likelihood')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--config',
                        default='configs/textrecog/crnn/crnn_mini-vgg_synth.py')
    parser.add_argument('--checkpoint', help='a trained recognizer (skips '
                        'step 1)')
    parser.add_argument('--train-iters', type=int, default=150,
                        help='CRNN steps; the default fits the 5-minute demo, '
                        'CTC needs thousands to leave its all-blank start')
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
    if args.quick:
        args.train_iters, args.sorter_iters, args.head_iters = 5, 60, 40
        args.fit_num, args.group, args.batch_size = 8, 8, 8
    return args


def frame_features(probs: torch.Tensor, blank: int) -> torch.Tensor:
    """Per-word features of CTC output probabilities, ``(N, T, C) -> (N, F)``
    in the order of :data:`FEATURES`.

    Characters are the frames greedy CTC decoding emits (argmax neither blank
    nor a repeat), as MMOCR's ``CTCPostProcessor`` does; their top-1
    probabilities are MMOCR's per-character scores. Probabilities enter as
    log-odds, which separates 0.999 from 0.99999. A word without characters
    takes its frames' values for the character statistics.
    """
    eps = 1e-6
    top = probs.topk(2, dim=-1).values
    p1, margin = top[..., 0], top[..., 0] - top[..., 1]
    idx = probs.argmax(-1)
    prev = F.pad(idx[:, :-1], (1, 0), value=blank)
    emit = (idx != blank) & (idx != prev)
    has = emit.any(1)
    emit = emit | ~has[:, None]  # no characters: use every frame
    cnt = emit.sum(1).float()

    def logit(p: torch.Tensor) -> torch.Tensor:
        p = p.clamp(eps, 1 - eps)
        return p.log() - (-p).log1p()

    char_p = p1.masked_fill(~emit, 1.0)
    entropy = -(probs * probs.clamp_min(eps).log()).sum(-1)
    feats = [
        logit((p1 * emit).sum(1) / cnt),
        logit(char_p.amin(1)),
        (char_p.clamp_min(eps).log() * emit).sum(1),
        (emit & has[:, None]).sum(1).float(),
        logit(p1.mean(1)),
        logit(p1.amin(1)),
        margin.mean(1),
        margin.amin(1),
        entropy.mean(1),
        entropy.amax(1),
        (p1 < 0.9).float().sum(1),
        margin.masked_fill(~emit, 1.0).amin(1),
    ]
    return torch.stack(feats, 1)


@torch.no_grad()
def recognize(model: nn.Module, loader: DataLoader,
              blank: int) -> Tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Run the recognizer; return word features ``(N, F)``, the edit
    distance of each prediction and every emitted character's score."""
    model.eval()
    feats, preds, gts, chars = [], [], [], []
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        probs = model(data['inputs'], data['data_samples'], mode='tensor')
        samples = model.decoder.postprocessor(probs, data['data_samples'])
        feats.append(frame_features(probs.float().cpu(), blank))
        for s in samples:
            preds.append(s.pred_text.item)
            gts.append(s.gt_text.item.lower())  # the CTC loss's letter case
            chars.extend(s.pred_text.score)
    return torch.cat(feats), edit_distances(preds, gts), np.asarray(chars)


def train_recognizer(model: nn.Module, cfg: Config, loader: DataLoader,
                     iters: int) -> None:
    """``iters`` steps of the config's optimizer on the config's loss."""
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    model.train()
    bar = ProgressBar(iters)
    it, recent = 0, []
    while it < iters:
        for batch in loader:
            recent.append(model.train_step(batch, optim)['loss'].item())
            bar.update()
            it += 1
            if it % 100 == 0 or it == iters:
                print(f'\niter {it}: CTC loss {np.mean(recent):.3f}')
                recent = []
            if it == iters:
                break


def review_recall(conf: np.ndarray, ed: np.ndarray, frac: float = 0.2) -> float:
    """Share of wrong words (ED > 0) among the ``frac`` least confident."""
    wrong = ed > 0
    if not wrong.any():
        return float('nan')
    k = max(1, int(round(frac * len(conf))))
    return float(wrong[np.argsort(conf, kind='stable')[:k]].sum() / wrong.sum())


def summary(conf: np.ndarray, ed: np.ndarray) -> Dict[str, float]:
    rho = spearmanr(conf, -ed).statistic if np.ptp(ed) > 0 else float('nan')
    return dict(spearman=float(rho), review_recall_20=review_recall(conf, ed))


def fit_head(x: torch.Tensor, ed: np.ndarray, loss_fn, iters: int,
             group: int, seed: int) -> Tuple[nn.Module, List[float]]:
    """A 2-layer MLP on standardised features, fitted by ``loss_fn(pred,
    target)`` on random groups of ``group`` words; returns it and the loss
    of each step."""
    torch.manual_seed(seed)
    head = nn.Sequential(nn.Linear(x.shape[1], 32), nn.ReLU(),
                         nn.Linear(32, 1))
    optim = torch.optim.Adam(head.parameters(), lr=3e-3, weight_decay=1e-4)
    target = -torch.as_tensor(ed, dtype=torch.float32)
    g = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(iters):
        idx = torch.randperm(len(x), generator=g)[:group]
        loss = loss_fn(head(x[idx]).squeeze(1), target[idx])
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(loss.item())
    return head.eval(), losses


def mse_to_standardised(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE between predictions and the group-standardised target."""
    t = (target - target.mean()) / (target.std() + 1e-6)
    return F.mse_loss(pred, t)


def datasets(cfg: Config, fit_num: int, seed: int,
             trained_here: bool) -> Dict[str, torch.utils.data.Dataset]:
    """``train`` (recognizer), ``fit`` (head) and ``test`` datasets with the
    training resize."""
    pipe = cfg.train_pipeline
    build = lambda d: DATASETS.build(dict(d, pipeline=pipe))  # noqa: E731
    train = build(cfg.train_dataloader.dataset.datasets[0])
    val = build(cfg.val_dataloader.dataset.datasets[0])
    test = build(cfg.test_dataloader.dataset.datasets[0])
    if not trained_here:
        return dict(train=None, fit=val, test=test)
    if fit_num >= len(train):
        raise ValueError(f'--fit-num {fit_num} leaves no training crop '
                         f'({len(train)} in all)')
    perm = np.random.default_rng(seed).permutation(len(train)).tolist()
    fit = torch.utils.data.ConcatDataset([Subset(train, perm[:fit_num]), val])
    return dict(train=Subset(train, perm[fit_num:]), fit=fit, test=test)


def main() -> None:
    args = parse_args()
    t0 = time.time()

    def stage(msg: str) -> None:
        print(f'[{time.time() - t0:.0f} s] {msg}')

    torch.manual_seed(args.seed)
    init_default_scope('mmocr')
    cfg = Config.fromfile(args.config)
    root = cfg.train_dataloader.dataset.datasets[0].data_root
    if not osp.isfile(osp.join(root, 'textrecog_train.json')):
        raise SystemExit(f'no synthetic data in {root!r}: run '
                         'tools/make_synth_data.py --out-dir <dir> and set '
                         'LSMMOCR_SYNTH_ROOT=<dir>')
    os.makedirs(args.work_dir, exist_ok=True)
    model = MODELS.build(cfg.model)
    blank = model.decoder.dictionary.padding_idx
    sets = datasets(cfg, args.fit_num, args.seed, args.checkpoint is None)
    loader = lambda ds, shuffle: DataLoader(  # noqa: E731
        ds, batch_size=args.batch_size, shuffle=shuffle,
        collate_fn=pseudo_collate, num_workers=0)

    if args.checkpoint:
        state = torch.load(args.checkpoint, map_location='cpu',
                           weights_only=False)
        model.load_state_dict(state.get('state_dict', state))
        print(f'recognizer: {args.checkpoint}; fitting set: validation split')
    else:
        stage(f'(1) training the CRNN for {args.train_iters} iterations on '
              f'{len(sets["train"])} crops')
        train_recognizer(model, cfg, loader(sets['train'], True),
                         args.train_iters)
        save_atomic(dict(state_dict=model.state_dict()),
                    osp.join(args.work_dir, 'recognizer.pth'))

    if args.sorter:
        sorter = load_sorter(args.sorter, seq_len=args.group)
    else:
        stage(f'(2) training a sorter for n={args.group}')
        sorter = train_sorter(
            dict(seq_len=args.group, arch='conv'), iters=args.sorter_iters,
            seed=args.seed, out=osp.join(args.work_dir,
                                         f'sorter_n{args.group}.pth'),
            save_every=args.sorter_iters)
    spearman = MODELS.build(dict(type='SoDeepSpearmanLoss', sorter=sorter))

    x_fit, ed_fit, _ = recognize(model, loader(sets['fit'], False), blank)
    x_test, ed_test, chars = recognize(model, loader(sets['test'], False), blank)
    if len(x_fit) < args.group:
        raise SystemExit(f'{len(x_fit)} fitting words, fewer than --group '
                         f'{args.group}')
    mu, sd = x_fit.mean(0), x_fit.std(0) + 1e-6
    stage(f'(3) fitting the head on {len(x_fit)} words '
          f'(word accuracy {np.mean(ed_fit == 0):.3f}); test: {len(x_test)} '
          f'words (word accuracy {np.mean(ed_test == 0):.3f})')

    results = {f'before: {b}': summary(x_test[:, FEATURES.index(b)].numpy(),
                                       ed_test) for b in BASELINES}
    curves = {}
    for name, loss_fn in [('SoDeep Spearman', spearman),
                          ('MSE peer', mse_to_standardised)]:
        head, curves[name] = fit_head((x_fit - mu) / sd, ed_fit, loss_fn,
                                      args.head_iters, args.group, args.seed)
        with torch.no_grad():
            conf = head((x_test - mu) / sd).squeeze(1).numpy()
            conf_fit = head((x_fit - mu) / sd).squeeze(1).numpy()
        results[f'after: head, {name}'] = dict(
            summary(conf, ed_test), fit_spearman=summary(conf_fit,
                                                         ed_fit)['spearman'])
    k = max(1, args.head_iters // 10)
    sod = curves['SoDeep Spearman']
    stage(f'(4) held-out Spearman(confidence, -ED) on the test split; '
          f'SoDeep loss {np.mean(sod[:k]):.3f} (first {k} steps) -> '
          f'{np.mean(sod[-k:]):.3f} (last {k})')
    wrong = int((ed_test > 0).sum())
    best = min(1.0, round(0.2 * len(ed_test)) / max(wrong, 1))
    print(f'  ({wrong} wrong words; a perfect order puts {best:.3f} of them '
          'in the least confident 20%)')
    for name, r in results.items():
        print(f'  {name:34s} rho {r["spearman"]:+.4f}   wrong words in the '
              f'least confident 20%: {r["review_recall_20"]:.3f}')
    report = dict(args=vars(args), results=results, seconds=time.time() - t0,
                  word_acc_test=float(np.mean(ed_test == 0)),
                  head_loss_first=float(np.mean(sod[:k])),
                  head_loss_last=float(np.mean(sod[-k:])))
    with open(osp.join(args.work_dir, 'confidence_ranking.json'), 'w') as f:
        json.dump(report, f, indent=1)
    if args.dump_scores:
        np.savez(args.dump_scores,
                 word_conf=torch.sigmoid(x_test[:, 0]).numpy(),
                 char_conf=chars.astype(np.float32),
                 edit_distance=ed_test)
        print(f'scores -> {args.dump_scores}')
    print(f'done in {time.time() - t0:.0f} s -> {args.work_dir}')


if __name__ == '__main__':
    main()
