"""Bootstrap intervals over sentences for word-level scores (accuracy, UAS, LAS).

A score is ``100 * sum(correct) / sum(words)`` over the test sentences. A resample draws as many
sentences with replacement and recomputes it; the 95% interval is the 2.5th and 97.5th
percentiles of ``n_boot`` resamples. A *paired* interval for the difference of two methods scores
both on the same resampled sentences, so the sentence-to-sentence variation they share cancels.
The same ``seed`` and sentence count give the same resamples, so the intervals of a table agree.
A difference counts when its interval excludes zero. The resampling itself is
:mod:`langrep.bootstrap`, shared with retrieval and translation.
"""

from __future__ import annotations

import numpy as np

from langrep.bootstrap import LEVEL, Resamples, excludes_zero, percentile_interval  # noqa: F401 (re-exported)
from langrep.errors import LangrepError
from langrep.settings import TransferSettings

# the keyword defaults below: config transfer.bootstrap and transfer.seed
DEFAULT = TransferSettings.defaults()


def _resamples(n: int, n_boot: int, seed: int) -> Resamples:
    return Resamples(n, n_boot, seed, "transfer.bootstrap")


def _check(words: np.ndarray, *counts: np.ndarray) -> None:
    for c in counts:
        if c.shape != words.shape:
            raise LangrepError(f"bootstrap: {c.shape[0]} per-sentence counts for {words.shape[0]} sentences")
        if (c > words).any() or (c < 0).any():
            raise LangrepError("bootstrap: a sentence has more correct words than words (or fewer than none)")


def score_interval(correct, words, n_boot: int = DEFAULT.bootstrap, seed: int = DEFAULT.seed) -> tuple[float, float]:
    """95% bootstrap interval of ``100 * sum(correct) / sum(words)``."""
    correct, words = np.asarray(correct, dtype=np.float64), np.asarray(words, dtype=np.float64)
    _check(words, correct)
    sums = _resamples(len(words), n_boot, seed).sums(np.stack([correct, words], axis=1))
    return percentile_interval(100.0 * sums[:, 0] / np.maximum(sums[:, 1], 1))


def paired_difference(
    correct_a, correct_b, words, n_boot: int = DEFAULT.bootstrap, seed: int = DEFAULT.seed
) -> tuple[float, float, float]:
    """``(a - b, low, high)``: the score difference (percentage points) of two methods on the same
    sentences and its paired 95% bootstrap interval."""
    a, b = np.asarray(correct_a, dtype=np.float64), np.asarray(correct_b, dtype=np.float64)
    words = np.asarray(words, dtype=np.float64)
    _check(words, a, b)
    if not words.sum():
        raise LangrepError("bootstrap: no words to score")
    sums = _resamples(len(words), n_boot, seed).sums(np.stack([a, b, words], axis=1))
    total = np.maximum(sums[:, 2], 1)
    low, high = percentile_interval(100.0 * (sums[:, 0] - sums[:, 1]) / total)
    return 100.0 * float(a.sum() - b.sum()) / float(words.sum()), low, high
