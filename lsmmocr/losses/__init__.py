from .attached_network import AttachedNetworkLoss, NetworkSlot
from .dynamic_energy_loss import DynamicEnergyModuleLoss
from .expected_risk_loss import ExpectedRiskModuleLoss
from .lsed_module_loss import LSEDModuleLoss
from .lsiou_module_loss import LSIoUModuleLoss
from .rank_losses import (SoDeepAPLoss, SoDeepRecallLoss, SoDeepSpearmanLoss,
                          average_precision, soft_recall_at_k, spearman_loss)
from .recall_surrogate_loss import (RecallSurrogateLoss, large_batch_backward, rs_at_k,
                                    simix)
from .sequence_metric_loss import SequenceMetricLoss, layout_for
from .surrogate_fit_loss import SurrogateFitLoss

__all__ = [
    'AttachedNetworkLoss', 'NetworkSlot',
    'DynamicEnergyModuleLoss', 'ExpectedRiskModuleLoss', 'LSEDModuleLoss',
    'LSIoUModuleLoss', 'SequenceMetricLoss',
    'layout_for',
    'SoDeepAPLoss', 'SoDeepRecallLoss',
    'SoDeepSpearmanLoss', 'average_precision', 'soft_recall_at_k', 'spearman_loss',
    'RecallSurrogateLoss', 'large_batch_backward', 'rs_at_k', 'simix',
    'SurrogateFitLoss'
]
