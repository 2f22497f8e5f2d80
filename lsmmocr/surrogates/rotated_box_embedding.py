"""h_Φ of LS-IoU: rotated boxes embedded so that Euclidean distance
approximates ``1 − IoU``."""
import math
from typing import Optional

import torch
import torch.nn as nn
from mmocr.registry import MODELS

from .metric_embedding import MetricEmbedding
from .rotated_boxes import BOX_DIM, box_shape, check_boxes


@MODELS.register_module()
class RotatedBoxEmbedding(MetricEmbedding):
    """Embed ``(N, 5)`` rotated boxes into ``R^D``.

    Each box is read as its centre and second-moment square root
    (:func:`~.rotated_boxes.box_shape`: one representation per box,
    continuous in the angle), plus the log of its size, then an MLP.
    The IoU of two boxes depends on their offset *relative to* their size;
    the log-size input lets the network scale its resolution with the box.
    ``num_freqs > 0`` adds Fourier features ``sin / cos(2^k π x)`` of every
    input, ``k < num_freqs``: an MLP on raw coordinates resolves small boxes
    poorly (spectral bias), these give it the fine scales.

    Args:
        embed_dims (int): ``D``. Defaults to 128.
        hidden (int): Width of the MLP. Defaults to 256.
        num_layers (int): Hidden layers. Defaults to 4.
        num_freqs (int): Fourier feature octaves. Defaults to 8 (measured:
            benchmarks/RESULTS_lsiou.md).
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self,
                 embed_dims: int = 128,
                 hidden: int = 256,
                 num_layers: int = 4,
                 num_freqs: int = 8,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.register_buffer(
            'freqs', math.pi * 2.0**torch.arange(num_freqs), persistent=False)
        layers, width = [], (BOX_DIM + 1) * (1 + 2 * num_freqs)
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        self.mlp = nn.Sequential(*layers, nn.Linear(width, embed_dims))

    def forward(self, boxes: torch.Tensor) -> torch.Tensor:
        """``(N, 5)`` boxes -> ``(N, D)`` embeddings."""
        check_boxes(boxes.detach())
        log_size = 0.5 * torch.log(boxes[:, 2] * boxes[:, 3])
        x = torch.cat([box_shape(boxes), log_size[:, None]], 1)
        if len(self.freqs):
            angles = (x[:, :, None] * self.freqs).flatten(1)
            x = torch.cat([x, angles.sin(), angles.cos()], 1)
        return self.mlp(x)
