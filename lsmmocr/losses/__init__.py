from .lsed_module_loss import LSEDModuleLoss, layout_for
from .surrogate_fit_loss import SurrogateFitLoss

__all__ = ['LSEDModuleLoss', 'layout_for', 'SurrogateFitLoss']
