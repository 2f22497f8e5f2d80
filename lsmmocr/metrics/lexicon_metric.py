"""Lexicon-constrained recognition: rank a word list for each prediction by
exact edit distance and by distance in the LS-ED embedding h_Φ."""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmocr.registry import METRICS, TASK_UTILS
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cdist

from ..surrogates.checkpoint import load_surrogate as load_surrogate_checkpoint
from ..surrogates.sequence_layout import SequenceLayout
from ..utils import mmocr_dict_file
from .edit_distance_metric import EditDistanceMetric


def build_layout(layout: Union[SequenceLayout, dict]) -> SequenceLayout:
    """A :class:`SequenceLayout`, or one from ``dict(dictionary=<Dictionary
    or its config>, mode=..., seq_len=...)``; a ``dict_file`` may name one
    of MMOCR's dictionaries."""
    if isinstance(layout, SequenceLayout):
        return layout
    cfg = dict(layout)
    dictionary = cfg.pop('dictionary')
    if isinstance(dictionary, dict):
        dictionary = TASK_UTILS.build(dict(
            dictionary, dict_file=mmocr_dict_file(dictionary['dict_file'])))
    return SequenceLayout(dictionary, **cfg)


def load_surrogate(surrogate: Union[str, nn.Module],
                   layout: SequenceLayout) -> nn.Module:
    """h_Φ as given, or built from a checkpoint made for ``layout``."""
    if isinstance(surrogate, nn.Module):
        return surrogate
    return load_surrogate_checkpoint(surrogate, layout)


def read_lexicon(path: str) -> List[str]:
    """One word per line; blank lines are skipped."""
    with open(path, encoding='utf-8') as f:
        words = [line.strip() for line in f]
    words = [w for w in words if w]
    if not words:
        raise ValueError(f'lexicon file {path} has no words')
    return words


def gt_ranks(dist: np.ndarray, gt_cols: np.ndarray) -> np.ndarray:
    """Rank of the ground-truth word in each row of ``(n, L)`` distances,
    ties counted against it: ``#{w : d(w) ≤ d(gt)}``; ``inf`` where the
    ground truth is not in the lexicon (``gt_cols < 0``)."""
    rows = np.arange(len(dist))
    d_gt = dist[rows, np.maximum(gt_cols, 0)]
    ranks = (dist <= d_gt[:, None]).sum(1).astype(float)
    ranks[gt_cols < 0] = np.inf
    return ranks


@METRICS.register_module()
class LexiconMetric(BaseMetric):
    """Lexicon accuracy and recall@k of the ground truth in a ranked lexicon.

    Each prediction ranks its lexicon twice: by exact edit distance
    (``ed_*``, rapidfuzz ``process.cdist``) and, with a surrogate, by
    ê_Φ = ‖h_Φ(pred) − h_Φ(word)‖₂ (``lsed_*``). Both texts enter h_Φ as the
    one-hot of their characters in ``layout`` (a sample holds the decoded
    text, not the character distributions); texts longer than the layout
    are truncated, as for training.

    Reported: ``{ed,lsed}_acc`` (the ground truth is ranked first),
    ``{ed,lsed}_recall@k`` and ``gt_in_lexicon``; a ground truth missing from
    its lexicon counts as a miss. Ties (frequent for integer edit distances)
    rank the ground truth after every word at the same distance, as
    :func:`~lsmmocr.metrics.recall_at_k.positive_counts` does, so accuracy
    is a lower bound over tie-breaking orders.

    Texts are normalised as :class:`EditDistanceMetric` does (``mode``,
    ``valid_symbol``), lexicon words too; duplicates after normalisation are
    merged and empty words dropped.

    Args:
        lexicon_file (str, optional): Word list, one per line (IIIT5K/SVT
            50- or 1k-word lists, or any list), for samples without their own.
        lexicon_key (str): Key of a per-sample word list (e.g. added to
            ``PackTextRecogInputs.meta_keys``). Defaults to ``'lexicon'``.
        ks (sequence of int): Defaults to (1, 5, 10).
        surrogate (str or nn.Module, optional): h_Φ, or the path of a
            surrogate checkpoint. None reports ``ed_*`` only.
        layout (SequenceLayout or dict, optional): The surrogate's layout,
            ``dict(dictionary=dict(type='Dictionary', dict_file=...), mode=...,
            seq_len=...)``. Required with ``surrogate``.
        mode (str): Text normalisation. Defaults to ``'ignore_case_symbol'``.
        valid_symbol (str): See :class:`EditDistanceMetric`.
        batch_size (int): Texts per h_Φ forward. Defaults to 1024.
        workers (int): rapidfuzz threads (-1: all cores). Defaults to 1.
        device (str, optional): Where to move h_Φ. Defaults to None: it
            runs where its parameters are (a checkpoint loads on the CPU).
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): Defaults to ``'lexicon'``.
    """

    default_prefix = 'lexicon'

    def __init__(self,
                 lexicon_file: Optional[str] = None,
                 lexicon_key: str = 'lexicon',
                 ks: Sequence[int] = (1, 5, 10),
                 surrogate: Union[str, nn.Module, None] = None,
                 layout: Union[SequenceLayout, dict, None] = None,
                 mode: str = 'ignore_case_symbol',
                 valid_symbol: str = '[^A-Z^a-z^0-9^\u4e00-\u9fa5]',
                 batch_size: int = 1024,
                 workers: int = 1,
                 device: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device, prefix)
        self.text = EditDistanceMetric(mode, valid_symbol)
        self.lexicon = None if lexicon_file is None else self._words(
            read_lexicon(lexicon_file))
        self.lexicon_key, self.ks = lexicon_key, [int(k) for k in ks]
        self.batch_size, self.workers, self.device = batch_size, workers, device
        self.surrogate = self.layout = None
        if surrogate is not None:
            if layout is None:
                raise ValueError('LexiconMetric with a surrogate needs its '
                                 'layout: dict(dictionary=..., mode=..., '
                                 'seq_len=...)')
            self.layout = build_layout(layout)
            self.surrogate = load_surrogate(surrogate, self.layout)

    def _words(self, words: Sequence[str]) -> tuple:
        """Normalised, de-duplicated (first occurrence kept), non-empty."""
        normed = (self.text.normalize(w) for w in words)
        return tuple(dict.fromkeys(w for w in normed if w))

    def process(self, data_batch: Sequence[Dict],
                data_samples: Sequence[Dict]) -> None:
        for sample in data_samples:
            lexicon = sample.get(self.lexicon_key)
            if lexicon is None and self.lexicon is None:
                raise ValueError(
                    f'a sample has no {self.lexicon_key!r} and LexiconMetric '
                    'has no lexicon_file')
            self.results.append(
                (self.text.normalize(sample['pred_text']['item']),
                 self.text.normalize(sample['gt_text']['item']),
                 None if lexicon is None else self._words(lexicon)))

    @torch.no_grad()
    def _embed(self, texts: Sequence[str]) -> torch.Tensor:
        """h_Φ of ``texts``, ``(N, D)`` on the CPU; h_Φ's mode is kept."""
        h = self.surrogate
        if self.device is not None:
            h.to(self.device)
        device = next(h.parameters()).device
        training = h.training
        h.eval()
        out = []
        for s in range(0, len(texts), self.batch_size):
            idx = self.layout.indexes(texts[s:s + self.batch_size])
            x = self.layout.one_hot(self.layout.target_indexes(idx))
            out.append(h(x.to(device)).float().cpu())
        h.train(training)
        return torch.cat(out)

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        if not results:
            raise ValueError('LexiconMetric got no samples')
        preds, gts, lexicons = zip(*results)
        groups = defaultdict(list)  # lexicon -> sample indexes
        for i, lex in enumerate(lexicons):
            groups[self.lexicon if lex is None else lex].append(i)
        if any(len(lex) == 0 for lex in groups):
            raise ValueError('a lexicon is empty after normalisation')
        ranks = {'ed': np.empty(len(preds))}
        if self.surrogate is not None:
            ranks['lsed'] = np.empty(len(preds))
            vocab = sorted(set(preds).union(*groups))
            where = {t: i for i, t in enumerate(vocab)}
            emb = self._embed(vocab)
        gt_cols = np.empty(len(preds), dtype=np.int64)
        for lex, members in groups.items():
            col = {w: j for j, w in enumerate(lex)}
            step = max(1, 2**24 // len(lex))  # (step, |lexicon|) blocks: 64 MiB
            for s in range(0, len(members), step):
                rows = np.array(members[s:s + step])
                cols = np.array([col.get(gts[i], -1) for i in rows])
                gt_cols[rows] = cols
                texts = [preds[i] for i in rows]
                ed = cdist(texts, lex, scorer=Levenshtein.distance,
                           workers=self.workers)
                ranks['ed'][rows] = gt_ranks(ed, cols)
                if 'lsed' in ranks:
                    h_pred = emb[[where[t] for t in texts]]
                    h_lex = emb[[where[w] for w in lex]]
                    d = torch.cdist(h_pred, h_lex,
                                    compute_mode='donot_use_mm_for_euclid_dist')
                    ranks['lsed'][rows] = gt_ranks(d.numpy(), cols)
        out = {'gt_in_lexicon': float(np.mean(gt_cols >= 0))}
        for name, r in ranks.items():
            out[f'{name}_acc'] = float(np.mean(r == 1))
            for k in self.ks:
                out[f'{name}_recall@{k}'] = float(np.mean(r <= k))
        return {k: round(v, 4) for k, v in out.items()}
