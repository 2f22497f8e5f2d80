"""E_ψ(x, z): an energy model of a recognizer's prediction given the image,
the learned *dynamic loss* the recognizer (an inference network, Tu & Gimpel
2018) post-tunes on."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmocr.registry import MODELS


@MODELS.register_module()
class SequenceEnergy(nn.Module):
    """Energy of ``(N, T, C)`` character distributions ``z`` given the image,
    read through the recognizer's own features ``(N, D, H, W)`` (detached:
    the energy does not train the recognizer's backbone).

    The features are pooled over the height and resampled to the ``T``
    positions (image columns, left to right, as CTC frames are), projected to
    ``hidden`` channels and added to the projected distributions; two 1-D
    convolutions (3 positions of context) give each position an energy, and
    their sum is the energy of the prediction. Unlike LS-ED's ê(z, y), it
    never sees the ground truth: what it knows of it, training put in ψ.

    Args:
        num_classes (int): C, the decoder's classes.
        seq_len (int): T (given by the layout; any T is accepted).
        feat_channels (int): D, the recognizer's feature channels (MMOCR's
            mini-VGG and ResNet backbones: 512).
        hidden (int): Channels inside. Defaults to 128.
    """

    def __init__(self, num_classes: int, seq_len: int,
                 feat_channels: int = 512, hidden: int = 128) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.feat_channels = feat_channels
        self.feat_proj = nn.Conv1d(feat_channels, hidden, 1)
        self.z_proj = nn.Conv1d(num_classes, hidden, 1)
        self.body = nn.Sequential(
            nn.ReLU(), nn.Conv1d(hidden, hidden, 3, padding=1), nn.ReLU(),
            nn.Conv1d(hidden, 1, 1))

    def forward(self, feat: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """``(N,)`` energies of ``z`` ``(N, T, C)`` given ``feat``."""
        if feat.dim() != 4 or feat.size(1) != self.feat_channels:
            raise ValueError(
                f'SequenceEnergy expects features (N, {self.feat_channels}, '
                f'H, W), got {tuple(feat.shape)}: set feat_channels to the '
                'backbone\'s output channels')
        if z.size(-1) != self.num_classes:
            raise ValueError(f'SequenceEnergy has {self.num_classes} classes, '
                             f'the prediction {z.size(-1)}')
        cols = F.adaptive_avg_pool2d(feat, (1, z.size(1))).flatten(2)
        h = self.feat_proj(cols) + self.z_proj(z.transpose(1, 2))
        return self.body(h).sum((1, 2))
