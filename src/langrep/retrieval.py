"""Cross-lingual sentence retrieval (paper, Sec. 4): Tatoeba accuracy@1 and BUCC2018 bitext mining.

A sentence embedding is the mean of its token embeddings at one layer (``langrep.extract``).
Three ways of comparing an ``xx`` and an ``en`` sentence (Sec. 4.2):

* ``original``: the embeddings as they are;
* ``zero_mean``: ``v - R_L`` on both sides;
* ``mds``: the query side shifted into the other language, ``v_src - R_src + R_tgt``, against the
  unshifted other side.

Similarity is the cosine (inner product of L2-normalised float32 vectors, FAISS ``IndexFlatIP``).
Searches are blocked: the queries go to the index ``block_size`` rows at a time, so memory stays
at ``block_size x n`` similarities whatever the corpus size.

BUCC follows LASER (``source/mine_bitexts.py --mode mine --retrieval max --margin ratio -k 4
--unify`` and ``tasks/bucc/bucc.py``): ratio-margin scores over the k nearest neighbours both
ways, the best candidate of every sentence in each direction, the two lists merged greedily by
decreasing score into a one-to-one alignment, and the threshold that maximises F1 against the gold
pairs of one split (BUCC's sample = XTREME's ``dev``) applied unchanged to another (``test``).
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import faiss
import numpy as np
import pandas as pd

from langrep.errors import LangrepError
from langrep.extract import pooled_layers_in, read_pooled
from langrep.means import mean_difference_shift, read_means, zero_mean
from langrep.scores import write_scores

log = logging.getLogger(__name__)

METHODS = ("original", "zero_mean", "mds")
DIRECTIONS = ("xx-en", "en-xx")
MEANS_SOURCES = ("eval", "mono")
DEFAULT_BLOCK_SIZE = 8192


# --------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------

def normalize(x: np.ndarray) -> np.ndarray:
    """Float32, C-contiguous, L2-normalised copy of ``x``; all-zero rows stay zero (cosine 0)."""
    x = np.array(x, dtype=np.float32, order="C", copy=True)
    if x.ndim != 2:
        raise LangrepError(f"expected a 2-d array of sentence embeddings, got shape {x.shape}")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    np.divide(x, norms, out=x, where=norms > 0)
    return x


def knn(queries: np.ndarray, database: np.ndarray, k: int,
        block_size: int = DEFAULT_BLOCK_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` inner products of every query against ``database`` (exact, FAISS ``IndexFlatIP``).

    Both inputs should already be normalised (then the scores are cosines). Returns
    ``(sims, inds)``, each ``(n_queries, min(k, n_database))``, best first.
    """
    if queries.ndim != 2 or database.ndim != 2:
        raise LangrepError(f"knn needs 2-d arrays, got {queries.shape} and {database.shape}")
    if queries.shape[1] != database.shape[1]:
        raise LangrepError(
            f"embedding sizes differ: queries have {queries.shape[1]} dimensions, "
            f"the database {database.shape[1]}")
    if len(database) == 0:
        raise LangrepError("knn: the database is empty")
    if block_size < 1:
        raise LangrepError(f"retrieval.block_size must be >= 1, got {block_size}")
    k = min(int(k), len(database))
    index = faiss.IndexFlatIP(database.shape[1])
    index.add(np.ascontiguousarray(database, dtype=np.float32))
    sims = np.empty((len(queries), k), dtype=np.float32)
    inds = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), block_size):
        block = np.ascontiguousarray(queries[start:start + block_size], dtype=np.float32)
        sims[start:start + len(block)], inds[start:start + len(block)] = index.search(block, k)
    return sims, inds


# --------------------------------------------------------------------------------------------
# The three methods
# --------------------------------------------------------------------------------------------

def apply_method(method: str, query: np.ndarray, database: np.ndarray,
                 query_mean: np.ndarray | None, database_mean: np.ndarray | None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The (query, database) embeddings compared under ``method`` (not yet normalised)."""
    if method == "original":
        return query, database
    if query_mean is None or database_mean is None:
        raise LangrepError(f"method {method!r} needs the language means of both sides")
    for name, mean, x in (("query", query_mean, query), ("database", database_mean, database)):
        if np.shape(mean) != (x.shape[1],):
            raise LangrepError(
                f"{name} language mean has shape {np.shape(mean)}, the embeddings {x.shape[1]} dimensions")
    if method == "zero_mean":
        return zero_mean(query, query_mean), zero_mean(database, database_mean)
    if method == "mds":
        return mean_difference_shift(query, query_mean, database_mean), database
    raise LangrepError(f"unknown retrieval method {method!r} (expected one of {METHODS})")


# --------------------------------------------------------------------------------------------
# Tatoeba
# --------------------------------------------------------------------------------------------

def accuracy_at_1(queries: np.ndarray, database: np.ndarray,
                  block_size: int = DEFAULT_BLOCK_SIZE) -> float:
    """Percentage of queries whose cosine nearest neighbour is the database row of the same index."""
    if len(queries) != len(database):
        raise LangrepError(f"paired sets differ in size: {len(queries)} queries, {len(database)} targets")
    if len(queries) == 0:
        raise LangrepError("accuracy of an empty set is undefined")
    _, inds = knn(normalize(queries), normalize(database), 1, block_size)
    return 100.0 * float(np.mean(inds[:, 0] == np.arange(len(queries))))


# --------------------------------------------------------------------------------------------
# BUCC mining (LASER)
# --------------------------------------------------------------------------------------------

@dataclass
class Candidates:
    """One-to-one candidate pairs (row indices into the source and target sets) with their scores."""

    src: np.ndarray  # int64
    tgt: np.ndarray  # int64
    score: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.score)


def ratio_margin(sims: np.ndarray, inds: np.ndarray, query_knn_mean: np.ndarray,
                 database_knn_mean: np.ndarray) -> np.ndarray:
    """LASER's ratio margin of each (query, neighbour) pair:
    ``cos(x, y) / ((mean_k cos(x, NN_k(x)) + mean_k cos(y, NN_k(y))) / 2)``.
    A zero denominator (all-zero vectors) gives score 0."""
    denom = (query_knn_mean[:, None] + database_knn_mean[inds]) / 2.0
    sims = sims.astype(np.float64)
    out = np.zeros_like(sims)
    np.divide(sims, denom, out=out, where=denom != 0)
    return out


def mine(x: np.ndarray, y: np.ndarray, k: int = 4, block_size: int = DEFAULT_BLOCK_SIZE,
         min_score: float = 0.0) -> Candidates:
    """LASER ``--mode mine --retrieval max --margin ratio``.

    Forward: each x's best-margin candidate among its k nearest y; backward: each y's among its k
    nearest x. Both lists are merged by decreasing score, a pair being kept only if neither side
    was taken yet (one-to-one). As LASER's ``mine`` mode (``--threshold 0``), only pairs with a
    score above ``min_score`` are returned.
    """
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise LangrepError(f"cannot mine between embeddings of shapes {x.shape} and {y.shape}")
    if len(x) == 0 or len(y) == 0:
        raise LangrepError("cannot mine with an empty side")
    x, y = normalize(x), normalize(y)
    x2y_sim, x2y_ind = knn(x, y, k, block_size)
    y2x_sim, y2x_ind = knn(y, x, k, block_size)
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


def mine_unified(x: np.ndarray, y: np.ndarray, src_texts: Sequence[str] | None = None,
                 tgt_texts: Sequence[str] | None = None, k: int = 4,
                 block_size: int = DEFAULT_BLOCK_SIZE) -> Candidates:
    """:func:`mine` with LASER's handling of repeated sentences, when the texts are given.

    ``mine_bitexts.py --unify`` embeds every distinct text once, and ``bucc.py`` drops every
    candidate whose source or target text occurs more than once (it cannot tell which id is
    meant). Indices in the result refer to the rows of ``x`` and ``y``.
    """
    src_rows = _unique_rows(src_texts, len(x), "source")
    tgt_rows = _unique_rows(tgt_texts, len(y), "target")
    cands = mine(x[src_rows], y[tgt_rows], k, block_size)
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
    """LASER's ``BuccOptimize``: the threshold that maximises F1 when candidates are taken by
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


def precision_recall_f1(extracted: Iterable[tuple[str, str]], gold: set[tuple[str, str]]
                        ) -> tuple[float, float, float]:
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


def bucc_evaluate(cands: Candidates, src_ids: Sequence[str], tgt_ids: Sequence[str],
                  gold: set[tuple[str, str]], threshold: float | None = None) -> dict[str, float]:
    """Threshold (chosen on ``gold`` when ``None``), precision, recall and F1 (%) of the candidates
    scoring ``>= threshold``."""
    pairs = [(src_ids[s], tgt_ids[t]) for s, t in zip(cands.src, cands.tgt)]
    if threshold is None:
        correct = np.array([p in gold for p in pairs], dtype=bool)
        threshold = select_threshold(cands.score, correct, len(gold))
    extracted = [p for p, sc in zip(pairs, cands.score) if sc >= threshold]
    p, r, f1 = precision_recall_f1(extracted, gold)
    return {"threshold": float(threshold), "precision": p, "recall": r, "f1": f1}


def read_gold(path, src_ids: Sequence[str], tgt_ids: Sequence[str]) -> set[tuple[str, str]]:
    """Gold pairs ``(src_id, tgt_id)`` from ``gold.parquet``; every id must have an embedding."""
    path = Path(path)
    if not path.exists():
        raise LangrepError(f"BUCC gold pairs not found: {path}")
    df = pd.read_parquet(path)
    missing = [c for c in ("src_id", "tgt_id") if c not in df.columns]
    if missing:
        raise LangrepError(f"{path}: missing column(s) {missing}")
    if df.empty:
        raise LangrepError(f"{path}: no gold pairs")
    gold = set(zip(df["src_id"].astype(str), df["tgt_id"].astype(str)))
    for col, ids, side in (("src_id", src_ids, "source"), ("tgt_id", tgt_ids, "target")):
        known = set(ids)
        unknown = [(i, v) for i, v in enumerate(df[col].astype(str)) if v not in known]
        if unknown:
            row, value = unknown[0]
            raise LangrepError(
                f"{path}, row {row}: {col} {value!r} has no {side} embedding "
                f"({len(unknown)} gold ids missing in all)")
    return gold


# --------------------------------------------------------------------------------------------
# Files -> score rows
# --------------------------------------------------------------------------------------------

def resolve_layers(layers, headline: int | None, paths: Sequence) -> list[int]:
    """``layers`` (a list, or ``"all"`` = every layer pooled in all ``paths``) plus ``headline``."""
    available = None
    for p in paths:
        got = set(pooled_layers_in(p)) if Path(p).exists() else None
        if got is None:
            raise LangrepError(f"embeddings not found: {p}")
        available = got if available is None else available & got
    available = available or set()
    if layers == "all":
        chosen = set(available)
    elif isinstance(layers, (list, tuple)):
        chosen = {int(v) for v in layers}
    else:
        raise LangrepError(f"retrieval.layers must be a list of integers or 'all', got {layers!r}")
    if headline is not None:
        chosen.add(int(headline))
    absent = sorted(chosen - available)
    if absent:
        raise LangrepError(f"retrieval.layer/layers: layer(s) {absent} are not in the embeddings "
                           f"(have {sorted(available)})")
    return sorted(chosen)


def _load_side(path, layer: int) -> tuple[list[str], np.ndarray]:
    ids, x = read_pooled(path, layer)
    if len(set(ids)) != len(ids):
        raise LangrepError(f"{path}: duplicate sentence ids")
    return ids, x


def _mean_at(path, layer: int, dim: int) -> np.ndarray:
    means = read_means(path).means
    if layer >= len(means):
        raise LangrepError(f"{path}: no mean for layer {layer} (has layers 0..{len(means) - 1})")
    if means.shape[1] != dim:
        raise LangrepError(f"{path}: means have {means.shape[1]} dimensions, the embeddings {dim}")
    return means[layer]


def _check_methods(methods, means_paths: Mapping) -> None:
    for m in methods:
        if m not in METHODS:
            raise LangrepError(f"retrieval.methods: unknown method {m!r} (expected {list(METHODS)})")
    for src in means_paths:
        if src not in MEANS_SOURCES:
            raise LangrepError(f"retrieval.means: unknown source {src!r} (expected {list(MEANS_SOURCES)})")
    if any(m != "original" for m in methods) and not means_paths:
        raise LangrepError("retrieval.means is empty, but zero_mean/mds need language means")


def _method_means(methods, means_paths):
    """(method, means source) combinations; ``original`` is computed once and reported under every
    means source so that each means slice of the table is complete."""
    sources = list(means_paths) or ["none"]
    return [(m, s) for m in methods for s in sources]


def tatoeba_rows(model: str, lang: str, xx_path, en_path, means_paths: Mapping[str, Mapping[str, str]],
                 layers, headline: int | None = 8, methods: Sequence[str] = METHODS,
                 directions: Sequence[str] = DIRECTIONS, block_size: int = DEFAULT_BLOCK_SIZE,
                 split: str = "test") -> list[dict]:
    """Score rows for one Tatoeba pair ``lang``-en.

    ``means_paths`` maps a means source (``eval``/``mono``) to ``{"xx": path, "en": path}``.
    ``xx-en`` queries with the xx sentences and searches the en ones; ``en-xx`` the reverse.
    """
    _check_methods(methods, means_paths)
    for d in directions:
        if d not in DIRECTIONS:
            raise LangrepError(f"retrieval.tatoeba.directions: unknown direction {d!r}")
    rows = []
    for layer in resolve_layers(layers, headline, [xx_path, en_path]):
        xx_ids, xx = _load_side(xx_path, layer)
        en_ids, en = _load_side(en_path, layer)
        if xx.shape[1] != en.shape[1]:
            raise LangrepError(f"{xx_path} has {xx.shape[1]}-d embeddings, {en_path} {en.shape[1]}-d")
        if set(xx_ids) != set(en_ids):
            only = sorted(set(xx_ids) ^ set(en_ids))[:3]
            raise LangrepError(f"{xx_path} and {en_path}: the two sides' ids differ (e.g. {only})")
        en = en[pd.Index(en_ids).get_indexer(xx_ids)]  # align rows by id
        dim = xx.shape[1]
        means = {s: {side: _mean_at(p[side], layer, dim) for side in ("xx", "en")}
                 for s, p in means_paths.items()}
        cache: dict = {}
        for method, source in _method_means(methods, means_paths):
            for direction in directions:
                key = (method, direction, None if method == "original" else source)
                if key not in cache:
                    mq = means.get(source, {})
                    q_side, d_side = ("xx", "en") if direction == "xx-en" else ("en", "xx")
                    q, db = (xx, en) if direction == "xx-en" else (en, xx)
                    q, db = apply_method(method, q, db, mq.get(q_side), mq.get(d_side))
                    cache[key] = accuracy_at_1(q, db, block_size)
                rows.append(dict(model=model, task="tatoeba", lang=lang, layer=layer, method=method,
                                 direction=direction, split=split, metric="accuracy",
                                 value=cache[key], means=source))
        log.info("tatoeba %s-en layer %d done", lang, layer)
    return rows


def _texts_by_id(path, ids: Sequence[str]) -> list[str]:
    df = pd.read_parquet(path, columns=["id", "text"])
    lookup = dict(zip(df["id"].astype(str), df["text"].astype(str)))
    missing = [i for i in ids if i not in lookup]
    if missing:
        raise LangrepError(f"{path}: no text for sentence id {missing[0]!r} ({len(missing)} missing)")
    return [lookup[i] for i in ids]


def bucc_rows(model: str, pair: str, splits: Mapping[str, Mapping], layers, headline: int | None = 8,
              methods: Sequence[str] = METHODS, k: int = 4, block_size: int = DEFAULT_BLOCK_SIZE
              ) -> list[dict]:
    """Score rows for one BUCC pair ``pair``-en.

    ``splits`` maps a split name (``dev``, ``test``) to ``{"xx": emb path, "en": emb path, "gold":
    path, "means": {source: {"xx": path, "en": path}}, "texts": {"xx": path, "en": path} or None}``.
    The threshold of each (layer, method, means) is chosen on ``dev`` and applied to the others;
    so ``dev`` must be among the splits. MDS shifts the xx side into English.
    """
    if "dev" not in splits:
        raise LangrepError("retrieval.bucc.splits: the threshold is chosen on 'dev', which must be listed")
    order = ["dev"] + [s for s in splits if s != "dev"]
    means_sources = splits["dev"].get("means", {})
    _check_methods(methods, means_sources)
    all_paths = [p for s in order for p in (splits[s]["xx"], splits[s]["en"])]
    rows = []
    for layer in resolve_layers(layers, headline, all_paths):
        thresholds: dict = {}
        for split in order:
            spec = splits[split]
            xx_ids, xx = _load_side(spec["xx"], layer)
            en_ids, en = _load_side(spec["en"], layer)
            if xx.shape[1] != en.shape[1]:
                raise LangrepError(f"{spec['xx']} has {xx.shape[1]}-d embeddings, {spec['en']} {en.shape[1]}-d")
            gold = read_gold(spec["gold"], xx_ids, en_ids)
            texts = spec.get("texts") or {}
            xx_texts = _texts_by_id(texts["xx"], xx_ids) if texts.get("xx") else None
            en_texts = _texts_by_id(texts["en"], en_ids) if texts.get("en") else None
            dim = xx.shape[1]
            means = {s: {side: _mean_at(p[side], layer, dim) for side in ("xx", "en")}
                     for s, p in spec.get("means", {}).items()}
            cache: dict = {}
            for method, source in _method_means(methods, means_sources):
                key = (method, None if method == "original" else source)
                if key not in cache:
                    m = means.get(source, {})
                    x, y = apply_method(method, xx, en, m.get("xx"), m.get("en"))
                    cands = mine_unified(x, y, xx_texts, en_texts, k, block_size)
                    cache[key] = bucc_evaluate(cands, xx_ids, en_ids, gold, thresholds.get(key))
                    if split == "dev":
                        thresholds[key] = cache[key]["threshold"]
                for metric in ("precision", "recall", "f1", "threshold"):
                    rows.append(dict(model=model, task="bucc", lang=pair, layer=layer, method=method,
                                     direction="xx-en", split=split, metric=metric,
                                     value=cache[key][metric], means=source))
            log.info("bucc %s-en %s layer %d done", pair, split, layer)
    return rows


def run_tatoeba(model: str, plan: Mapping[str, Mapping], output, layers="all", headline: int | None = 8,
                methods: Sequence[str] = METHODS, directions: Sequence[str] = DIRECTIONS,
                block_size: int = DEFAULT_BLOCK_SIZE, threads: int | None = None) -> pd.DataFrame:
    """All Tatoeba pairs of ``plan`` (lang -> {"xx", "en", "means"}) into ``output`` (tidy CSV)."""
    _set_threads(threads)
    rows = []
    for lang, spec in plan.items():
        rows += tatoeba_rows(model, lang, spec["xx"], spec["en"], spec.get("means", {}), layers,
                             headline, methods, directions, block_size)
    return write_scores(rows, output)


def run_bucc(model: str, plan: Mapping[str, Mapping[str, Mapping]], output, layers="all",
             headline: int | None = 8, methods: Sequence[str] = METHODS, k: int = 4,
             block_size: int = DEFAULT_BLOCK_SIZE, threads: int | None = None) -> pd.DataFrame:
    """All BUCC pairs of ``plan`` (pair -> split -> spec, see :func:`bucc_rows`) into ``output``."""
    _set_threads(threads)
    rows = []
    for pair, splits in plan.items():
        rows += bucc_rows(model, pair, splits, layers, headline, methods, k, block_size)
    return write_scores(rows, output)


def _set_threads(threads: int | None) -> None:
    # FAISS uses every core by default; a rule job gets only its `threads`.
    if threads:
        faiss.omp_set_num_threads(int(threads))
