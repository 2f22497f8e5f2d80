"""Teach a recognizer's word confidence to rank its own errors (SoDeep).

A review queue wants the words a recognizer got wrong at the bottom of its
confidence order. On held-out crops, Spearman ρ between a word confidence and
−ED(prediction, ground truth) (higher is better) and the share of wrong words
found in the least confident 20 % are measured for MMOCR's per-character
scores aggregated three ways (before), then for a small confidence head
trained on the frozen recognizer's output features with the SoDeep Spearman
loss (after) and, as a peer, the same head trained by mean squared error.
``tools/confidence_ranking.py`` is the command line.
"""
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import Runner
from mmocr.registry import DATASETS, MODELS
from scipy.stats import spearmanr
from torch.utils.data import ConcatDataset, DataLoader, Dataset

from ..diagnostics.gradient_quality import collect_outputs
from ..edit_distance import edit_distances
from ..losses.sequence_metric_loss import layout_for
from ..ranking import load_sorter, train_sorter
from ..surrogates.sequence_layout import SequenceLayout
from ..utils import atomic_path, read_checkpoint, save_atomic, write_json

FEATURES = ('char_mean', 'char_min', 'log_likelihood', 'num_chars',
            'frame_mean', 'frame_min', 'margin_mean', 'margin_min',
            'entropy_mean', 'entropy_max', 'frames_below_0.9', 'char_margin_min')
BASELINES = ('char_mean', 'char_min', 'log_likelihood')


def frame_features(probs: torch.Tensor, layout: SequenceLayout) -> torch.Tensor:
    """Per-word features of output probabilities, ``(N, T, C) -> (N, F)`` in
    the order of :data:`FEATURES`.

    Characters are the positions greedy decoding emits
    (:meth:`SequenceLayout.emitted`, as MMOCR's postprocessors decide); their
    top-1 probabilities are MMOCR's per-character scores. Probabilities enter
    as log-odds, which separates 0.999 from 0.99999. A word without
    characters takes its positions' values for the character statistics.
    """
    eps = 1e-6
    top = probs.topk(2, dim=-1).values
    p1, margin = top[..., 0], top[..., 0] - top[..., 1]
    emit = layout.emitted(probs.argmax(-1))
    has = emit.any(1)
    emit = emit | ~has[:, None]  # no characters: use every position
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


def recognize(model: nn.Module, loader: DataLoader
              ) -> Tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Word features ``(N, F)``, the edit distance of each greedy prediction
    to its ground truth (in the loss's letter case) and every emitted
    character's score, on ``loader``. The outputs' layout is the decoder's,
    its length (a CTC decoder's frame count) read from the outputs."""
    feats, preds, gts, chars, layout = [], [], [], [], None
    with torch.no_grad():
        for out in collect_outputs(model, loader):
            if layout is None:
                layout = layout_for(model.decoder.module_loss,
                                    model.decoder.max_seq_len,
                                    ctc_seq_len=out.logits.shape[1])
            probs = out.logits.softmax(-1)
            feats.append(frame_features(probs, layout))
            preds += layout.decode(probs)
            gts += [s.gt_text.item.lower() for s in out.data_samples]
            chars.append(probs.amax(-1)[layout.emitted(probs.argmax(-1))])
    return (torch.cat(feats), edit_distances(preds, gts),
            torch.cat(chars).numpy())


def train_recognizer(cfg: Config, indices: List[int], iters: int,
                     batch_size: int, seed: int, work_dir: str) -> nn.Module:
    """``iters`` steps of the config's training (MMEngine's runner, the
    config's optimizer) on the training crops ``indices``; the model."""
    cfg = cfg.copy()
    dataset = dict(cfg.train_dataloader.dataset.datasets[0], indices=indices,
                   pipeline=cfg.train_pipeline)
    cfg.train_dataloader = dict(cfg.train_dataloader, dataset=dataset,
                                batch_size=batch_size, num_workers=0,
                                persistent_workers=False)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=iters + 1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=iters,
                                        by_epoch=False)
    cfg.default_hooks.logger = dict(type='LoggerHook',
                                    interval=max(1, min(100, iters // 10)))
    cfg.update(val_dataloader=None, val_cfg=None, val_evaluator=None,
               work_dir=work_dir, randomness=dict(seed=seed), load_from=None)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner.model


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


def split(cfg: Config, fit_num: int, seed: int,
          trained_here: bool) -> Tuple[Optional[List[int]], Dataset, Dataset]:
    """The training crops of the recognizer (indices; None when it comes
    trained), the head's fitting set (held-back training crops and the
    validation split, or the validation split alone) and the test split,
    all read with the training resize."""
    pipe = cfg.train_pipeline

    def build(split_name: str, **extra) -> Dataset:
        loader = cfg[f'{split_name}_dataloader']
        return DATASETS.build(dict(loader.dataset.datasets[0], pipeline=pipe,
                                   **extra))

    val, test = build('val'), build('test')
    if not trained_here:
        return None, val, test
    num = len(build('train', lazy_init=True).load_data_list())
    if fit_num >= num:
        raise ValueError(f'--fit-num {fit_num} leaves no training crop '
                         f'({num} in all)')
    perm = np.random.default_rng(seed).permutation(num).tolist()
    fit = ConcatDataset([build('train', indices=perm[:fit_num]), val])
    return perm[fit_num:], fit, test


def run(config: str, work_dir: str, checkpoint: Optional[str] = None,
        train_iters: int = 150, fit_num: int = 1000,
        sorter: Optional[str] = None, group: int = 64, sorter_iters: int = 600,
        head_iters: int = 400, batch_size: int = 16, seed: int = 0,
        dump_scores: Optional[str] = None) -> dict:
    """The whole measurement (see the module's docstring); writes
    ``<work_dir>/confidence_ranking.json`` and returns its contents."""
    args = dict(locals())
    t0 = time.time()

    def stage(msg: str) -> None:
        print(f'[{time.time() - t0:.0f} s] {msg}', flush=True)

    torch.manual_seed(seed)
    cfg = Config.fromfile(config)
    root = cfg.train_dataloader.dataset.datasets[0].data_root
    if not osp.isfile(osp.join(root, 'textrecog_train.json')):
        raise FileNotFoundError(
            f'no synthetic data in {root!r}: run tools/make_synth_data.py '
            '--out-dir <dir> and set LSMMOCR_SYNTH_ROOT=<dir>')
    os.makedirs(work_dir, exist_ok=True)
    train_idx, fit_set, test_set = split(cfg, fit_num, seed, checkpoint is None)
    if checkpoint:
        model = MODELS.build(cfg.model)
        state = read_checkpoint(checkpoint, 'recognizer checkpoint')
        model.load_state_dict(state.get('state_dict', state))
        print(f'recognizer: {checkpoint}; fitting set: validation split')
    else:
        stage(f'(1) training the recognizer for {train_iters} iterations on '
              f'{len(train_idx)} crops')
        model = train_recognizer(cfg, train_idx, train_iters, batch_size, seed,
                                 osp.join(work_dir, 'recognizer'))
        save_atomic(dict(state_dict=model.state_dict()),
                    osp.join(work_dir, 'recognizer.pth'))
    if sorter:
        sorter_net = load_sorter(sorter, seq_len=group)
    else:
        stage(f'(2) training a sorter for n={group}')
        sorter_net = train_sorter(
            dict(seq_len=group, arch='conv'), iters=sorter_iters, seed=seed,
            out=osp.join(work_dir, f'sorter_n{group}.pth'),
            save_every=sorter_iters)
    spearman = MODELS.build(dict(type='SoDeepSpearmanLoss', sorter=sorter_net))

    def loader(ds: Dataset) -> DataLoader:
        return DataLoader(ds, batch_size=batch_size, collate_fn=pseudo_collate)

    x_fit, ed_fit, _ = recognize(model, loader(fit_set))
    x_test, ed_test, chars = recognize(model, loader(test_set))
    if len(x_fit) < group:
        raise ValueError(f'{len(x_fit)} fitting words, fewer than --group {group}')
    mu, sd = x_fit.mean(0), x_fit.std(0) + 1e-6
    stage(f'(3) fitting the head on {len(x_fit)} words (word accuracy '
          f'{np.mean(ed_fit == 0):.3f}); test: {len(x_test)} words (word '
          f'accuracy {np.mean(ed_test == 0):.3f})')
    results = {f'before: {b}': summary(x_test[:, FEATURES.index(b)].numpy(),
                                       ed_test) for b in BASELINES}
    curves = {}
    for name, loss_fn in [('SoDeep Spearman', spearman),
                          ('MSE peer', mse_to_standardised)]:
        head, curves[name] = fit_head((x_fit - mu) / sd, ed_fit, loss_fn,
                                      head_iters, group, seed)
        with torch.no_grad():
            conf = head((x_test - mu) / sd).squeeze(1).numpy()
            conf_fit = head((x_fit - mu) / sd).squeeze(1).numpy()
        results[f'after: head, {name}'] = dict(
            summary(conf, ed_test),
            fit_spearman=summary(conf_fit, ed_fit)['spearman'])
    k = max(1, head_iters // 10)
    sod = curves['SoDeep Spearman']
    stage(f'(4) held-out Spearman(confidence, -ED) on the test split; SoDeep '
          f'loss {np.mean(sod[:k]):.3f} (first {k} steps) -> '
          f'{np.mean(sod[-k:]):.3f} (last {k})')
    print_results(results, ed_test)
    report = dict(args=args, results=results, seconds=time.time() - t0,
                  word_acc_test=float(np.mean(ed_test == 0)),
                  head_loss_first=float(np.mean(sod[:k])),
                  head_loss_last=float(np.mean(sod[-k:])))
    write_json(osp.join(work_dir, 'confidence_ranking.json'), report, indent=1)
    if dump_scores:
        with atomic_path(dump_scores) as tmp:
            np.savez(tmp, word_conf=torch.sigmoid(x_test[:, 0]).numpy(),
                     char_conf=chars.astype(np.float32), edit_distance=ed_test)
        print(f'scores -> {dump_scores}')
    print(f'done in {time.time() - t0:.0f} s -> {work_dir}')
    return report


def print_results(results: Dict[str, dict], ed_test: np.ndarray) -> None:
    wrong = int((ed_test > 0).sum())
    best = min(1.0, round(0.2 * len(ed_test)) / max(wrong, 1))
    print(f'  ({wrong} wrong words; a perfect order puts {best:.3f} of them '
          'in the least confident 20%)')
    for name, r in results.items():
        print(f'  {name:34s} rho {r["spearman"]:+.4f}   wrong words in the '
              f'least confident 20%: {r["review_recall_20"]:.3f}')
