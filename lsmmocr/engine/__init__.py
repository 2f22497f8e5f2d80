from .post_tune_runner import PostTuneRunner, apply_post_tune

__all__ = ['PostTuneRunner', 'apply_post_tune']
