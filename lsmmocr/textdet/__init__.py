"""A rotated-box text detector for MMOCR (EAST-style), the one LS-IoU
post-tunes."""
from .rbox_head import RBoxHead
from .rbox_module_loss import RBoxModuleLoss
from .rbox_postprocessor import RBoxPostprocessor

__all__ = ['RBoxHead', 'RBoxModuleLoss', 'RBoxPostprocessor']
