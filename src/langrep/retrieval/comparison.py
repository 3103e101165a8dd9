"""The three ways of comparing sentences across languages (paper, Sec. 4.2), and the files they read.

A sentence embedding is the mean of its token embeddings at one layer
(:mod:`langrep.extraction.hidden_states`). Three ways of comparing an ``xx`` and an ``en`` sentence:

* ``original``: the embeddings as they are;
* ``zero_mean``: ``v - R_L`` on both sides;
* ``mds``: the query side shifted into the other language, ``v_src - R_src + R_tgt``, against the
  unshifted other side.

Similarity is the cosine (inner product of L2-normalized float32 vectors), searched exactly and in
blocks (:mod:`langrep.retrieval.knn_search`: FAISS on a CPU, matmul + top-k on a GPU, the same
lists). Tatoeba (:mod:`~langrep.retrieval.tatoeba`) and BUCC (:mod:`~langrep.retrieval.bucc`) score
the same embeddings and methods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from langrep.artifacts import read_frame
from langrep.errors import LangrepError
from langrep.extraction.hidden_states import pooled_layers_in, read_pooled
from langrep.means.representations import mean_difference_shift, read_means, zero_mean

# the known values (the schema's enums)
METHODS = ("original", "zero_mean", "mds")
DIRECTIONS = ("xx-en", "en-xx")
MEANS_SOURCES = ("eval", "mono")

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


def texts_by_id(path, ids: Sequence[str]) -> list[str]:
    """The texts of ``ids`` (in that order) from a corpus Parquet file; a LangrepError naming a missing id."""
    df = read_frame(path, columns=["id", "text"])
    lookup = dict(zip(df["id"].astype(str), df["text"].astype(str)))
    missing = [i for i in ids if i not in lookup]
    if missing:
        raise LangrepError(f"{path}: no text for sentence id {missing[0]!r} ({len(missing)} missing)")
    return [lookup[i] for i in ids]
