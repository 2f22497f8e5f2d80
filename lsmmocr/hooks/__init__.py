from .attached_network_hook import AttachedNetworkHook
from .dynamic_loss_hook import DynamicLossHook
from .learned_surrogate_hook import LearnedSurrogateHook
from .lsiou_trainer_hook import LSIoUTrainerHook
from .surrogate_trainer_hook import SurrogateTrainerHook, find_lsed_losses

__all__ = ['AttachedNetworkHook', 'DynamicLossHook', 'LearnedSurrogateHook',
           'LSIoUTrainerHook', 'SurrogateTrainerHook', 'find_lsed_losses']
