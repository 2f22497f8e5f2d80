from .gradient_quality import (RecognizerOutputs, collect_outputs, descent_direction,
                               gradient_quality, load_instrument, markdown_rows)

__all__ = [
    'RecognizerOutputs', 'collect_outputs', 'descent_direction',
    'gradient_quality', 'load_instrument', 'markdown_rows'
]
