"""The learned-surrogate mechanism of post-tuning, for any metric: own h_Φ
and its optimizer, fit Φ on pairs around the model's own predictions after
each model step, keep it in checkpoints and in step across ranks
(:class:`~.attached_network_hook.AttachedNetworkHook`).

LS-ED (:class:`~.SurrogateTrainerHook`) and LS-IoU (:class:`~.LSIoUTrainerHook`)
are its instances; each says which module loss it serves, the metric space,
and how a batch of the model's predictions becomes labelled pairs.
"""
from typing import Optional

from mmocr.registry import MODELS
from scipy.stats import spearmanr

from ..surrogates.pairs import SOURCES, Pairs
from .attached_network_hook import AttachedNetworkHook


class LearnedSurrogateHook(AttachedNetworkHook):
    """After each model step, take ``inner_steps`` steps of Φ on pairs from
    ``source`` built from that step's predictions (kept, detached, by the
    module loss as ``last_batch``), so the model's next step follows a
    surrogate fitted around its current predictions. Checkpoints and ranks:
    :class:`AttachedNetworkHook`.

    Subclasses set :attr:`LOSS_TYPE`, :attr:`CKPT_KEY`, :attr:`NAME` and
    implement :meth:`metric_space`, :meth:`make_sampler` and :meth:`pairs`.

    Args:
        surrogate (dict): h_Φ config (what the space fixes is added).
            Ignored when ``pretrained`` is set: the checkpoint's own is used.
        pretrained (str, optional): Surrogate checkpoint from
            ``tools/train_surrogate.py`` (global pre-training).
        optimizer (dict): Φ's optimizer. Defaults to Adam, lr 1e-4.
        fit_loss (dict): The surrogate objective.
        source (str): ``'global'``, ``'local'`` or ``'local-global'``.
        inner_steps (int): J, Φ steps per model step. 0 freezes Φ.
        sampler (dict): Keyword arguments of the pair sampler.
        seed (int): Seed of the pair sampler (plus the rank).
    """

    def __init__(self,
                 surrogate: dict,
                 fit_loss: dict = dict(type='SurrogateFitLoss', grad_penalty=0.0),
                 source: str = 'local-global',
                 inner_steps: int = 1,
                 **kwargs) -> None:
        if source not in SOURCES:
            raise ValueError(f'source must be one of {SOURCES}, got {source!r}')
        if inner_steps < 0:
            raise ValueError(f'inner_steps must be >= 0, got {inner_steps}')
        super().__init__(surrogate=surrogate, **kwargs)
        self.fit_loss = MODELS.build(fit_loss)
        self.source = source
        self.inner_steps = inner_steps

    def pairs(self, batch) -> Pairs:
        """Labelled pairs for Φ from a module loss's ``last_batch``."""
        raise NotImplementedError

    def _step(self, batch) -> dict:
        device = next(self.surrogate.parameters()).device
        pairs = self.pairs(batch)
        out = self.fit_loss(self.surrogate, pairs.z.to(device),
                            pairs.y.to(device), pairs.e.to(device))
        self.apply_step(out['loss'])
        out['e'] = pairs.e
        return out

    def before_fit(self, runner, batch, data_batch) -> None:
        """Called with each step's predictions before Φ fits them."""

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        batch = self.take_batch()
        if batch is None:
            return
        self.before_fit(runner, batch, data_batch)
        for _ in range(self.inner_steps):
            out = self._step(batch)
        self.steps += 1
        if self.inner_steps:
            self._log(runner, out)

    def _log(self, runner, out: dict) -> None:
        hub = runner.message_hub
        hub.update_scalar(f'train/{self.NAME}_approx_error',
                          float(out['approx_error']))
        hub.update_scalar(f'train/{self.NAME}_grad_norm', float(out['grad_norm']))
        e, e_hat = out['e'].numpy(), out['e_hat'].detach().cpu().numpy()
        if e.std() > 0 and e_hat.std() > 0:
            hub.update_scalar(f'train/{self.NAME}_spearman',
                              float(spearmanr(e_hat, e).statistic))
