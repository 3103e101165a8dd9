"""Tatoeba retrieval (paper, Sec. 4, Table 2): accuracy@1 of each method, direction and layer, with
paired bootstrap intervals over the queries.

The embeddings, methods and means come from :mod:`langrep.retrieval.comparison`; the search is exact
(:mod:`langrep.retrieval.knn_search`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from langrep.bootstrap import Resamples, ratio, table_intervals
from langrep.errors import LangrepError
from langrep.models import resolve_device
from langrep.retrieval import comparison
from langrep.retrieval.knn_search import knn, normalize, set_threads
from langrep.scores import write_scores
from langrep.settings import RetrievalSettings, TransferSettings

log = logging.getLogger(__name__)

# the keyword defaults below are config retrieval's
DEFAULT = RetrievalSettings.defaults()
BOOT = TransferSettings.defaults()  # the intervals' resamples: config transfer.bootstrap, transfer.seed

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
    comparison.check_methods(methods, means_paths)
    for d in directions:
        if d not in comparison.DIRECTIONS:
            raise LangrepError(f"retrieval.tatoeba.directions: unknown direction {d!r}")
    rows, correct = [], {}
    for layer in comparison.resolve_layers(layers, headline, [xx_path, en_path]):
        xx_ids, xx = comparison.load_side(xx_path, layer)
        en_ids, en = comparison.load_side(en_path, layer)
        if xx.shape[1] != en.shape[1]:
            raise LangrepError(f"{xx_path} has {xx.shape[1]}-d embeddings, {en_path} {en.shape[1]}-d")
        en = comparison.align_rows(en, en_ids, xx_ids, f"{xx_path} and {en_path}")
        dim = xx.shape[1]
        means = {
            s: {side: comparison.mean_at(p[side], layer, dim) for side in ("xx", "en")} for s, p in means_paths.items()
        }
        cache: dict = {}
        for method, source in comparison.method_means(methods, means_paths):
            for direction in directions:
                key = (method, direction, None if method == "original" else source)
                if key not in cache:
                    mq = means.get(source, {})
                    q_side, d_side = ("xx", "en") if direction == "xx-en" else ("en", "xx")
                    q, db = (xx, en) if direction == "xx-en" else (en, xx)
                    q, db = comparison.apply_method(method, q, db, mq.get(q_side), mq.get(d_side))
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
