from .energy_model import SequenceEnergy
from .hypergradient import (central_difference, conjugate_gradient, displaced,
                            mixed_product, neumann_inverse)
from .psi_objective import PsiObjective

__all__ = ['SequenceEnergy', 'central_difference', 'conjugate_gradient',
           'displaced', 'mixed_product', 'neumann_inverse', 'PsiObjective']
