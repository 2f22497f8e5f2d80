from .lsed_module_loss import LSEDModuleLoss, layout_for
from .rank_losses import (SoDeepAPLoss, SoDeepRecallLoss, SoDeepSpearmanLoss,
                          average_precision, soft_recall_at_k, spearman_loss)
from .recall_surrogate_loss import (RecallSurrogateLoss, large_batch_backward, rs_at_k,
                                    simix)
from .surrogate_fit_loss import SurrogateFitLoss

__all__ = [
    'LSEDModuleLoss', 'layout_for', 'SoDeepAPLoss', 'SoDeepRecallLoss',
    'SoDeepSpearmanLoss', 'average_precision', 'soft_recall_at_k', 'spearman_loss',
    'RecallSurrogateLoss', 'large_batch_backward', 'rs_at_k', 'simix',
    'SurrogateFitLoss'
]
