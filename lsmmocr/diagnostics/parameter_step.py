"""Quality of a loss's gradient in the recognizer's *parameters*.

:mod:`.gradient_quality` steps each crop's logits on their own; post-tuning
steps the weights, which move every crop's logits together. This instrument
takes that step: the loss's gradient over a few training batches, one Adam
first step (``−lr · sign(g)``, what Adam's bias-corrected update is at its
first iteration) at several learning rates, and the true total edit distance
(TED) on held-out crops after it. Seconds per loss.
"""
from itertools import islice
from typing import Dict, List, Sequence

import torch
import torch.nn as nn

from ..hooks.surrogate_trainer_hook import side_effect_free
from ..losses.sequence_metric_loss import SequenceMetricLoss
from ..utils import unwrap_model
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
            data = model.data_preprocessor(batch, True)
            samples = model.decoder.module_loss.get_targets(data['data_samples'])
            feat = model.extract_feat(data['inputs'])
            enc = model.encoder(feat, samples) if model.with_encoder else None
            loss = total_loss(loss_fn, model.decoder(feat, enc, samples), samples)
            for g, d in zip(grads, torch.autograd.grad(loss, params)):
                g += d
    return grads


def held_out_ted(model: nn.Module, metric: SequenceMetricLoss,
                 loader) -> int:
    """TED of ``model``'s greedy decodings on ``loader`` (eval mode)."""
    return int(sum(per_sample_ed(metric, o.logits, o.data_samples).sum()
                   for o in collect_outputs(model, loader)))


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
    out = dict(ted0=held_out_ted(model, metric, test_loader), lrs=list(lrs),
               ted={}, cosine={k: float(torch.nn.functional.cosine_similarity(
                   v, first, dim=0)) for k, v in flat.items()})
    original = [p.detach().clone() for p in params]
    for name, sign in signs.items():
        teds = []
        for lr in lrs:
            with torch.no_grad():
                for p, p0, s in zip(params, original, sign):
                    p.copy_(p0 - lr * s)
            teds.append(held_out_ted(model, metric, test_loader))
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
