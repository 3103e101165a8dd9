"""Paired bootstrap intervals over evaluation units (sentences, queries, lines), for every stage.

A score is a function of per-unit counts summed over the units (``100 * sum(correct) /
sum(words)``; F1 from matched, extracted and gold pairs; BLEU-1 from matched and output tokens).
A resample draws as many units with replacement (one row of :func:`resamples`, a seeded
``numpy`` Generator) and recomputes the score from the resampled sums; the 95% interval is the
2.5th and 97.5th percentiles of ``n_boot`` resamples. A *paired* interval of a difference scores
both sides on the same resamples, so the unit-to-unit variation they share cancels. Every row of
one unit set (methods, layers, alphas) is scored on the same resamples, drawn once: the same
``seed`` and unit count give the same indices. A difference counts when its interval excludes zero.

Algorithms only: ``n_boot`` and ``seed`` are arguments (the stages pass config ``transfer.bootstrap``
and ``transfer.seed``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping

import numpy as np

from langrep.errors import LangrepError

LEVEL = 95.0
BETTER, WORSE, UNCLEAR = "better", "worse", "unclear"


def resamples(n: int, n_boot: int, seed: int, what: str = "bootstrap") -> np.ndarray:
    """``[n_boot, n]`` unit indices: row ``b`` is resample ``b`` (``n`` draws with replacement)."""
    if n < 1:
        raise LangrepError("bootstrap: no units (sentences, queries, lines) to resample")
    if n_boot < 1:
        raise LangrepError(f"{what}: at least one resample is needed, got {n_boot}")
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def percentile_interval(values: np.ndarray) -> tuple[float, float]:
    """The central 95% of ``values`` (one per resample); resamples where the score is undefined
    (NaN, e.g. no output tokens) are left out; NaN when none is defined."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        if not finite.any():
            return float("nan"), float("nan")
        values = values[finite]
    tail = (100.0 - LEVEL) / 2
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


class Resamples:
    """The resamples of one unit set (the rows of :func:`resamples`), shared by every row scored on it.

    ``sums(counts)`` is each resample's sum of the per-unit ``counts``, a product with the
    [n_boot, n] matrix of how often each unit was drawn: exact for integer counts, so the same as
    summing the drawn units one by one.
    """

    def __init__(self, n: int, n_boot: int, seed: int, what: str = "bootstrap"):
        self.idx = resamples(n, n_boot, seed, what)
        n_boot, n = self.idx.shape
        flat = (self.idx + n * np.arange(n_boot)[:, None]).ravel()
        self.weights = np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n).astype(np.float64)

    @property
    def n(self) -> int:
        """The number of units each resample draws."""
        return self.idx.shape[1]

    def sums(self, counts) -> np.ndarray:
        """``counts`` [n] or [n, k] summed over each resample: [n_boot] or [n_boot, k]."""
        counts = np.asarray(counts, dtype=np.float64)
        if counts.shape[0] != self.n:
            raise LangrepError(f"bootstrap: counts of {counts.shape[0]} units for resamples of {self.n}")
        return self.weights @ counts

    def interval(self, score: Callable[[np.ndarray], np.ndarray], counts) -> tuple[float, float]:
        """95% interval of ``score(sums)`` (``sums``: [n_boot, k] resampled sums of ``counts`` [n, k])."""
        return percentile_interval(score(self.sums(counts)))

    def paired(self, score: Callable[[np.ndarray], np.ndarray], counts_a, counts_b) -> tuple[float, float, float]:
        """``(score(a) - score(b), low, high)``: the difference on all units and its paired 95%
        interval (both scored on every resample)."""
        a, b = np.asarray(counts_a, dtype=np.float64), np.asarray(counts_b, dtype=np.float64)
        if a.shape != b.shape:
            raise LangrepError(f"bootstrap: per-unit counts of shapes {a.shape} and {b.shape} differ")
        whole = float(score(a.sum(0)[None])[0] - score(b.sum(0)[None])[0])
        low, high = percentile_interval(score(self.sums(a)) - score(self.sums(b)))
        return whole, low, high


def ratio(sums: np.ndarray) -> np.ndarray:
    """``100 * sums[..., 0] / sums[..., 1]`` (a denominator of 0 counts as 1: nothing scores 0)."""
    return 100.0 * sums[..., 0] / np.maximum(sums[..., 1], 1)


def excludes_zero(low: float, high: float) -> bool:
    """Whether the interval ``[low, high]`` lies wholly above or below zero."""
    return bool(low > 0 or high < 0)


def verdict(low: float, high: float) -> str:
    """``better`` (interval above zero), ``worse`` (below) or ``unclear`` (touches zero, or NaN)."""
    if low > 0:
        return BETTER
    if high < 0:
        return WORSE
    return UNCLEAR


def percentile_intervals(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`percentile_interval` of every column of ``values`` [n_boot, K]: (low [K], high [K])."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values).all(0)
    tail = (100.0 - LEVEL) / 2
    low, high = np.full(values.shape[1], np.nan), np.full(values.shape[1], np.nan)
    if finite.any():
        low[finite], high[finite] = np.percentile(values[:, finite], [tail, 100.0 - tail], axis=0)
    for k in np.flatnonzero(~finite):
        low[k], high[k] = percentile_interval(values[:, k])
    return low, high


def table_intervals(
    boot: Resamples,
    counts: Mapping[Hashable, np.ndarray],
    scores: Mapping[str, Callable[[np.ndarray], np.ndarray]],
    against: Mapping[Hashable, Hashable],
) -> dict[tuple[str, Hashable], tuple[float, float, float, float, float]]:
    """Every row of one unit set at once: ``counts[key]`` [n, k] (the same k for all keys), each
    ``scores[name]`` a score of summed counts ([..., k] -> [...]); ``against[key]`` the key its
    paired difference is taken from. Returns ``(name, key) -> (ci_low, ci_high, delta, delta_low,
    delta_high)`` (NaN differences where ``against`` has no key). One product of the draw counts
    with all keys' counts: the same numbers as :meth:`Resamples.interval` and :meth:`Resamples.paired`
    per key, much faster for many rows."""
    keys = list(counts)
    if not keys:
        return {}
    stacked = np.stack([np.asarray(counts[k], dtype=np.float64).reshape(boot.n, -1) for k in keys], 1)
    sums = boot.sums(stacked.reshape(boot.n, -1)).reshape(-1, *stacked.shape[1:])  # [n_boot, K, k]
    col = {k: i for i, k in enumerate(keys)}
    pairs = [(col[k], col[b]) for k, b in against.items() if k in col and b in col]
    nan = (math.nan,) * 3
    out: dict = {}
    for name, score in scores.items():
        values, whole = score(sums), score(stacked.sum(0))  # [n_boot, K], [K]
        low, high = percentile_intervals(values)
        diffs: dict[int, tuple[float, float, float]] = {}
        if pairs:
            d_low, d_high = percentile_intervals(values[:, [a for a, _ in pairs]] - values[:, [b for _, b in pairs]])
            for j, (a, b) in enumerate(pairs):
                diffs[a] = (float(whole[a] - whole[b]), float(d_low[j]), float(d_high[j]))
        for k, i in col.items():
            out[(name, k)] = (float(low[i]), float(high[i]), *diffs.get(i, nan))
    return out
