"""Global pre-training of h_Φ and its fidelity on held-out pairs.

Pre-training needs no recognizer and no image: ground-truth texts are real
words (``TextSampler``) and random strings of every length the layout holds,
and :meth:`PairSampler.global_pairs` turns them into labelled pairs.
"""
import os
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.utils import ProgressBar
from mmocr.registry import MODELS
from scipy.stats import kendalltau, spearmanr

from ..datasets.text_sampler import TextSampler
from .checkpoint import build_surrogate, surrogate_state
from .pair_sampler import Pairs, PairSampler
from .sequence_layout import SequenceLayout


def surrogate_spec(cfg: Config) -> dict:
    """The layout and hook settings of a post-tuning config.

    Returns:
        dict: ``layout`` (:class:`SequenceLayout`), ``surrogate`` (h_Φ
        config), ``fit_loss`` (objective config) and ``sampler``
        (:class:`PairSampler` keyword arguments), as post-tuning will use them.
    """
    from ..engine.post_tune_runner import apply_post_tune
    from ..hooks.surrogate_trainer_hook import find_lsed_losses
    cfg = apply_post_tune(cfg.copy())
    losses = find_lsed_losses(MODELS.build(cfg.model.decoder))
    hooks = [h for h in cfg.get('custom_hooks', [])
             if h.get('type') == 'SurrogateTrainerHook']
    if not losses or not hooks:
        raise ValueError(f'{cfg.filename} is not an LS-ED post-tuning config '
                         '(no LSEDModuleLoss or SurrogateTrainerHook)')
    hook = hooks[0]
    return dict(layout=losses[0].layout,
                surrogate=dict(hook.get('surrogate',
                                        dict(type='EditDistanceEmbedding'))),
                fit_loss=dict(hook.get('fit_loss', dict(type='SurrogateFitLoss'))),
                sampler=dict(hook.get('sampler', {})))


class TextSource:
    """Ground-truth index lists: half real words, half random strings."""

    def __init__(self, layout: SequenceLayout, seed: int) -> None:
        self.layout = layout
        self.rng = np.random.default_rng(seed)
        charset = ''.join(layout.dictionary.dict[i] for i in layout.char_indexes)
        has_upper = any(c.isupper() for c in charset)
        self.words = TextSampler(
            charset, max_len=layout.capacity,
            case_probs=(0.5, 0.3, 0.2) if has_upper else (1, 0, 0))

    def sample(self, n: int) -> List[List[int]]:
        out = []
        for _ in range(n):
            if self.rng.random() < 0.5:
                out.append(self.layout.indexes([self.words.sample(self.rng)])[0])
            else:
                k = int(self.rng.integers(self.layout.capacity + 1))
                out.append(self.rng.choice(self.layout.char_indexes, k).tolist())
        return out


def held_out_pairs(layout: SequenceLayout, num: int, seed: int) -> Pairs:
    """Global pairs from generators seeded apart from training's."""
    texts = TextSource(layout, seed=10_000 + seed)
    return PairSampler(layout, seed=20_000 + seed).global_pairs(texts.sample(num))


def fidelity(surrogate: nn.Module, pairs: Pairs,
             fit_loss: Optional[nn.Module] = None,
             batch_size: int = 512) -> Dict[str, object]:
    """Approximation quality of ``surrogate`` on ``pairs``.

    Returns:
        dict: ``mae`` (mean |ê − e|), ``mae_ed_le3`` (the same over pairs
        with ED <= 3, where a trained recognizer's predictions mostly are),
        ``spearman``, ``kendall``, per-bucket
        ``mae_by_ed`` (true ED -> (count, mae)), gradient-norm statistics
        ``grad_norm_{mean,median,p95}`` and the raw ``e``/``e_hat`` arrays.
    """
    fit_loss = fit_loss or MODELS.build(dict(type='SurrogateFitLoss',
                                             grad_penalty=0.0))
    device = next(surrogate.parameters()).device
    e_hat, gnorm = [], []
    for i in range(0, len(pairs), batch_size):
        sl = slice(i, i + batch_size)
        z, y = pairs.z[sl].to(device), pairs.y[sl].to(device)
        z.requires_grad_(True)
        d = surrogate.distance(z, y)
        g = torch.autograd.grad(d.sum(), z)[0]
        e_hat.append(d.detach().cpu())
        gnorm.append(g.flatten(1).norm(dim=1).cpu())
    e_hat_np = torch.cat(e_hat).numpy()
    gn = torch.cat(gnorm).numpy()
    e = pairs.e.numpy()
    err = np.abs(e_hat_np - e)
    return dict(
        mae=float(err.mean()),
        mae_ed_le3=float(err[e <= 3].mean()),
        spearman=float(spearmanr(e_hat_np, e).statistic),
        kendall=float(kendalltau(e_hat_np, e).statistic),
        mae_by_ed={int(k): (int((e == k).sum()), float(err[e == k].mean()))
                   for k in np.unique(e)},
        grad_norm_mean=float(gn.mean()),
        grad_norm_median=float(np.median(gn)),
        grad_norm_p95=float(np.percentile(gn, 95)),
        e=e, e_hat=e_hat_np)


def _save(obj: dict, path: str) -> None:
    """Write atomically: an interrupted save never leaves a broken file."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    torch.save(obj, path + '.tmp')
    os.replace(path + '.tmp', path)


def pretrain_surrogate(spec: dict,
                       out: str,
                       iters: int = 3000,
                       batch_size: int = 256,
                       lr: float = 1e-3,
                       seed: int = 0,
                       save_every: int = 500,
                       resume: bool = False,
                       device: str = 'cpu',
                       log=print) -> nn.Module:
    """Train h_Φ on global pairs; checkpoint to ``out`` every ``save_every``
    iterations (with optimizer and generator states, so ``resume=True``
    continues an interrupted run) and at the end.

    Adam with a cosine-decayed learning rate from ``lr``.
    """
    layout = spec['layout']
    with torch.random.fork_rng(devices=[]):  # initial Φ fixed by ``seed``
        torch.manual_seed(seed)
        surrogate = build_surrogate(spec['surrogate'], layout).to(device)
    fit_loss = MODELS.build(spec['fit_loss'])
    optim = torch.optim.Adam(surrogate.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, T_max=iters)
    texts = TextSource(layout, seed)
    sampler = PairSampler(layout, seed=seed, **spec.get('sampler', {}))
    start = 0
    if resume and osp.isfile(out):
        state = torch.load(out, map_location=device, weights_only=False)
        surrogate.load_state_dict(state['state_dict'])
        optim.load_state_dict(state['optimizer'])
        sched.load_state_dict(state['scheduler'])
        sampler.load_state_dict(state['sampler'])
        texts.rng.bit_generator.state = state['texts_rng']
        start = state['iter']
        log(f'resumed from {out} at iteration {start}')

    def save(it: int) -> None:
        state = surrogate_state(surrogate, layout, spec['surrogate'])
        state.update(optimizer=optim.state_dict(), scheduler=sched.state_dict(),
                     sampler=sampler.state_dict(),
                     texts_rng=texts.rng.bit_generator.state, iter=it)
        _save(state, out)

    bar = ProgressBar(iters - start) if iters > start else None
    for it in range(start, iters):
        pairs = sampler.global_pairs(texts.sample(batch_size))
        saving = (it + 1) % save_every == 0 or it + 1 == iters
        res = fit_loss(surrogate, pairs.z.to(device), pairs.y.to(device),
                       pairs.e.to(device), with_grad_norm=saving)
        optim.zero_grad()
        res['loss'].backward()
        optim.step()
        sched.step()
        if bar is not None:
            bar.update()
        if saving:
            save(it + 1)
            log(f'\niter {it + 1}: |ê-e| {float(res["approx_error"]):.3f}, '
                f'‖∇ê‖ {float(res["grad_norm"]):.3f}')
    return surrogate
