"""Quality of a loss's gradient in the recognizer's *parameters*.

:mod:`.gradient_quality` steps each crop's logits on their own; post-tuning
steps the weights, which move every crop's logits together. This instrument
takes that step: the loss's gradient over a few training batches, one Adam
first step (``−lr · sign(g)``, what Adam's bias-corrected update is at its
first iteration) at several learning rates, and the true total edit distance
(TED) on held-out crops after it. Seconds per loss.

:func:`training_trajectory` follows it over K real steps (a minute per
loss): where the first step is good but the run is not, it shows when the
two part, and whether the surrogate still tells right from wrong there.
"""
from itertools import islice
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from ..losses.sequence_metric_loss import SequenceMetricLoss
from ..surrogates.edit_distance_task import lsed_distance
from ..utils import recognizer_outputs, side_effect_free, unwrap_model
from .gradient_quality import LossFn, collect_outputs, per_sample_ed, total_loss


def parameter_gradient(model: nn.Module, loss_fn: LossFn,
                       batches: Sequence[dict]) -> List[torch.Tensor]:
    """``∇_θ`` of ``loss_fn`` summed over ``batches``, in training mode (as
    post-tuning computes it), leaving the model's buffers as they were."""
    model = unwrap_model(model)
    params = [p for p in model.parameters() if p.requires_grad]
    grads = [torch.zeros_like(p) for p in params]
    model.train()
    with side_effect_free(model):
        for batch in batches:
            loss = total_loss(loss_fn, *recognizer_outputs(model, batch))
            for g, d in zip(grads, torch.autograd.grad(loss, params)):
                g += d
    return grads


def held_out_scores(model: nn.Module, metric: SequenceMetricLoss, loader,
                    surrogate: Optional[nn.Module] = None) -> Dict[str, float]:
    """TED of ``model``'s greedy decodings on ``loader`` (eval mode) and, with
    ``surrogate``, its mean ê on the crops decoded right and wrong: how well
    ê tells them apart on the model's own predictions."""
    eds, e_hats = [], []
    for o in collect_outputs(model, loader):
        eds.append(per_sample_ed(metric, o.logits, o.data_samples))
        if surrogate is not None:
            with torch.no_grad():
                e_hats.append(lsed_distance(
                    surrogate, metric.layout, metric.logits(o.logits).softmax(-1),
                    metric.gt_indexes(o.data_samples)).numpy())
    e = np.concatenate(eds)
    out = dict(ted=int(e.sum()), wrong=int((e > 0).sum()))
    if surrogate is not None:
        e_hat = np.concatenate(e_hats)
        for key, group in (('e_hat_right', e == 0), ('e_hat_wrong', e > 0)):
            if group.any():  # no key for an empty group
                out[key] = float(e_hat[group].mean())
    return out


def parameter_step_quality(model: nn.Module, losses: Dict[str, LossFn],
                           metric: SequenceMetricLoss, train_loader,
                           test_loader, num_batches: int,
                           lrs: Sequence[float],
                           seed: int = 0) -> Dict[str, object]:
    """TED on ``test_loader`` after one Adam first step of each loss (and of
    a random sign vector) at each learning rate, the gradient taken over the
    first ``num_batches`` of ``train_loader``.

    Returns:
        dict: ``ted0`` (before any step), ``lrs``, ``ted``: direction ->
        TED per learning rate, ``cosine``: direction -> cosine of its sign
        vector with the first loss's.
    """
    batches = list(islice(iter(train_loader), num_batches))
    params = [p for p in unwrap_model(model).parameters() if p.requires_grad]
    signs = {}
    for name, fn in losses.items():
        with torch.random.fork_rng(devices=[]):  # sampling losses: seeded
            torch.manual_seed(seed)
            signs[name] = [g.sign() for g in parameter_gradient(model, fn, batches)]
    gen = torch.Generator().manual_seed(seed)
    signs['random'] = [torch.randint(0, 2, p.shape, generator=gen).float() * 2 - 1
                       for p in params]
    flat = {k: torch.cat([s.flatten() for s in v]) for k, v in signs.items()}
    first = flat[next(iter(losses))]
    ted0 = held_out_scores(model, metric, test_loader)['ted']
    out = dict(ted0=ted0, lrs=list(lrs),
               ted={}, cosine={k: float(torch.nn.functional.cosine_similarity(
                   v, first, dim=0)) for k, v in flat.items()})
    original = [p.detach().clone() for p in params]
    for name, sign in signs.items():
        teds = []
        for lr in lrs:
            with torch.no_grad():
                for p, p0, s in zip(params, original, sign):
                    p.copy_(p0 - lr * s)
            teds.append(held_out_scores(model, metric, test_loader)['ted'])
        out['ted'][name] = teds
    with torch.no_grad():
        for p, p0 in zip(params, original):
            p.copy_(p0)
    return out


def markdown(res: Dict[str, object]) -> str:
    """One row per direction: cosine with the first loss's step, TED per lr."""
    head = ('| direction | cos(sign) | ' +
            ' | '.join(f'lr {lr:g}' for lr in res['lrs']) + ' |\n|---|---|' +
            '---|' * len(res['lrs']))
    rows = [f'| {k} | {res["cosine"][k]:.3f} | ' +
            ' | '.join(str(t) for t in v) + ' |' for k, v in res['ted'].items()]
    return '\n'.join([f'TED before any step: {res["ted0"]}', '', head, *rows])


def training_trajectory(model: nn.Module, loss_fn: LossFn,
                        metric: SequenceMetricLoss, batches: Sequence[dict],
                        test_loader, lr: float, at: Sequence[int],
                        surrogate: Optional[nn.Module] = None
                        ) -> List[Dict[str, float]]:
    """:func:`held_out_scores` after each of ``at`` Adam steps of ``loss_fn``
    on ``batches``, taken as post-tuning with a frozen surrogate takes them
    (training-mode forward, BatchNorm statistics updated). The model's
    weights and buffers are restored afterwards."""
    model = unwrap_model(model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    optim = torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad], lr=lr)
    scores = []
    for step in range(max(at) + 1):
        if step in at:
            scores.append(dict(step=step, **held_out_scores(
                model, metric, test_loader, surrogate)))
        if step == max(at):
            break
        model.train()
        optim.zero_grad()
        total_loss(loss_fn, *recognizer_outputs(model, batches[step])).backward()
        optim.step()
    model.load_state_dict(state)
    return scores


def trajectory_markdown(runs: Dict[str, List[Dict[str, float]]]) -> str:
    """One row per loss and probed step: TED, wrong crops, ê on right/wrong."""
    def e_hat(s: Dict[str, float], key: str) -> str:
        return f'{s[key]:.2f}' if key in s else '—'

    rows = ['| loss | step | TED | wrong | ê, right | ê, wrong |',
            '|---|---|---|---|---|---|']
    for name, scores in runs.items():
        rows += [f'| {name} | {s["step"]} | {s["ted"]} | {s["wrong"]} | '
                 f'{e_hat(s, "e_hat_right")} | {e_hat(s, "e_hat_wrong")} |'
                 for s in scores]
    return '\n'.join(rows)
