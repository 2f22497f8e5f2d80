"""Write a built-in synthetic dataset of either task to disk."""
from typing import Dict

from .synth_scene import SynthSceneGenerator
from .synth_text import SynthTextGenerator, read_charset

# MMOCR task -> the generator of its samples
GENERATORS = dict(textrecog=SynthTextGenerator, textdet=SynthSceneGenerator)


def make_synth_dataset(out_dir: str,
                       dict_file: str,
                       sizes: Dict[str, int],
                       seed: int = 0,
                       task: str = 'textrecog',
                       **kwargs) -> Dict[str, str]:
    """Write the splits in ``sizes`` (split name -> number of samples) of
    ``task``: ``'textrecog'`` (word crops) or ``'textdet'`` (scenes).

    Returns:
        dict: Split name -> annotation file path.
    """
    if task not in GENERATORS:
        raise ValueError(f'task must be one of {sorted(GENERATORS)}, got {task!r}')
    gen = GENERATORS[task](read_charset(dict_file), seed=seed, **kwargs)
    return {split: gen.write_split(out_dir, split, num)
            for split, num in sizes.items()}
