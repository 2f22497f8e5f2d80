from .checkpoint import (build_surrogate, load_surrogate, load_surrogate_file,
                         surrogate_state)
from .edit_distance_embedding import EditDistanceEmbedding
from .pair_sampler import SOURCES, Pairs, PairSampler, random_edits
from .sequence_layout import SequenceLayout

__all__ = [
    'build_surrogate', 'load_surrogate', 'load_surrogate_file', 'surrogate_state',
    'EditDistanceEmbedding', 'SOURCES', 'PairSampler', 'Pairs',
    'random_edits', 'SequenceLayout'
]
