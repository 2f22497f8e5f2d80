from .learned_surrogate_hook import LearnedSurrogateHook
from .lsiou_trainer_hook import LSIoUTrainerHook
from .surrogate_trainer_hook import SurrogateTrainerHook, find_lsed_losses

__all__ = ['LearnedSurrogateHook', 'LSIoUTrainerHook', 'SurrogateTrainerHook',
           'find_lsed_losses']
