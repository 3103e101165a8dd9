"""Bootstrap intervals over sentences for word-level scores (accuracy, UAS, LAS).

A score is ``100 * sum(correct) / sum(words)`` over the test sentences. A resample draws as many
sentences with replacement and recomputes it; the 95% interval is the 2.5th and 97.5th
percentiles of ``n_boot`` resamples. A *paired* interval for the difference of two methods scores
both on the same resampled sentences, so the sentence-to-sentence variation they share cancels.
The same ``seed`` and sentence count give the same resamples, so the intervals of a table agree.
A difference counts when its interval excludes zero.
"""

from __future__ import annotations

import numpy as np

from langrep.errors import LangrepError
from langrep.settings import TransferSettings

LEVEL = 95.0
# the keyword defaults below: config transfer.bootstrap and transfer.seed
DEFAULT = TransferSettings.defaults()


def _resamples(n: int, n_boot: int, seed: int) -> np.ndarray:
    if n < 1:
        raise LangrepError("bootstrap: no sentences")
    if n_boot < 1:
        raise LangrepError(f"transfer.bootstrap: at least one resample is needed, got {n_boot}")
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def _check(words: np.ndarray, *counts: np.ndarray) -> None:
    for c in counts:
        if c.shape != words.shape:
            raise LangrepError(f"bootstrap: {c.shape[0]} per-sentence counts for {words.shape[0]} sentences")
        if (c > words).any() or (c < 0).any():
            raise LangrepError("bootstrap: a sentence has more correct words than words (or fewer than none)")


def _interval(values: np.ndarray) -> tuple[float, float]:
    tail = (100.0 - LEVEL) / 2
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def score_interval(correct, words, n_boot: int = DEFAULT.bootstrap, seed: int = DEFAULT.seed) -> tuple[float, float]:
    """95% bootstrap interval of ``100 * sum(correct) / sum(words)``."""
    correct, words = np.asarray(correct, dtype=np.float64), np.asarray(words, dtype=np.float64)
    _check(words, correct)
    idx = _resamples(len(words), n_boot, seed)
    return _interval(100.0 * correct[idx].sum(1) / np.maximum(words[idx].sum(1), 1))


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
    idx = _resamples(len(words), n_boot, seed)
    total = np.maximum(words[idx].sum(1), 1)
    diffs = 100.0 * (a[idx].sum(1) - b[idx].sum(1)) / total
    low, high = _interval(diffs)
    return 100.0 * float(a.sum() - b.sum()) / float(words.sum()), low, high


def excludes_zero(low: float, high: float) -> bool:
    """Whether the interval ``[low, high]`` lies wholly above or below zero."""
    return bool(low > 0 or high < 0)
