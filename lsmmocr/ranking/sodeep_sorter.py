"""SoDeep (Engilberge et al., CVPR 2019): a network that maps a score vector
to its ranks, trained on synthetic vectors only, then frozen and used as a
differentiable stand-in for ranking."""
import os.path as osp
from typing import Callable, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.utils import ProgressBar
from mmocr.registry import MODELS

from ..surrogates.edit_distance_embedding import ResidualConv1d
from ..utils import read_checkpoint, save_atomic
from .sorter_data import DISTRIBUTIONS, exact_ranks, sample_scores

ARCHS = ('bilstm', 'conv')


class _ConvBlock(ResidualConv1d):
    """``x + conv(h) + W·mean_j(h_j)``, ``h = relu(norm(x))``, over
    ``(N, H, n)``: h_Φ's residual convolution plus a pooled term.

    The input order of a score vector is arbitrary, so a convolution's
    neighbours are no better informed than any other element; the pooled
    term lets every position compare itself with the whole vector in every
    block, whatever ``n`` and the receptive field.
    """

    def __init__(self, channels: int, kernel_size: int, dilation: int) -> None:
        super().__init__(channels, kernel_size, dilation)
        self.context = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.norm(x))
        return x + self.conv(h) + self.context(h.mean(-1)).unsqueeze(-1)


@MODELS.register_module()
class SoDeepSorter(BaseModule):
    """A learned sorter: ``(N, n)`` scores -> ``(N, n)`` ranks in [0, 1].

    Ascending: the sorter learns to output 0 for the smallest score and 1 for
    the largest (:func:`exact_ranks`). Each vector is first standardised
    (zero mean, unit standard deviation), which leaves its ranks unchanged
    and makes the sorter indifferent to the scale of the scores it is later
    used on (confidences in [0.9, 1] as well as unbounded logits).

    * ``'bilstm'`` (the paper's main sorter): per-element projection, a
      bidirectional LSTM over the vector, a per-element MLP on the LSTM state
      and the element's own projection.
    * ``'conv'``: per-element projection, residual 1-D convolutions (kernel
      ``kernel_size``, dilations 1, 2, 4, ...), each block adding a linear map
      of the vector's mean feature (:class:`_ConvBlock`). With the default
      kernel 1 it is permutation-equivariant (ties get equal ranks); kernel 3
      ranked worse at equal training (``benchmarks/RESULTS_sorter.md``), as
      neighbours in an unordered vector carry no information.

    Both end in a sigmoid. There is no dropout or batch norm, so training and
    evaluation modes compute the same function (a frozen LSTM sorter is kept
    in training mode: cuDNN back-propagates through an RNN only there).

    Args:
        seq_len (int): ``n``, the length of the vectors it sorts.
        arch (str): ``'bilstm'`` or ``'conv'``. Defaults to ``'bilstm'``.
        hidden (int): Features per element. Defaults to 64.
        num_layers (int, optional): LSTM layers or convolution blocks.
            Defaults to 2 (``'bilstm'``) or 4 (``'conv'``).
        kernel_size (int): Convolution kernel (``'conv'``). Defaults to 1.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self,
                 seq_len: int,
                 arch: str = 'bilstm',
                 hidden: int = 64,
                 num_layers: Optional[int] = None,
                 kernel_size: int = 1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if arch not in ARCHS:
            raise ValueError(f'arch must be one of {ARCHS}, got {arch!r}')
        if seq_len < 2:
            raise ValueError(f'seq_len must be >= 2, got {seq_len}')
        self.seq_len = seq_len
        self.arch = arch
        if num_layers is None:
            num_layers = 2 if arch == 'bilstm' else 4
        self.cfg = dict(type='SoDeepSorter', seq_len=seq_len, arch=arch,
                        hidden=hidden, num_layers=num_layers,
                        kernel_size=kernel_size)
        self.proj = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(),
                                  nn.Linear(hidden, hidden))
        if arch == 'bilstm':
            self.mixer = nn.LSTM(hidden, hidden, num_layers=num_layers,
                                 batch_first=True, bidirectional=True)
            mixed = 2 * hidden
        else:
            self.mixer = nn.Sequential(*[
                _ConvBlock(hidden, kernel_size, 2**i)
                for i in range(num_layers)
            ])
            mixed = hidden
        self.head = nn.Sequential(nn.Linear(mixed + hidden, hidden), nn.ReLU(),
                                  nn.Linear(hidden, 1))

    def check_input(self, x: torch.Tensor) -> None:
        """Raise ``ValueError`` unless ``x`` is ``(n,)`` or ``(N, n)`` with
        this sorter's ``n`` and finite."""
        if x.dim() not in (1, 2) or x.shape[-1] != self.seq_len:
            raise ValueError(
                f'this sorter ranks vectors of length {self.seq_len} (input '
                f'(N, {self.seq_len}) or ({self.seq_len},)), got '
                f'{tuple(x.shape)}: train a sorter for this length with '
                f'tools/train_sorter.py --seq-len {x.shape[-1]}')
        if not torch.isfinite(x).all():
            bad = int((~torch.isfinite(x)).sum())
            raise ValueError(f'the sorter got {bad} NaN or infinite scores '
                             f'out of {x.numel()}')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, n)`` (or ``(n,)``) scores -> ranks of the same shape."""
        self.check_input(x)
        squeeze = x.dim() == 1
        x = x.reshape(-1, self.seq_len).float()
        z = (x - x.mean(1, keepdim=True)) / (x.std(1, keepdim=True) + 1e-6)
        e = self.proj(z.unsqueeze(-1))  # (N, n, H)
        if self.arch == 'bilstm':
            h = self.mixer(e)[0]
        else:
            h = self.mixer(e.transpose(1, 2)).transpose(1, 2)
        r = torch.sigmoid(self.head(torch.cat([h, e], -1)).squeeze(-1))
        return r[0] if squeeze else r


def sorter_state(sorter: SoDeepSorter, **extra) -> dict:
    """A self-describing checkpoint: the config that builds ``sorter``
    (``seq_len`` included) and its weights, plus ``extra`` entries."""
    return dict(meta=dict(sorter=dict(sorter.cfg)), **extra,
                state_dict={k: v.cpu() for k, v in sorter.state_dict().items()})


def load_sorter(path: str, seq_len: Optional[int] = None,
                frozen: bool = True) -> SoDeepSorter:
    """Build the sorter saved in ``path`` (by ``tools/train_sorter.py``).

    Args:
        path (str): Checkpoint file.
        seq_len (int, optional): If given, the length the caller needs;
            another length raises ``ValueError``.
        frozen (bool): Turn off gradients to its parameters (they still flow
            to its input). Defaults to True.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'no sorter checkpoint at {path}: make one '
                                'with tools/train_sorter.py')
    state = read_checkpoint(path, 'sorter checkpoint')
    if 'sorter' not in state.get('meta', {}):
        raise ValueError(f'{path} is not a sorter checkpoint')
    cfg = state['meta']['sorter']
    if seq_len is not None and cfg['seq_len'] != seq_len:
        raise ValueError(f'{path} sorts vectors of length {cfg["seq_len"]}, '
                         f'but {seq_len} is needed')
    sorter = MODELS.build(cfg)
    sorter.load_state_dict(state['state_dict'])
    if frozen:
        sorter.requires_grad_(False)
    return sorter


def train_sorter(cfg: dict,
                 iters: int = 3000,
                 batch_size: int = 256,
                 lr: float = 1e-3,
                 dists: Sequence[str] = DISTRIBUTIONS,
                 seed: int = 0,
                 out: Optional[str] = None,
                 save_every: int = 1000,
                 resume: bool = False,
                 device: str = 'cpu',
                 progress: bool = True,
                 log: Callable[[str], None] = print) -> SoDeepSorter:
    """Fit a sorter to the exact ranks of synthetic vectors.

    L1 loss between the sorter's and the exact normalised ranks (SoDeep's
    objective), Adam with a cosine-decayed learning rate from ``lr``; each
    batch is freshly drawn from ``dists`` (:func:`sample_scores`).

    Args:
        cfg (dict): :class:`SoDeepSorter` config, ``seq_len`` included.
        iters (int): Optimisation steps. Defaults to 3000.
        batch_size (int): Vectors per step. Defaults to 256.
        lr (float): Initial learning rate. Defaults to 1e-3.
        dists (sequence of str): Training families. Defaults to all.
        seed (int): Seed of the weights and the data. Defaults to 0.
        out (str, optional): Checkpoint path, written atomically every
            ``save_every`` steps and at the end, with the optimizer and data
            generator states so ``resume=True`` continues from it.
        device (str): Defaults to ``'cpu'``.
        progress (bool): Show a progress bar. Defaults to True.
        log (callable): Receives progress lines. Defaults to ``print``.
    """
    cfg = dict(cfg, type='SoDeepSorter')
    torch.manual_seed(seed)
    sorter = MODELS.build(cfg).to(device)
    optim = torch.optim.Adam(sorter.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, T_max=iters)
    gen = torch.Generator().manual_seed(seed)
    start = 0
    if resume and out and osp.isfile(out):
        state = torch.load(out, map_location=device, weights_only=False)
        sorter.load_state_dict(state['state_dict'])
        optim.load_state_dict(state['optimizer'])
        sched.load_state_dict(state['scheduler'])
        gen.set_state(state['generator'])
        start = state['iter']
        log(f'resumed from {out} at iteration {start}')

    def save(it: int, loss: float) -> None:
        save_atomic(
            sorter_state(sorter, optimizer=optim.state_dict(),
                         scheduler=sched.state_dict(),
                         generator=gen.get_state(), iter=it,
                         train=dict(iters=iters, batch_size=batch_size, lr=lr,
                                    dists=list(dists), seed=seed,
                                    last_loss=loss)), out)

    bar = ProgressBar(iters - start) if progress and iters > start else None
    for it in range(start, iters):
        x = sample_scores(batch_size, sorter.seq_len, dists, gen).to(device)
        loss = F.l1_loss(sorter(x), exact_ranks(x))
        optim.zero_grad()
        loss.backward()
        optim.step()
        sched.step()
        if bar is not None:
            bar.update()
        if out and ((it + 1) % save_every == 0 or it + 1 == iters):
            save(it + 1, loss.item())
            log(f'\niter {it + 1}: L1 {loss.item():.4f} '
                f'(mean rank error {loss.item() * (sorter.seq_len - 1):.2f})')
    return sorter
