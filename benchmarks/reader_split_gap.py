"""Where a reader's errors are: word accuracy (ignoring case and symbols, as
MMOCR's ``word_acc_ignore_case_symbol``) on fresh crops of the *training* font
families (stream indices far past any trained one) against the validation
families, same renderer and pipeline, and per validation font. A large gap
with a uniform spread over fonts says the reader has not learnt to generalise
across typefaces; a gap made by a few fonts says those fonts are the problem;
no gap says training itself is the limit. A minute per 300 crops per split.

    python benchmarks/reader_split_gap.py \\
        configs/textrecog/aster/aster_mini-vgg_fonts.py \\
        ~/lsmmocr_runs/aster_fonts/iter_4500.pth --num 300
"""
import argparse
import re
from collections import defaultdict
from typing import Dict, List, Tuple

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmocr.registry import DATASETS

import lsmmocr  # noqa: F401  (registration)
from lsmmocr.cli import check_args
from lsmmocr.experiments.testing import load_model

FRESH = 10**8  # training-stream indices no run reaches


def normalise(text: str) -> str:
    return re.sub(r'[^a-z0-9]', '', text.lower())


def read(model, dataset, indices: List[int],
         batch: int = 32) -> List[Tuple[str, bool]]:
    """``(font, read right)`` of each crop."""
    out = []
    for start in range(0, len(indices), batch):
        infos = [dataset.get_data_info(i) for i in indices[start:start + batch]]
        data = pseudo_collate([dataset.pipeline(dict(info)) for info in infos])
        with torch.no_grad():
            preds = model.test_step(data)
        for info, pred in zip(infos, preds):
            right = normalise(pred.pred_text.item) == normalise(
                pred.gt_text.item)
            out.append((info['font'], right))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('config', help='a reader config (..._fonts.py)')
    parser.add_argument('checkpoint')
    parser.add_argument('--num', type=int, default=300, help='crops per split')
    parser.add_argument('--pipeline', choices=('test', 'train'), default='test',
                        help='the config\'s test pipeline (what validation '
                        'reads) or its training one')
    args = parser.parse_args()
    check_args(parser, args, files=('config', 'checkpoint'), positive=('num', ))
    cfg = Config.fromfile(args.config)
    model = load_model(cfg, args.checkpoint)
    pipeline = cfg[f'{args.pipeline}_pipeline']
    stream = cfg.train_dataloader.dataset.datasets[0]
    results: Dict[str, List[Tuple[str, bool]]] = {}
    for split, offset in (('train', FRESH), ('val', 0)):
        dataset = DATASETS.build(dict(stream, split=split, num_samples=10**9,
                                      test_mode=True, pipeline=pipeline))
        results[split] = read(model, dataset,
                              list(range(offset, offset + args.num)))
    print(f'\n{args.checkpoint}, {args.pipeline} pipeline, {args.num} crops '
          'per split\n')
    print('| split | word accuracy |\n|---|---|')
    for split, res in results.items():
        print(f'| {split} families | {100 * sum(r for _, r in res) / len(res):.1f} % |')
    by_font = defaultdict(list)
    for font, right in results['val']:
        by_font[font].append(right)
    print('\n| validation font | crops | word accuracy |\n|---|---|---|')
    for font, rs in sorted(by_font.items(), key=lambda kv: sum(kv[1]) / len(kv[1])):
        print(f'| {font} | {len(rs)} | {100 * sum(rs) / len(rs):.0f} % |')


if __name__ == '__main__':
    main()
