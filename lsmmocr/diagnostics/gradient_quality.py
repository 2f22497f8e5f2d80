"""Quality of a loss's gradient, measured on a recognizer's real predictions.

The paper judges a surrogate by the quality of its approximation and of its
gradients; the second is what post-tuning follows. This instrument answers it
in seconds instead of a post-tuning run: take the logits a trained recognizer
produces for held-out crops, step them along the normalised negative gradient
of a loss (the surrogate ê, the proxy loss, or a random direction) at several
step sizes, decode, and count the true edit distance. A loss whose gradient
points toward the truth lowers the total edit distance (TED) at small steps.
"""
import math
from dataclasses import dataclass
from itertools import islice
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
from mmengine.runner import Runner
from mmocr.structures import TextRecogDataSample

from ..losses.sequence_metric_loss import SequenceMetricLoss
from ..surrogates.sampled_decoding import greedy_edit_distances
from ..utils import modules_of, objective, unit_per_sample, unwrap_model

# A module loss: (logits, data_samples) -> dict of loss terms.
LossFn = Callable[[torch.Tensor, Sequence[TextRecogDataSample]],
                  Dict[str, torch.Tensor]]


@dataclass
class RecognizerOutputs:
    """Raw decoder outputs of one batch with its prepared targets."""
    logits: torch.Tensor  # (N, T, C), what the decoder's module loss reads
    data_samples: List[TextRecogDataSample]


@torch.no_grad()
def collect_outputs(model: nn.Module, dataloader,
                    max_samples: Optional[int] = None) -> List[RecognizerOutputs]:
    """Decoder logits of ``model`` (eval mode) on ``dataloader``, computed as
    its training loss reads them (``forward_train``: raw logits, teacher
    forcing for attention decoders), with the targets its module loss
    prepares. (The decoder's ``forward`` in eval mode would return
    ``forward_test``'s probabilities, and free-running decoding.)"""
    model = unwrap_model(model)
    was_training = model.training
    model.eval()
    out, seen = [], 0
    for batch in dataloader:
        data = model.data_preprocessor(batch, False)
        samples = model.decoder.module_loss.get_targets(data['data_samples'])
        feat = model.extract_feat(data['inputs'])
        enc = model.encoder(feat, samples) if model.with_encoder else None
        logits = model.decoder.forward_train(feat, enc, samples)
        if not torch.is_tensor(logits):
            raise TypeError('the gradient-quality instrument needs a decoder '
                            f'that outputs a logit tensor, got {type(logits)}')
        out.append(RecognizerOutputs(logits.float().cpu(), list(samples)))
        seen += len(samples)
        if max_samples and seen >= max_samples:
            break
    model.train(was_training)
    return out


def total_loss(loss_fn: LossFn, logits: torch.Tensor,
               data_samples: Sequence[TextRecogDataSample]) -> torch.Tensor:
    """What MMEngine optimises of ``loss_fn``'s terms (:func:`objective`)."""
    return objective(loss_fn(logits, data_samples))


def descent_direction(loss_fn: LossFn, logits: torch.Tensor,
                      data_samples: Sequence[TextRecogDataSample]
                      ) -> torch.Tensor:
    """``-∇_z loss`` normalised to unit L2 norm per sample."""
    z = logits.detach().clone().requires_grad_(True)
    grad = torch.autograd.grad(total_loss(loss_fn, z, data_samples), z)[0]
    return -unit_per_sample(grad)


def random_direction(logits: torch.Tensor, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return unit_per_sample(torch.randn(logits.shape, generator=gen))


def per_sample_ed(loss: SequenceMetricLoss, logits: torch.Tensor,
                  data_samples: Sequence[TextRecogDataSample]) -> np.ndarray:
    """True edit distance of each greedy decoding (MMOCR's postprocessor)."""
    lay = loss.layout
    return greedy_edit_distances(lay, loss.logits(logits),
                                 lay.texts(loss.gt_indexes(data_samples)))


def _cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cosine_similarity(a.flatten(1), b.flatten(1))


def gradient_quality(outputs: Sequence[RecognizerOutputs],
                     losses: Dict[str, LossFn],
                     step_sizes: Sequence[float] = (1, 2, 4, 8, 16),
                     seed: int = 0) -> Dict[str, object]:
    """Step the logits along each loss's descent direction and count the
    true edit distance.

    Args:
        outputs: From :func:`collect_outputs`.
        losses: Name -> module loss. Must hold ``'proxy'`` (the decoder's
            proxy loss, the reference of the cosines); the first
            :class:`SequenceMetricLoss` among them decodes. A random
            direction (``'random'``) is always added.
        step_sizes: L2 norms of the logit step per sample.
        seed: Seed of the random direction (and of sampling losses).

    Returns:
        dict: ``ted0`` (TED before any step), ``num`` and ``num_wrong``
        (samples, and those decoded wrongly before any step), ``ted`` and
        ``ted_wrong``: direction -> TED after each step size (all samples, and
        the wrong ones only), ``cosine``: direction -> mean and median cosine
        with the proxy's gradient per sample, ``step_sizes``.
    """
    if 'proxy' not in losses:
        raise KeyError('gradient_quality needs a "proxy" loss to compare with')
    metric = next(v for v in losses.values() if isinstance(v, SequenceMetricLoss))
    names = [*losses, 'random']
    ted = {k: np.zeros(len(step_sizes)) for k in names}
    ted_wrong = {k: np.zeros(len(step_sizes)) for k in names}
    cos = {k: [] for k in names if k != 'proxy'}
    ted0, num_wrong, num = 0, 0, 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for b, out in enumerate(outputs):
            e0 = per_sample_ed(metric, out.logits, out.data_samples)
            wrong = e0 > 0
            ted0 += e0.sum()
            num_wrong, num = num_wrong + wrong.sum(), num + len(e0)
            dirs = {k: descent_direction(fn, out.logits, out.data_samples)
                    for k, fn in losses.items()}
            dirs['random'] = random_direction(out.logits, seed + b)
            for k in cos:
                cos[k].append(_cosine(dirs[k], dirs['proxy']))
            for k, d in dirs.items():
                for i, s in enumerate(step_sizes):
                    e = per_sample_ed(metric, out.logits + s * d,
                                      out.data_samples)
                    ted[k][i] += e.sum()
                    ted_wrong[k][i] += e[wrong].sum()
    cosine = {k: dict(mean=float(torch.cat(v).mean()),
                      median=float(torch.cat(v).median()))
              for k, v in cos.items()}
    return dict(ted0=int(ted0), num=int(num), num_wrong=int(num_wrong),
                step_sizes=list(step_sizes),
                ted={k: v.astype(int).tolist() for k, v in ted.items()},
                ted_wrong={k: v.astype(int).tolist() for k, v in ted_wrong.items()},
                cosine=cosine)


def training_width_loader(cfg, split: str) -> dict:
    """The dataloader config of ``split`` (in order, in this process) read
    with the training pipeline, for a config with ``post_tune`` applied. A
    stream keeps its :class:`~lsmmocr.engine.StreamSampler` (in order
    already, from its offset: post-tuning's fresh crops)."""
    loader_cfg = cfg[f'{split}_dataloader'].copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    if loader_cfg.get('sampler', {}).get('type') != 'StreamSampler':
        loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
    loader_cfg.dataset = dict(loader_cfg.dataset, pipeline=cfg.train_pipeline)
    return loader_cfg


def first_batches(cfg, split: str, num_samples: int) -> List[dict]:
    """The batches of ``split`` (:func:`training_width_loader`) holding its
    first ``num_samples`` crops, loaded once: instruments that score a model
    many times on them render or read them only once."""
    loader = Runner.build_dataloader(training_width_loader(cfg, split))
    return list(islice(loader, math.ceil(num_samples / loader.batch_size)))


def load_instrument(cfg, checkpoint: str, surrogate: str,
                    num_samples: int = 500, split: str = 'test'
                    ) -> Dict[str, object]:
    """Everything :func:`gradient_quality` needs, from a post-tuning config.

    Builds the recognizer of ``cfg`` (``post_tune`` applied), loads
    ``checkpoint``, attaches the surrogate checkpoint ``surrogate`` to its
    :class:`LSEDModuleLoss` and collects its outputs on ``split``'s dataset
    read with the *training* pipeline (the width post-tuning sees, so the
    layout's length holds).

    Returns:
        dict: ``model``, ``outputs`` and ``losses`` for
        :func:`gradient_quality`: ``lsed`` (the configured LS-ED loss),
        ``proxy`` (the decoder's own loss) and ``expected_risk``
        (:class:`ExpectedRiskModuleLoss` with its defaults).
    """
    from mmengine.runner import load_checkpoint
    from mmocr.registry import MODELS

    from ..engine.post_tune_runner import apply_post_tune
    from ..losses.lsed_module_loss import LSEDModuleLoss
    from ..surrogates.checkpoint import load_surrogate
    cfg = apply_post_tune(cfg.copy())
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    lsed = modules_of(model, LSEDModuleLoss)[0]
    lsed.attach(
        load_surrogate(surrogate, lsed.layout, check_targets=True).eval())
    loader = Runner.build_dataloader(training_width_loader(cfg, split))
    spec = cfg.model.decoder.module_loss
    risk = MODELS.build(dict(
        type='ExpectedRiskModuleLoss', proxy=spec.proxy,
        dictionary=lsed.proxy.dictionary, max_seq_len=lsed.proxy.max_seq_len,
        ctc_seq_len=spec.get('ctc_seq_len'), output=lsed.output))
    return dict(model=model, outputs=collect_outputs(model, loader, num_samples),
                losses=dict(lsed=lsed, proxy=lsed.proxy, expected_risk=risk))


def markdown_rows(name: str, res: Dict[str, object]) -> str:
    """One Markdown row per direction: cosine with ∇proxy, then TED
    (wrong-only TED) per step size."""
    rows = []
    for k in res['ted']:
        cells = ' | '.join(f'{a} ({b})' for a, b in
                           zip(res['ted'][k], res['ted_wrong'][k]))
        cos = res['cosine'].get(k, dict(mean=1.0))['mean']
        rows.append(f'| {name} | {k} | {cos:.3f} | {res["ted0"]} | {cells} |')
    return '\n'.join(rows)
