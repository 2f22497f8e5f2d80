"""An online synthetic dataset that appends each index it renders to the
file named by $RENDERED_LOG (tests import it with custom_imports)."""
import os

from mmocr.registry import DATASETS

from lsmmocr.datasets import OnlineSynthTextDataset


@DATASETS.register_module()
class RecordingSynthTextDataset(OnlineSynthTextDataset):

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        if os.environ.get('RENDERED_LOG'):
            with open(os.environ['RENDERED_LOG'], 'a') as f:
                f.write(f'{info["index"]}\n')
        return info
