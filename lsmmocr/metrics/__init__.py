from .edit_distance import edit_distances
from .edit_distance_metric import EditDistanceMetric, edit_distance_summary

__all__ = ['edit_distances', 'EditDistanceMetric', 'edit_distance_summary']
