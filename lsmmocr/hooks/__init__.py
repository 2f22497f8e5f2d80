from .surrogate_trainer_hook import SurrogateTrainerHook, find_lsed_losses

__all__ = ['SurrogateTrainerHook', 'find_lsed_losses']
