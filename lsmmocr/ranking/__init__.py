from .sodeep_sorter import SoDeepSorter, load_sorter, sorter_state, train_sorter
from .soft_rank import sigmoid_tau, soft_count_topk, soft_ranks, soft_spearman
from .sorter_data import (DISTRIBUTIONS, exact_ranks, fidelity_by_distribution,
                          held_out_scores, rank_fidelity, sample_scores)

__all__ = [
    'SoDeepSorter', 'load_sorter', 'sorter_state',
    'train_sorter', 'sigmoid_tau', 'soft_count_topk', 'soft_ranks',
    'soft_spearman',
    'DISTRIBUTIONS', 'exact_ranks', 'fidelity_by_distribution',
    'held_out_scores', 'rank_fidelity', 'sample_scores'
]
