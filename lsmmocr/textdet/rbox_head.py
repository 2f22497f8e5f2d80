"""An EAST-style head: per-pixel text score and rotated-box geometry."""
import math
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmocr.models.textdet.heads import BaseTextDetHead
from mmocr.registry import MODELS


@MODELS.register_module()
class RBoxHead(BaseTextDetHead):
    """EAST (Zhou et al., CVPR 2017), RBOX geometry: at every pixel of the
    neck's map, a text score and the box the pixel lies in — distances to
    its top, right, bottom and left edges (box frame) and its angle.

    MMOCR 1.x has no rotated-box regressor (its detectors segment); this is
    the one LS-IoU post-tunes.

    Args:
        in_channels (int): Channels of the neck's output.
        distance_scale (float): Pixels per unit of the raw distance output
            (softplus keeps distances positive). Defaults to 32.
        module_loss (dict): Defaults to ``RBoxModuleLoss``.
        postprocessor (dict): Defaults to ``RBoxPostprocessor``.
        init_cfg (dict, optional): Initialisation.
    """

    def __init__(self,
                 in_channels: int,
                 distance_scale: float = 32.0,
                 module_loss: Dict = dict(type='RBoxModuleLoss'),
                 postprocessor: Dict = dict(type='RBoxPostprocessor'),
                 init_cfg: Optional[Dict] = dict(
                     type='Kaiming', layer='Conv2d', nonlinearity='relu')) -> None:
        super().__init__(module_loss=module_loss, postprocessor=postprocessor,
                         init_cfg=init_cfg)
        self.distance_scale = distance_scale
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, in_channels // 2, 3, padding=1, bias=False),
            nn.BatchNorm2d(in_channels // 2), nn.ReLU(inplace=True))
        self.out = nn.Conv2d(in_channels // 2, 6, 1)

    def forward(self, img: torch.Tensor, data_samples=None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Score logits ``(N, H, W)`` and geometry ``(N, 5, H, W)``: top,
        right, bottom, left distances in input pixels, angle in radians
        (``(-π/2, π/2)``)."""
        raw = self.out(self.body(img))
        dist = F.softplus(raw[:, 1:5]) * self.distance_scale
        angle = torch.tanh(raw[:, 5:]) * (math.pi / 2)
        return raw[:, 0], torch.cat([dist, angle], 1)
