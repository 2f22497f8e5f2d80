from .box_pair_sampler import RotatedBoxPairSampler
from .checkpoint import (build_surrogate, load_surrogate, load_surrogate_file,
                         surrogate_state)
from .edit_distance_embedding import EditDistanceEmbedding
from .edit_distance_task import EditDistanceTask, SequenceBatch, lsed_distance
from .metric_embedding import MetricEmbedding
from .pair_sampler import PairSampler, random_edits
from .pairs import SOURCES, Pairs
from .rotated_box_embedding import RotatedBoxEmbedding
from .rotated_boxes import RotatedBoxSpace, iou_distance
from .rotated_iou_task import BoxBatch, RotatedIoUTask
from .sequence_layout import SequenceLayout

__all__ = [
    'build_surrogate', 'load_surrogate', 'load_surrogate_file', 'surrogate_state',
    'EditDistanceEmbedding', 'EditDistanceTask', 'MetricEmbedding', 'SOURCES',
    'PairSampler', 'Pairs', 'random_edits', 'SequenceLayout',
    'RotatedBoxPairSampler', 'RotatedBoxEmbedding', 'RotatedBoxSpace',
    'iou_distance', 'RotatedIoUTask', 'SequenceBatch', 'BoxBatch',
    'lsed_distance'
]
