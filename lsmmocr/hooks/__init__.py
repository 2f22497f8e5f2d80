from .attached_network_hook import AttachedNetworkHook
from .deprecated_hooks import LSIoUTrainerHook, SurrogateTrainerHook
from .dynamic_loss_hook import DynamicLossHook
from .learned_surrogate_hook import LearnedSurrogateHook

__all__ = ['AttachedNetworkHook', 'DynamicLossHook', 'LearnedSurrogateHook',
           'LSIoUTrainerHook', 'SurrogateTrainerHook']
