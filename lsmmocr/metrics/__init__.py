from ..edit_distance import edit_distances
from .edit_distance_metric import EditDistanceMetric, edit_distance_summary
from .lexicon_metric import LexiconMetric
from .matched_iou_metric import MatchedIoUMetric, first_come_matches
from .recall_at_k import RecallAtK, positive_counts, recall_at_k, summarize_counts

__all__ = [
    'edit_distances', 'EditDistanceMetric', 'edit_distance_summary',
    'LexiconMetric', 'MatchedIoUMetric', 'first_come_matches', 'RecallAtK',
    'positive_counts', 'recall_at_k', 'summarize_counts'
]
