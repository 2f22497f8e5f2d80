from .box_gradient_quality import box_gradient_quality, delta_smooth_l1
from .gradient_quality import (RecognizerOutputs, collect_outputs, descent_direction,
                               gradient_quality, load_instrument, markdown_rows)

__all__ = [
    'box_gradient_quality', 'delta_smooth_l1',
    'RecognizerOutputs', 'collect_outputs', 'descent_direction',
    'gradient_quality', 'load_instrument', 'markdown_rows'
]
