"""Cross-lingual sentence retrieval (paper, Sec. 4): embeddings, the three methods, Tatoeba accuracy@1.

A sentence embedding is the mean of its token embeddings at one layer (``langrep.extract``).
Three ways of comparing an ``xx`` and an ``en`` sentence (Sec. 4.2):

* ``original``: the embeddings as they are;
* ``zero_mean``: ``v - R_L`` on both sides;
* ``mds``: the query side shifted into the other language, ``v_src - R_src + R_tgt``, against the
  unshifted other side.

Similarity is the cosine (inner product of L2-normalized float32 vectors), searched exactly and
in blocks (:mod:`langrep.knn`: FAISS on a CPU, matmul + top-k on a GPU, the same lists).

Tatoeba accuracy@1 is computed here; BUCC mining and its scores, on the same embeddings and
methods, are in :mod:`langrep.bucc`. The LASER mining steps (:mod:`langrep.mining`) are re-exported.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from langrep.artifacts import read_frame
from langrep.bootstrap import Resamples, ratio, table_intervals
from langrep.errors import LangrepError
from langrep.extract import pooled_layers_in, read_pooled
from langrep.knn import knn, normalize, set_threads  # knn: re-exported
from langrep.means import mean_difference_shift, read_means, zero_mean

# re-exported: the LASER mining steps are part of this module's API
from langrep.mining import (  # noqa: F401
    Candidates,
    bucc_evaluate,
    evaluate_pairs,
    mine,
    mine_unified,
    precision_recall_f1,
    ratio_margin,
    read_gold,
    select_threshold,
)
from langrep.models import resolve_device
from langrep.scores import write_scores
from langrep.settings import RetrievalSettings, TransferSettings

log = logging.getLogger(__name__)

# the known values (the schema's enums); the keyword defaults below are config retrieval's
METHODS = ("original", "zero_mean", "mds")
DIRECTIONS = ("xx-en", "en-xx")
MEANS_SOURCES = ("eval", "mono")
DEFAULT = RetrievalSettings.defaults()
BOOT = TransferSettings.defaults()  # the intervals' resamples: config transfer.bootstrap, transfer.seed


# --------------------------------------------------------------------------------------------
# The three methods
# --------------------------------------------------------------------------------------------


def apply_method(
    method: str,
    query: np.ndarray,
    database: np.ndarray,
    query_mean: np.ndarray | None,
    database_mean: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The (query, database) embeddings compared under ``method`` (not yet normalized)."""
    if method == "original":
        return query, database
    if query_mean is None or database_mean is None:
        raise LangrepError(f"method {method!r} needs the language means of both sides")
    for name, mean, x in (("query", query_mean, query), ("database", database_mean, database)):
        if np.shape(mean) != (x.shape[1],):
            raise LangrepError(
                f"{name} language mean has shape {np.shape(mean)}, the embeddings {x.shape[1]} dimensions"
            )
    if method == "zero_mean":
        return zero_mean(query, query_mean), zero_mean(database, database_mean)
    if method == "mds":
        return mean_difference_shift(query, query_mean, database_mean), database
    raise LangrepError(f"unknown retrieval method {method!r} (expected one of {METHODS})")


# --------------------------------------------------------------------------------------------
# Tatoeba
# --------------------------------------------------------------------------------------------


def correct_at_1(
    queries: np.ndarray, database: np.ndarray, block_size: int = DEFAULT.block_size, device: str = "cpu"
) -> np.ndarray:
    """Per query, whether its cosine nearest neighbour is the database row of the same index."""
    if len(queries) != len(database):
        raise LangrepError(f"paired sets differ in size: {len(queries)} queries, {len(database)} targets")
    if len(queries) == 0:
        raise LangrepError("accuracy of an empty set is undefined")
    _, inds = knn(
        normalize(queries, "accuracy queries"), normalize(database, "accuracy targets"), 1, block_size, device
    )
    return inds[:, 0] == np.arange(len(queries))


def accuracy_at_1(
    queries: np.ndarray, database: np.ndarray, block_size: int = DEFAULT.block_size, device: str = "cpu"
) -> float:
    """Percentage of queries whose cosine nearest neighbour is the database row of the same index."""
    return 100.0 * float(np.mean(correct_at_1(queries, database, block_size, device)))


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
        raise LangrepError(
            f"retrieval.layer/layers: layer(s) {absent} are not in the embeddings (have {sorted(available)})"
        )
    return sorted(chosen)


def load_side(path, layer: int) -> tuple[list[str], np.ndarray]:
    """Sentence ids and their ``layer`` embeddings from one side's embeddings file (ids unique, vectors finite)."""
    ids, x = read_pooled(path, layer)
    if len(set(ids)) != len(ids):
        raise LangrepError(f"{path}: duplicate sentence ids")
    bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if len(bad):
        raise LangrepError(
            f"{path}: the layer {layer} embedding of sentence {ids[bad[0]]!r} (row {bad[0]}) "
            f"is not finite (NaN or inf; {len(bad)} sentences in all)"
        )
    return ids, x


def align_rows(x: np.ndarray, ids: Sequence[str], order: Sequence[str], what: str) -> np.ndarray:
    """The rows of ``x`` (one per id of ``ids``) in the order of ``order``, the same ids."""
    if set(ids) != set(order):
        only = sorted(set(ids) ^ set(order))[:3]
        raise LangrepError(f"{what}: the two sides' ids differ (e.g. {only})")
    return x[pd.Index(ids).get_indexer(order)]


def mean_at(path, layer: int, dim: int) -> np.ndarray:
    """The ``dim``-wide language mean of ``layer`` from a means file, checked to exist and be finite."""
    means = read_means(path).means
    if layer >= len(means):
        raise LangrepError(f"{path}: no mean for layer {layer} (has layers 0..{len(means) - 1})")
    if means.shape[1] != dim:
        raise LangrepError(f"{path}: means have {means.shape[1]} dimensions, the embeddings {dim}")
    if not np.isfinite(means[layer]).all():
        raise LangrepError(f"{path}: the mean of layer {layer} is not finite (NaN or inf)")
    return means[layer]


def check_methods(methods, means_paths: Mapping) -> None:
    """A LangrepError for an unknown method or means source, or shift methods without means."""
    for m in methods:
        if m not in METHODS:
            raise LangrepError(f"retrieval.methods: unknown method {m!r} (expected {list(METHODS)})")
    for src in means_paths:
        if src not in MEANS_SOURCES:
            raise LangrepError(f"retrieval.means: unknown source {src!r} (expected {list(MEANS_SOURCES)})")
    if any(m != "original" for m in methods) and not means_paths:
        raise LangrepError("retrieval.means is empty, but zero_mean/mds need language means")


def method_means(methods, means_paths):
    """(method, means source) combinations; ``original`` is computed once and reported under every
    means source so that each means slice of the table is complete."""
    sources = list(means_paths) or ["none"]
    return [(m, s) for m in methods for s in sources]


def tatoeba_rows(
    model: str,
    lang: str,
    xx_path,
    en_path,
    means_paths: Mapping[str, Mapping[str, str]],
    layers,
    headline: int | None = DEFAULT.layer,
    methods: Sequence[str] = tuple(DEFAULT.methods),
    directions: Sequence[str] = tuple(DEFAULT.tatoeba.directions),
    block_size: int = DEFAULT.block_size,
    split: str = "test",
    device: str = "cpu",
    bootstrap: int = BOOT.bootstrap,
    seed: int = BOOT.seed,
) -> list[dict]:
    """Score rows for one Tatoeba pair ``lang``-en.

    ``means_paths`` maps a means source (``eval``/``mono``) to ``{"xx": path, "en": path}``.
    ``xx-en`` queries with the xx sentences and searches the en ones; ``en-xx`` the reverse.
    Every row carries the 95% interval of its accuracy (``bootstrap`` resamples of the sentence
    pairs, drawn once from ``seed`` and shared by every row), Zero-mean and MDS rows the paired
    difference from Original (:func:`add_intervals`).
    """
    check_methods(methods, means_paths)
    for d in directions:
        if d not in DIRECTIONS:
            raise LangrepError(f"retrieval.tatoeba.directions: unknown direction {d!r}")
    rows, correct = [], {}
    for layer in resolve_layers(layers, headline, [xx_path, en_path]):
        xx_ids, xx = load_side(xx_path, layer)
        en_ids, en = load_side(en_path, layer)
        if xx.shape[1] != en.shape[1]:
            raise LangrepError(f"{xx_path} has {xx.shape[1]}-d embeddings, {en_path} {en.shape[1]}-d")
        en = align_rows(en, en_ids, xx_ids, f"{xx_path} and {en_path}")
        dim = xx.shape[1]
        means = {s: {side: mean_at(p[side], layer, dim) for side in ("xx", "en")} for s, p in means_paths.items()}
        cache: dict = {}
        for method, source in method_means(methods, means_paths):
            for direction in directions:
                key = (method, direction, None if method == "original" else source)
                if key not in cache:
                    mq = means.get(source, {})
                    q_side, d_side = ("xx", "en") if direction == "xx-en" else ("en", "xx")
                    q, db = (xx, en) if direction == "xx-en" else (en, xx)
                    q, db = apply_method(method, q, db, mq.get(q_side), mq.get(d_side))
                    correct[(layer, *key)] = hits = correct_at_1(q, db, block_size, device)
                    cache[key] = 100.0 * float(np.mean(hits))
                rows.append(
                    dict(
                        model=model,
                        task="tatoeba",
                        lang=lang,
                        layer=layer,
                        method=method,
                        direction=direction,
                        split=split,
                        metric="accuracy",
                        value=cache[key],
                        means=source,
                    )
                )
        log.info("tatoeba %s-en layer %d done", lang, layer)
    return add_intervals(rows, correct, bootstrap, seed)


def add_intervals(rows: list[dict], correct: Mapping[tuple, np.ndarray], bootstrap: int, seed: int) -> list[dict]:
    """``ci_low``, ``ci_high``, ``n_sentences`` on every row of one Tatoeba pair, and ``delta``,
    ``delta_low``, ``delta_high`` (minus Original, same layer and direction) on Zero-mean and MDS
    rows; ``correct[(layer, method, direction, means or None)]``: each query's hit. One set of
    resamples of the query indices serves every row (both directions query the same pairs)."""
    if not correct:
        return rows
    boot = Resamples(len(next(iter(correct.values()))), bootstrap, seed, "transfer.bootstrap")
    counts = {key: np.stack([hits, np.ones(boot.n)], 1) for key, hits in correct.items()}
    against = {key: (key[0], "original", key[2], None) for key in counts if key[1] != "original"}
    got = table_intervals(boot, counts, {"accuracy": ratio}, against)
    for row in rows:
        method = row["method"]
        key = (row["layer"], method, row["direction"], None if method == "original" else row["means"])
        row["ci_low"], row["ci_high"], row["delta"], row["delta_low"], row["delta_high"] = got[("accuracy", key)]
        row["n_sentences"] = boot.n
    return rows


def texts_by_id(path, ids: Sequence[str]) -> list[str]:
    """The texts of ``ids`` (in that order) from a corpus Parquet file; a LangrepError naming a missing id."""
    df = read_frame(path, columns=["id", "text"])
    lookup = dict(zip(df["id"].astype(str), df["text"].astype(str)))
    missing = [i for i in ids if i not in lookup]
    if missing:
        raise LangrepError(f"{path}: no text for sentence id {missing[0]!r} ({len(missing)} missing)")
    return [lookup[i] for i in ids]


# --------------------------------------------------------------------------------------------
# Rule entry points
# --------------------------------------------------------------------------------------------


def run_tatoeba(
    model: str,
    plan: Mapping[str, Mapping],
    output,
    settings: RetrievalSettings | Mapping | None = None,
    threads: int | None = None,
    bootstrap: int = BOOT.bootstrap,
    seed: int = BOOT.seed,
) -> pd.DataFrame:
    """All Tatoeba pairs of ``plan`` (lang -> {"xx", "en", "means"}) into ``output`` (tidy CSV), at
    ``settings.layer`` and ``layers`` (config ``retrieval:``, or a mapping of some of its keys);
    intervals from ``bootstrap`` resamples drawn from ``seed`` (config ``transfer.bootstrap``, ``transfer.seed``)."""
    s = RetrievalSettings.from_config(settings)
    set_threads(threads)
    device = resolve_device(s.device, "retrieval.device")
    rows = []
    for lang, spec in plan.items():
        rows += tatoeba_rows(
            model,
            lang,
            spec["xx"],
            spec["en"],
            spec.get("means", {}),
            s.layers,
            s.layer,
            s.methods,
            s.tatoeba.directions,
            s.block_size,
            device=device,
            bootstrap=bootstrap,
            seed=seed,
        )
    return write_scores(rows, output)
