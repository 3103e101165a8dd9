"""LASER's bitext mining (``source/mine_bitexts.py --mode mine --retrieval max --margin ratio -k 4
--unify``) and BUCC evaluation (``tasks/bucc/bucc.py``).

Ratio-margin scores over the k nearest neighbours both ways, the best candidate of every sentence
in each direction, the two lists merged greedily by decreasing score into a one-to-one alignment,
and the threshold that maximizes F1 against the gold pairs of one split, applied unchanged to
another.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from langrep.artifacts import read_frame
from langrep.errors import LangrepError
from langrep.retrieval.knn_search import knn, normalize


@dataclass
class Candidates:
    """One-to-one candidate pairs (row indices into the source and target sets) with their scores."""

    src: np.ndarray  # int64
    tgt: np.ndarray  # int64
    score: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.score)


def ratio_margin(
    sims: np.ndarray, inds: np.ndarray, query_knn_mean: np.ndarray, database_knn_mean: np.ndarray
) -> np.ndarray:
    """LASER's ratio margin of each (query, neighbour) pair:
    ``cos(x, y) / ((mean_k cos(x, NN_k(x)) + mean_k cos(y, NN_k(y))) / 2)``.
    A zero denominator (all-zero vectors) gives score 0."""
    denom = (query_knn_mean[:, None] + database_knn_mean[inds]) / 2.0
    sims = sims.astype(np.float64)
    out = np.zeros_like(sims)
    np.divide(sims, denom, out=out, where=denom != 0)
    return out


def mine(
    x: np.ndarray,
    y: np.ndarray,
    k: int,
    block_size: int,
    min_score: float = 0.0,
    device: str = "cpu",
) -> Candidates:
    """LASER ``--mode mine --retrieval max --margin ratio``.

    Forward: each x's best-margin candidate among its k nearest y; backward: each y's among its k
    nearest x. Both lists are merged by decreasing score, a pair being kept only if neither side
    was taken yet (one-to-one). As LASER's ``mine`` mode (``--threshold 0``), only pairs with a
    score above ``min_score`` are returned. ``k``: config ``retrieval.bucc.k`` in the pipeline (LASER:
    4); ``block_size`` and ``device``: how the k-NN search runs
    (:func:`langrep.retrieval.knn_search.knn`; the same lists for every block size and device).
    """
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise LangrepError(f"cannot mine between embeddings of shapes {x.shape} and {y.shape}")
    if len(x) == 0 or len(y) == 0:
        raise LangrepError("cannot mine with an empty side")
    x, y = normalize(x, "mining source (x)"), normalize(y, "mining target (y)")
    x2y_sim, x2y_ind = knn(x, y, k, block_size, device)
    y2x_sim, y2x_ind = knn(y, x, k, block_size, device)
    x2y_mean = x2y_sim.mean(axis=1, dtype=np.float64)
    y2x_mean = y2x_sim.mean(axis=1, dtype=np.float64)
    fwd = ratio_margin(x2y_sim, x2y_ind, x2y_mean, y2x_mean)
    bwd = ratio_margin(y2x_sim, y2x_ind, y2x_mean, x2y_mean)
    fwd_pick = fwd.argmax(axis=1)
    bwd_pick = bwd.argmax(axis=1)
    fwd_best = x2y_ind[np.arange(len(x)), fwd_pick]
    bwd_best = y2x_ind[np.arange(len(y)), bwd_pick]
    src = np.concatenate([np.arange(len(x)), bwd_best])
    tgt = np.concatenate([fwd_best, np.arange(len(y))])
    score = np.concatenate([fwd[np.arange(len(x)), fwd_pick], bwd[np.arange(len(y)), bwd_pick]])
    order = np.argsort(-score, kind="stable")
    seen_src = np.zeros(len(x), dtype=bool)
    seen_tgt = np.zeros(len(y), dtype=bool)
    keep = []
    for i in order:
        s, t = src[i], tgt[i]
        if not seen_src[s] and not seen_tgt[t]:
            seen_src[s] = seen_tgt[t] = True
            if score[i] > min_score:
                keep.append(i)
    keep = np.asarray(keep, dtype=np.int64)
    return Candidates(src[keep].astype(np.int64), tgt[keep].astype(np.int64), score[keep])


def mine_unified(
    x: np.ndarray,
    y: np.ndarray,
    src_texts: Sequence[str] | None,
    tgt_texts: Sequence[str] | None,
    k: int,
    block_size: int,
    device: str = "cpu",
) -> Candidates:
    """:func:`mine` with LASER's handling of repeated sentences, when the texts are given.

    ``mine_bitexts.py --unify`` embeds every distinct text once, and ``bucc.py`` drops every
    candidate whose source or target text occurs more than once (it cannot tell which id is
    meant). Indices in the result refer to the rows of ``x`` and ``y``.
    """
    src_rows = _unique_rows(src_texts, len(x), "source")
    tgt_rows = _unique_rows(tgt_texts, len(y), "target")
    cands = mine(x[src_rows], y[tgt_rows], k, block_size, device=device)
    src = src_rows[cands.src]
    tgt = tgt_rows[cands.tgt]
    keep = np.ones(len(cands), dtype=bool)
    for texts, rows in ((src_texts, src), (tgt_texts, tgt)):
        if texts is not None:
            counts = Counter(texts)
            keep &= np.array([counts[texts[r]] == 1 for r in rows], dtype=bool)
    return Candidates(src[keep], tgt[keep], cands.score[keep])


def _unique_rows(texts: Sequence[str] | None, n: int, side: str) -> np.ndarray:
    if texts is None:
        return np.arange(n, dtype=np.int64)
    if len(texts) != n:
        raise LangrepError(f"{side}: {len(texts)} texts for {n} embeddings")
    first: dict[str, int] = {}
    for i, t in enumerate(texts):
        first.setdefault(t, i)
    return np.fromiter(first.values(), dtype=np.int64, count=len(first))


def select_threshold(scores: np.ndarray, correct: np.ndarray, n_gold: int) -> float:
    """LASER's ``BuccOptimize``: the threshold that maximizes F1 when candidates are taken by
    decreasing score, placed halfway between the best cut's last score and the next one.

    ``correct[i]`` says whether candidate ``i`` is a gold pair. With no correct candidate the
    threshold is 0 (as LASER).
    """
    scores = np.asarray(scores, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    if scores.shape != correct.shape:
        raise LangrepError("select_threshold: scores and correct flags differ in length")
    if n_gold <= 0:
        raise LangrepError("select_threshold: there are no gold pairs")
    order = np.argsort(-scores, kind="stable")
    s, c = scores[order], correct[order]
    n_correct = np.cumsum(c)
    if len(s) == 0 or n_correct[-1] == 0:
        return 0.0
    n_extract = np.arange(1, len(s) + 1)
    precision = n_correct / n_extract
    recall = n_correct / n_gold
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(n_correct > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = int(np.argmax(f1))  # the first maximum, as LASER's strict ">"
    # LASER reads items[best + 1] unguarded; at the last candidate we keep its own score.
    return float((s[best] + s[best + 1]) / 2) if best + 1 < len(s) else float(s[best])


def precision_recall_f1(extracted: Iterable[tuple[str, str]], gold: set[tuple[str, str]]) -> tuple[float, float, float]:
    """Percentages, as ``bucc.py`` prints them (0 when nothing correct was extracted)."""
    extracted = set(extracted)
    if not gold:
        raise LangrepError("precision/recall against an empty gold set")
    n_correct = len(extracted & gold)
    if n_correct == 0:
        return 0.0, 0.0, 0.0
    p = n_correct / len(extracted)
    r = n_correct / len(gold)
    return 100 * p, 100 * r, 100 * 2 * p * r / (p + r)


def bucc_evaluate(
    cands: Candidates,
    src_ids: Sequence[str],
    tgt_ids: Sequence[str],
    gold: set[tuple[str, str]],
    threshold: float | None = None,
) -> dict[str, float]:
    """Threshold (chosen on ``gold`` when ``None``), precision, recall and F1 (%) of the candidates
    scoring ``>= threshold``."""
    pairs = [(src_ids[s], tgt_ids[t]) for s, t in zip(cands.src, cands.tgt)]
    return evaluate_pairs(pairs, cands.score, gold, threshold)


def evaluate_pairs(
    pairs: Sequence[tuple[str, str]], scores: np.ndarray, gold: set[tuple[str, str]], threshold: float | None = None
) -> dict[str, float]:
    """:func:`bucc_evaluate` of candidate ``(src_id, tgt_id)`` pairs and their scores."""
    if threshold is None:
        correct = np.array([p in gold for p in pairs], dtype=bool)
        threshold = select_threshold(scores, correct, len(gold))
    extracted = [p for p, sc in zip(pairs, scores) if sc >= threshold]
    p, r, f1 = precision_recall_f1(extracted, gold)
    return {"threshold": float(threshold), "precision": p, "recall": r, "f1": f1}


def read_gold_table(path) -> pd.DataFrame:
    """The ``src_id``, ``tgt_id`` columns of ``gold.parquet`` (as strings)."""
    path = Path(path)
    if not path.exists():
        raise LangrepError(f"BUCC gold pairs not found: {path}")
    df = read_frame(path)
    missing = [c for c in ("src_id", "tgt_id") if c not in df.columns]
    if missing:
        raise LangrepError(f"{path}: missing column(s) {missing}")
    if df.empty:
        raise LangrepError(f"{path}: no gold pairs")
    return df[["src_id", "tgt_id"]].astype(str)


def read_gold(path, src_ids: Sequence[str] | None = None, tgt_ids: Sequence[str] | None = None) -> set[tuple[str, str]]:
    """Gold pairs ``(src_id, tgt_id)`` from ``gold.parquet``; when the ids of the sides are given,
    every gold id must be among them (have an embedding)."""
    df = read_gold_table(path)
    gold = set(zip(df["src_id"], df["tgt_id"]))
    if src_ids is None or tgt_ids is None:
        return gold
    for col, ids, side in (("src_id", src_ids, "source"), ("tgt_id", tgt_ids, "target")):
        known = set(ids)
        unknown = [(i, v) for i, v in enumerate(df[col]) if v not in known]
        if unknown:
            row, value = unknown[0]
            raise LangrepError(
                f"{path}, row {row}: {col} {value!r} has no {side} embedding ({len(unknown)} gold ids missing in all)"
            )
    return gold
