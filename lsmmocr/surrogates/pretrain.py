"""Global pre-training of h_Φ and its fidelity on held-out pairs, for any
learned metric (a :class:`~.surrogate_task.SurrogateTask`: LS-ED, LS-IoU)."""
import os.path as osp
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn as nn
from mmengine.utils import ProgressBar
from mmocr.registry import MODELS
from scipy.stats import kendalltau, spearmanr

from ..utils import save_atomic
from .checkpoint import build_surrogate, surrogate_state
from .pairs import Pairs
from .surrogate_task import SurrogateTask


def neighbour_order(e_hat: np.ndarray, e: np.ndarray,
                    bucket: np.ndarray) -> Dict[float, float]:
    """Per bucket but the last: the fraction of pairs (one of its pairs, one
    of the next bucket's) that ê orders as e does (ties in ê count half)."""
    keys = np.unique(bucket)
    out = {}
    for lo, hi in zip(keys[:-1], keys[1:]):
        a, b = e_hat[bucket == lo], e_hat[bucket == hi]
        sign = np.sign(e[bucket == hi][0] - e[bucket == lo][0])
        diff = sign * (b[None, :] - a[:, None])
        out[float(lo)] = float(((diff > 0) + 0.5 * (diff == 0)).mean())
    return out


def fidelity(surrogate: nn.Module, pairs: Pairs, task: SurrogateTask,
             fit_loss: Optional[nn.Module] = None,
             batch_size: int = 512) -> Dict[str, object]:
    """Approximation quality of ``surrogate`` on ``pairs``.

    Returns:
        dict: ``mae`` (mean |ê − e|), ``mae_near`` (the same over pairs with
        ``e <= task.near``, where a trained model's errors mostly are),
        ``spearman``, ``kendall``, both also over the near pairs
        (``*_near``), per-bucket ``mae_by_bucket`` (bucket of
        ``task.buckets`` -> (count, mae)), ``order_by_bucket`` (bucket ->
        the fraction of (its pair, the next bucket's pair) that ê orders as
        e does: what a loss needs between neighbouring values), gradient-norm statistics
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
    bucket = task.buckets(e)
    near = e <= task.near
    return dict(
        mae=float(err.mean()),
        mae_near=float(err[near].mean()),
        spearman=float(spearmanr(e_hat_np, e).statistic),
        kendall=float(kendalltau(e_hat_np, e).statistic),
        spearman_near=float(spearmanr(e_hat_np[near], e[near]).statistic),
        kendall_near=float(kendalltau(e_hat_np[near], e[near]).statistic),
        mae_by_bucket={float(k): (int((bucket == k).sum()),
                                  float(err[bucket == k].mean()))
                       for k in np.unique(bucket)},
        order_by_bucket=neighbour_order(e_hat_np, e, bucket),
        grad_norm_mean=float(gn.mean()),
        grad_norm_median=float(np.median(gn)),
        grad_norm_p95=float(np.percentile(gn, 95)),
        e=e, e_hat=e_hat_np)


def pretrain_surrogate(task: SurrogateTask,
                       out: str,
                       iters: int = 3000,
                       batch_size: int = 256,
                       lr: float = 1e-3,
                       seed: int = 0,
                       save_every: int = 500,
                       resume: bool = False,
                       device: str = 'cpu',
                       log=print) -> nn.Module:
    """Train h_Φ on the task's global pairs; checkpoint to ``out`` every
    ``save_every`` iterations (with optimizer and pair-source states, so
    ``resume=True`` continues an interrupted run) and at the end.

    Adam with a cosine-decayed learning rate from ``lr``.
    """
    with torch.random.fork_rng(devices=[]):  # initial Φ fixed by ``seed``
        torch.manual_seed(seed)
        surrogate = build_surrogate(task.surrogate, task.space).to(device)
    fit_loss = MODELS.build(task.fit_loss)
    optim = torch.optim.Adam(surrogate.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, T_max=iters)
    source = task.global_pairs(seed)
    start = 0
    if resume and osp.isfile(out):
        state = torch.load(out, map_location=device, weights_only=False)
        surrogate.load_state_dict(state['state_dict'])
        optim.load_state_dict(state['optimizer'])
        sched.load_state_dict(state['scheduler'])
        # Checkpoints from before the task protocol kept LS-ED's pair-source
        # state at the top level (``sampler``, ``texts_rng``).
        source.load_state_dict(state.get('pairs', state))
        start = state['iter']
        log(f'resumed from {out} at iteration {start}')

    def save(it: int) -> None:
        state = surrogate_state(surrogate, task.space, task.surrogate)
        state.update(optimizer=optim.state_dict(), scheduler=sched.state_dict(),
                     pairs=source.state_dict(), iter=it)
        save_atomic(state, out)

    bar = ProgressBar(iters - start) if iters > start else None
    for it in range(start, iters):
        pairs = source.sample(batch_size)
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
