"""Words to render: real English words at realistic frequencies, plus numbers.

The word list and frequencies come from ``wordfreq`` (it ships its data, so
nothing is downloaded at run time).
"""
from typing import Optional, Sequence

import numpy as np
from wordfreq import top_n_list, word_frequency

CASES = ('lower', 'title', 'upper')


class TextSampler:
    """Sample label strings restricted to a character set.

    Args:
        charset (str): Characters a label may contain (e.g. a dictionary's),
            letters matched case-insensitively: labels keep the case they are
            rendered in.
        max_len (int): Longest label. Defaults to 12.
        vocab_size (int): Number of most frequent English words to draw from.
            Defaults to 20000.
        freq_power (float): Words are drawn with probability proportional to
            ``frequency ** freq_power``; 1 keeps Zipf's law (dominated by
            "the", "of"), 0 is uniform. Defaults to 0.5.
        number_prob (float): Probability of a number (``42``, ``3.14``,
            ``12/05``; the latter two only if the charset has the symbol)
            instead of a word. Defaults to 0.1.
        case_probs (sequence of float): Probabilities of lower, Title and
            UPPER case for a word. Defaults to (0.5, 0.3, 0.2).
    """

    def __init__(self,
                 charset: str,
                 max_len: int = 12,
                 vocab_size: int = 20000,
                 freq_power: float = 0.5,
                 number_prob: float = 0.1,
                 case_probs: Sequence[float] = (0.5, 0.3, 0.2)) -> None:
        if max_len < 1:
            raise ValueError(f'max_len must be >= 1, got {max_len}')
        self.charset = set(charset)
        self.max_len = max_len
        self.number_prob = number_prob
        self.case_probs = np.asarray(case_probs, dtype=float)
        self.case_probs /= self.case_probs.sum()
        self.words = [
            w for w in top_n_list('en', vocab_size)
            if len(w) <= max_len and self._renderable(w)
        ]
        if not self.words:
            raise ValueError('no English word fits the charset '
                             f'{"".join(sorted(self.charset))!r}')
        weights = np.array([word_frequency(w, 'en') for w in self.words])
        weights = weights**freq_power
        self.word_probs = weights / weights.sum()
        self.digits = ''.join(sorted(set('0123456789') & self.charset))

    def _renderable(self, word: str) -> bool:
        """True if some casing of ``word`` uses only charset characters."""
        return all(c in self.charset or c.upper() in self.charset
                   or c.lower() in self.charset for c in word)

    def _number(self, rng: np.random.Generator) -> Optional[str]:
        if not self.digits:
            return None

        def digits(n: int) -> str:
            return ''.join(rng.choice(list(self.digits), size=n))

        forms = [digits(int(rng.integers(1, min(6, self.max_len) + 1)))]
        for sep in '.:/':
            if sep in self.charset and self.max_len >= 4:
                forms.append(f'{digits(int(rng.integers(1, 3)))}{sep}'
                             f'{digits(2)}')
        return forms[int(rng.integers(len(forms)))]

    def sample(self, rng: np.random.Generator) -> str:
        """Draw one label."""
        if rng.random() < self.number_prob:
            number = self._number(rng)
            if number:
                return number
        word = self.words[rng.choice(len(self.words), p=self.word_probs)]
        case = CASES[rng.choice(len(CASES), p=self.case_probs)]
        # The label is the rendered text. With a one-case dictionary, the
        # model's loss normalises case (e.g. CTCModuleLoss(letter_case='lower')).
        return dict(lower=word.lower(), title=word.title(),
                    upper=word.upper())[case]
