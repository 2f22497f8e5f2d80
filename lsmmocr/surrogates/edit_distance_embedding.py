"""h_Φ of LS-ED (Patel et al., ECCV 2020): character distributions embedded
so that Euclidean distance approximates edit distance."""
from typing import Optional

import torch
import torch.nn as nn
from mmocr.registry import MODELS

from .metric_embedding import MetricEmbedding

ARCHS = ('conv', 'bilstm')


class ResidualConv1d(nn.Module):
    """``x + conv(relu(norm(x)))`` over the time axis of ``(N, H, T)``."""

    def __init__(self, channels: int, kernel_size: int, dilation: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(1, channels)
        self.conv = nn.Conv1d(channels, channels, kernel_size,
                              padding=dilation * (kernel_size // 2),
                              dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(torch.relu(self.norm(x)))


@MODELS.register_module()
class EditDistanceEmbedding(MetricEmbedding):
    """Embed ``(N, T, C)`` character distributions into ``R^D``.

    The input is projected per position to ``hidden`` channels, mixed along
    time (residual dilated 1-D convolutions, or a BiLSTM), flattened over the
    ``T`` positions and mapped linearly to ``embed_dims``. Flattening keeps
    *where* a character is, which edit distance depends on; the time mixing
    lets an insertion or deletion (a shift) be recognised as one edit.

    The default (``arch='conv'``, 4 layers, dilations 1-2-4-8, kernel 3) sees
    31 positions per output feature, enough for the 25-30 positions of MMOCR's
    decoders, and unlike cuDNN's LSTM supports the double backward of the
    gradient penalty on every device. ``benchmarks/surrogate_fidelity.py``
    compares both architectures.

    Args:
        num_classes (int): ``C``, the dictionary size.
        seq_len (int): ``T``, the number of positions.
        embed_dims (int): ``D``. Defaults to 256.
        hidden (int): Channels per position. Defaults to 64.
        arch (str): ``'conv'`` or ``'bilstm'``. Defaults to ``'conv'``.
        num_layers (int): Residual convolutions (conv) or LSTM layers.
            Defaults to 4.
        kernel_size (int): Convolution kernel. Defaults to 3.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self,
                 num_classes: int,
                 seq_len: int,
                 embed_dims: int = 256,
                 hidden: int = 64,
                 arch: str = 'conv',
                 num_layers: int = 4,
                 kernel_size: int = 3,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if arch not in ARCHS:
            raise ValueError(f'arch must be one of {ARCHS}, got {arch!r}')
        self.num_classes = num_classes
        self.seq_len = seq_len
        self.arch = arch
        self.proj = nn.Linear(num_classes, hidden)
        if arch == 'conv':
            self.mixer = nn.Sequential(*[
                ResidualConv1d(hidden, kernel_size, 2**i)
                for i in range(num_layers)
            ])
        else:
            self.mixer = nn.LSTM(hidden, hidden // 2, num_layers=num_layers,
                                 batch_first=True, bidirectional=True)
        self.head = nn.Linear(hidden * seq_len, embed_dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, T, C)`` distributions -> ``(N, D)`` embeddings."""
        if x.dim() != 3 or x.shape[1:] != (self.seq_len, self.num_classes):
            raise ValueError(
                f'expected input (N, {self.seq_len}, {self.num_classes}), got '
                f'{tuple(x.shape)}: the surrogate was built for another '
                'sequence length or dictionary')
        h = self.proj(x)
        if self.arch == 'conv':
            h = self.mixer(h.transpose(1, 2)).transpose(1, 2)
        else:
            h = self.mixer(h)[0]
        return self.head(torch.relu(h).flatten(1))
