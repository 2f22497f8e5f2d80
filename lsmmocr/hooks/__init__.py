from .learned_surrogate_hook import LearnedSurrogateHook
from .surrogate_trainer_hook import SurrogateTrainerHook, find_lsed_losses

__all__ = ['LearnedSurrogateHook', 'SurrogateTrainerHook', 'find_lsed_losses']
