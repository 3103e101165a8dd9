"""How much text a language mean needs (the means analysis, :mod:`langrep.analysis.means`).

The mean of the first n tokens of a mono corpus (whole sentences: the first prefix with at least n
tokens), for n on a 1-2-5 grid, against the mean of all of it: their cosine, their distance relative
to the nearest other language's mean, and Tatoeba accuracy with Zero-mean and MDS when both sides'
means come from the first n tokens. Per-sentence token sums are the pooled vector times its token
count, so every prefix mean comes from the pooled sentence vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from langrep.settings import AnalysisSettings

# the keyword default below: config analysis's
DEFAULT = AnalysisSettings.defaults()


def token_grid(total: int, start: int = DEFAULT.tokens_from) -> list[int]:
    """1k, 2k, 5k, 10k, 20k, 50k, ... below ``total`` (the 1-2-5 series from ``start``)."""
    out, decade = [], int(start)
    while True:
        for f in (1, 2, 5):
            n = f * decade
            if n >= total:
                return out
            out.append(n)
        decade *= 10


@dataclass
class PrefixMeans:
    """Means of the first n tokens of a corpus (whole sentences): ``n_used`` tokens behind each."""

    n_target: list[int]
    n_used: list[int]
    means: np.ndarray  # (len(n_target), H) float64


def prefix_means(pooled: np.ndarray, n_tokens: np.ndarray, targets: Sequence[int]) -> PrefixMeans:
    """The mean of the first ``t`` tokens for each ``t`` of ``targets`` (the shortest prefix of whole
    sentences with at least ``t`` tokens), from sentence vectors ``pooled`` (n, H) = each
    sentence's token sum / its token count. Targets beyond the corpus are left out."""
    counts = np.asarray(n_tokens, dtype=np.int64)
    sums = np.cumsum(np.asarray(pooled, dtype=np.float64) * counts[:, None], axis=0)
    cum = np.cumsum(counts)
    keep = [int(t) for t in targets if 0 < t <= (cum[-1] if len(cum) else 0)]
    idx = np.searchsorted(cum, keep, side="left")
    hidden = np.shape(pooled)[1] if np.ndim(pooled) == 2 else 0
    means = sums[idx] / cum[idx][:, None] if keep else np.zeros((0, hidden))
    return PrefixMeans(keep, [int(cum[i]) for i in idx], means)


def convergence_rows(
    lang: str, layer: int, prefixes: PrefixMeans, full: np.ndarray, others: Sequence[np.ndarray] = ()
) -> list[dict]:
    """Cosine between each prefix mean and the mean of all tokens (``full``) and, given the other
    languages' means, ``prefix_error``: the prefix mean's distance from ``full`` relative to the
    distance from ``full`` to the nearest other language's mean (below 1: the prefix mean is nearer
    its own language's mean than any other language's is; the cosine alone is near 1 for any two
    languages of an anisotropic space)."""
    nearest = min((float(np.linalg.norm(full - o)) for o in others), default=None)
    rows = []
    for t, used, m in zip(prefixes.n_target, prefixes.n_used, prefixes.means):
        cos = float(m @ full / (np.linalg.norm(m) * np.linalg.norm(full)))
        base = dict(lang=lang, layer=layer, method="original", split="mono", n_tokens=t, n_tokens_used=used)
        rows.append(dict(base, metric="prefix_cosine", value=cos))
        if nearest:
            rows.append(dict(base, metric="prefix_error", value=float(np.linalg.norm(m - full)) / nearest))
    return rows


def prefix_retrieval_rows(
    lang: str, layer: int, xx: np.ndarray, en: np.ndarray, points: Sequence[tuple], directions: Sequence[str]
) -> list[dict]:
    """Tatoeba accuracy (%) of the aligned sides ``xx``/``en`` with Zero-mean and MDS, once per
    ``(n_tokens, n_tokens_used, xx_mean, en_mean)`` of ``points`` (n_tokens None: all tokens)."""
    from langrep.retrieval.comparison import apply_method
    from langrep.retrieval.tatoeba import accuracy_at_1

    rows = []
    for t, used, xx_mean, en_mean in points:
        for method in ("zero_mean", "mds"):
            for direction in directions:
                q, db, mq, mdb = (xx, en, xx_mean, en_mean) if direction == "xx-en" else (en, xx, en_mean, xx_mean)
                q, db = apply_method(method, q, db, np.asarray(mq, q.dtype), np.asarray(mdb, q.dtype))
                rows.append(
                    dict(
                        lang=lang,
                        layer=layer,
                        method=method,
                        direction=direction,
                        split="tatoeba",
                        metric="tatoeba_accuracy",
                        value=accuracy_at_1(q, db),
                        n_tokens=t,
                        n_tokens_used=used,
                        n_sentences=len(xx),
                    )
                )
    return rows


def prefix_points(xx: PrefixMeans, en: PrefixMeans, full_xx: np.ndarray, full_en: np.ndarray) -> list[tuple]:
    """The token counts both corpora reach below their size, then all tokens (the means files)."""
    en_at = dict(zip(en.n_target, zip(en.n_used, en.means)))
    points = [
        (t, min(u, en_at[t][0]), m, en_at[t][1])
        for t, u, m in zip(xx.n_target, xx.n_used, xx.means)
        if t in en_at and t < xx.n_used[-1] and t < en.n_used[-1]
    ]
    return points + [(None, min(xx.n_used[-1], en.n_used[-1]), full_xx, full_en)]
