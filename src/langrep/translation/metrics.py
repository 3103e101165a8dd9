"""Token translation metrics (paper, Sec. 3): corpus BLEU-1, the convert rate and the share of
output tokens in neither language's token set.

``V_L`` is the token set of language L's XNLI test text (:mod:`langrep.translation.data`); the
convert rate is ``#(y in V_t - V_s) / (#y - #(y in V_s & V_t))`` over the output tokens ``y``.

Each metric is a function of per-line counts summed over the lines (:func:`bleu1_with_line_stats`,
:func:`token_line_counts`), so that a bootstrap over lines (:mod:`langrep.bootstrap`) rescores it
from resampled sums (:data:`FROM_SUMS`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from langrep.bootstrap import Resamples, table_intervals
from langrep.errors import LangrepError


def _bleu(tokenize: str):
    from sacrebleu.metrics import BLEU

    return BLEU(max_ngram_order=1, tokenize=tokenize)


def bleu1_with_line_stats(
    hypotheses: Sequence[str], references: Sequence[str], tokenize: str = "13a"
) -> tuple[float, np.ndarray]:
    """Corpus BLEU-1 in % and, per line, its statistics ``[output length, reference length,
    matched unigrams, output unigrams]`` ([n_lines, 4]); the score is sacrebleu's ``corpus_score``
    (its own two steps: the per-line statistics, then their sum scored)."""
    if len(hypotheses) != len(references):
        raise LangrepError(f"BLEU-1: {len(hypotheses)} hypotheses but {len(references)} references")
    bleu = _bleu(tokenize)
    stats = bleu._extract_corpus_statistics(list(hypotheses), [list(references)])
    score = float(bleu._aggregate_and_compute(stats).score)
    return score, np.asarray(stats, dtype=np.float64).reshape(len(hypotheses), 4)


def bleu1(hypotheses: Sequence[str], references: Sequence[str], tokenize: str = "13a") -> float:
    """Corpus BLEU-1 (unigram precision x brevity penalty) in %, via sacrebleu."""
    return bleu1_with_line_stats(hypotheses, references, tokenize)[0]


def bleu1_from_sums(sums: np.ndarray) -> np.ndarray:
    """Corpus BLEU-1 (%) of summed line statistics (``[..., 4]``, :func:`bleu1_with_line_stats`), as
    sacrebleu computes it."""
    sys_len, ref_len, correct, total = (sums[..., i] for i in range(4))
    with np.errstate(divide="ignore", invalid="ignore"):
        bp = np.where(sys_len < ref_len, np.where(sys_len > 0, np.exp(1 - ref_len / sys_len), 0.0), 1.0)
        return np.where(correct > 0, bp * np.exp(np.log(100.0 * correct / np.maximum(total, 1))), 0.0)


def token_line_counts(outputs: Iterable[Sequence[int]], v_src: set[int], v_tgt: set[int]) -> np.ndarray:
    """Per line, its output tokens ``[all, in V_t only, in both, in neither]``: [n_lines, 4]."""
    lines = []
    for ids in outputs:
        total = converted = shared = neither = 0
        for y in ids:
            total += 1
            in_s, in_t = y in v_src, y in v_tgt
            converted += in_t and not in_s
            shared += in_t and in_s
            neither += not (in_t or in_s)
        lines.append((total, converted, shared, neither))
    return np.asarray(lines, dtype=np.int64).reshape(-1, 4)


def _token_counts(outputs: Iterable[Sequence[int]], v_src: set[int], v_tgt: set[int]) -> tuple[int, int, int, int]:
    """(all, in V_t only, in both, in neither) output tokens."""
    total, converted, shared, neither = (int(c) for c in token_line_counts(outputs, v_src, v_tgt).sum(0))
    return total, converted, shared, neither


def convert_rate_from_sums(sums: np.ndarray) -> np.ndarray:
    """:func:`convert_rate` of summed :func:`token_line_counts` (``[..., 4]``); NaN where undefined."""
    denom = sums[..., 0] - sums[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, 100.0 * sums[..., 1] / denom, np.nan)


def neither_share_from_sums(sums: np.ndarray) -> np.ndarray:
    """:func:`neither_share` of summed :func:`token_line_counts` (``[..., 4]``); NaN without tokens."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sums[..., 0] > 0, 100.0 * sums[..., 3] / sums[..., 0], np.nan)


# metric -> the score of its summed per-line counts
FROM_SUMS = {
    "bleu1": bleu1_from_sums,
    "convert_rate": convert_rate_from_sums,
    "neither_share": neither_share_from_sums,
}


def convert_rate(outputs: Iterable[Sequence[int]], v_src: set[int], v_tgt: set[int]) -> float:
    """The paper's convert rate in %: ``#(y in V_t - V_s) / (#y - #(y in V_s & V_t))``.

    NaN when every output token is shared by both vocabularies (empty denominator).
    """
    total, converted, shared, _ = _token_counts(outputs, v_src, v_tgt)
    denom = total - shared
    return 100.0 * converted / denom if denom else float("nan")


def neither_share(outputs: Iterable[Sequence[int]], v_src: set[int], v_tgt: set[int]) -> float:
    """% of output tokens in neither V_s nor V_t (NaN without output tokens)."""
    total, _, _, neither = _token_counts(outputs, v_src, v_tgt)
    return 100.0 * neither / total if total else float("nan")


def reference_alpha(alpha: float) -> float | None:
    """The alpha a row's difference is taken against, as the paper's claims compare: alpha 1 for
    alphas above 1 (alpha 3 - alpha 1), alpha 0 for alphas in (0, 1] (alpha 1 - alpha 0); None at
    or below 0."""
    return 1.0 if alpha > 1 else 0.0 if alpha > 0 else None


def add_intervals(rows: list[dict], lines: Mapping[tuple, np.ndarray], bootstrap: int, seed: int) -> list[dict]:
    """Intervals on the score rows of one source language: ``ci_low``/``ci_high`` on every row and,
    against the row at :func:`reference_alpha` (same pair, layer, metric), ``delta_alpha``,
    ``delta``, ``delta_low``, ``delta_high``. ``lines[(lang, layer, alpha, metric)]``: the per-line
    counts of a row. The lines of one source are the same for every target, layer and alpha; one
    set of resamples per line count (the table's lines, the sweep's first ones) serves every row."""
    got: dict = {}
    for n in {len(c) for c in lines.values()}:
        boot = Resamples(n, bootstrap, seed, "transfer.bootstrap")
        for metric in {k[3] for k in lines}:
            part = {k: c for k, c in lines.items() if len(c) == n and k[3] == metric}
            against = {k: (k[0], k[1], reference_alpha(k[2]), k[3]) for k in part}
            got.update(table_intervals(boot, part, {metric: FROM_SUMS[metric]}, against))
    for row in rows:
        key = (row["lang"], row["layer"], row["alpha"], row["metric"])
        ref = (row["lang"], row["layer"], reference_alpha(row["alpha"]), row["metric"])
        row["ci_low"], row["ci_high"], row["delta"], row["delta_low"], row["delta_high"] = got[(row["metric"], key)]
        row["delta_alpha"] = ref[2] if ref in lines and len(lines[ref]) == len(lines[key]) else math.nan
    return rows
