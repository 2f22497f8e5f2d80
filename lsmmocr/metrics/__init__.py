from ..edit_distance import edit_distances
from .edit_distance_metric import EditDistanceMetric, edit_distance_summary
from .lexicon_metric import LexiconMetric
from .recall_at_k import RecallAtK, positive_counts, recall_at_k, summarize_counts

__all__ = [
    'edit_distances', 'EditDistanceMetric', 'edit_distance_summary',
    'LexiconMetric', 'RecallAtK', 'positive_counts', 'recall_at_k',
    'summarize_counts'
]
