"""BUCC2018 bitext mining (paper, Sec. 4, Table 3), following LASER (:mod:`langrep.retrieval.mining`).

Sentence embeddings and the three methods are those of :mod:`langrep.retrieval.comparison`. Each split is
mined with the ratio margin at every layer, for every method and means source; mining is the heavy,
device-bound step, so it is done and stored per split (:func:`bucc_candidates`,
:func:`run_bucc_mine`). The threshold that maximizes F1 against the gold pairs of ``dev`` (BUCC's
sample = XTREME's ``dev``) is then applied unchanged to the other splits (:func:`bucc_scores`,
:func:`run_bucc_scores`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from langrep.artifacts import read_frame
from langrep.bootstrap import Resamples, table_intervals
from langrep.errors import LangrepError
from langrep.io import read_parquet_metadata, write_parquet
from langrep.models import resolve_device
from langrep.retrieval.comparison import (
    apply_method,
    check_methods,
    load_side,
    mean_at,
    method_means,
    resolve_layers,
    texts_by_id,
)
from langrep.retrieval.knn_search import set_threads
from langrep.retrieval.mining import evaluate_pairs, mine_unified, read_gold
from langrep.scores import write_scores
from langrep.settings import RetrievalSettings, TransferSettings

log = logging.getLogger(__name__)

# the keyword defaults below: config retrieval's
DEFAULT = RetrievalSettings.defaults()
BOOT = TransferSettings.defaults()  # the intervals' resamples: config transfer.bootstrap, transfer.seed


@dataclass
class MinedSplit:
    """The candidates of one BUCC split: a frame with columns ``layer, method, means, src_id,
    tgt_id, score`` (``means`` is "" for ``original``) and what was mined."""

    frame: pd.DataFrame
    layers: list[int]
    methods: list[str]
    means: list[str]


def _mined_keys(methods, means_sources) -> list[tuple[str, str]]:
    """(method, means source) pairs mined; ``original`` uses no means and is mined once."""
    keys = [("original", "")] if "original" in methods else []
    return keys + [(m, s) for m in methods if m != "original" for s in means_sources]


def bucc_candidates(
    spec: Mapping,
    layers,
    headline: int | None = DEFAULT.layer,
    methods: Sequence[str] = tuple(DEFAULT.methods),
    k: int = DEFAULT.bucc.k,
    block_size: int = DEFAULT.block_size,
    device: str = "cpu",
) -> MinedSplit:
    """Mine one BUCC split (``spec`` as a split of :func:`bucc_rows`) at every layer, for every
    method and means source; the gold ids are checked against the embeddings first."""
    means_sources = list(spec.get("means", {}))
    check_methods(methods, means_sources)
    chosen = resolve_layers(layers, headline, [spec["xx"], spec["en"]])
    frames = []
    for layer in chosen:
        xx_ids, xx = load_side(spec["xx"], layer)
        en_ids, en = load_side(spec["en"], layer)
        if xx.shape[1] != en.shape[1]:
            raise LangrepError(f"{spec['xx']} has {xx.shape[1]}-d embeddings, {spec['en']} {en.shape[1]}-d")
        if layer == chosen[0]:  # every layer has the same sentence ids: gold check and texts once
            read_gold(spec["gold"], xx_ids, en_ids)
            texts = spec.get("texts") or {}
            xx_texts = texts_by_id(texts["xx"], xx_ids) if texts.get("xx") else None
            en_texts = texts_by_id(texts["en"], en_ids) if texts.get("en") else None
        means = {
            s: {side: mean_at(p[side], layer, xx.shape[1]) for side in ("xx", "en")}
            for s, p in spec.get("means", {}).items()
        }
        xx_ids, en_ids = np.asarray(xx_ids, dtype=object), np.asarray(en_ids, dtype=object)
        for method, source in _mined_keys(methods, means_sources):
            m = means.get(source, {})
            x, y = apply_method(method, xx, en, m.get("xx"), m.get("en"))
            c = mine_unified(x, y, xx_texts, en_texts, k, block_size, device)
            frames.append(
                pd.DataFrame(
                    {
                        "layer": layer,
                        "method": method,
                        "means": source,
                        "src_id": xx_ids[c.src],
                        "tgt_id": en_ids[c.tgt],
                        "score": c.score,
                    }
                )
            )
        log.info("bucc %s layer %d mined", spec["xx"], layer)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CANDIDATE_COLUMNS)
    return MinedSplit(frame[list(CANDIDATE_COLUMNS)], chosen, list(methods), means_sources)


CANDIDATE_COLUMNS = ("layer", "method", "means", "src_id", "tgt_id", "score")


def write_candidates(mined: MinedSplit, path, metadata: Mapping[str, str] | None = None) -> None:
    """Write a split's mined candidates to a Parquet file (layers, methods and means in its metadata)."""
    meta = {
        "layers": json.dumps(mined.layers),
        "methods": json.dumps(mined.methods),
        "means": json.dumps(mined.means),
        **(metadata or {}),
    }
    frame = mined.frame.astype(
        {"layer": "int32", "method": str, "means": str, "src_id": str, "tgt_id": str, "score": "float64"}
    )
    write_parquet(frame, path, meta)


def read_candidates(path) -> MinedSplit:
    """The mined candidates that :func:`write_candidates` wrote; a LangrepError for a missing or foreign file."""
    path = Path(path)
    if not path.exists():
        raise LangrepError(f"BUCC candidates not found: {path}")
    meta = read_parquet_metadata(path)
    missing = [k for k in ("layers", "methods", "means") if k not in meta]
    if missing:
        raise LangrepError(f"{path}: not a candidates file (no {missing} in its metadata)")
    frame = read_frame(path)
    absent = [c for c in CANDIDATE_COLUMNS if c not in frame.columns]
    if absent:
        raise LangrepError(f"{path}: missing column(s) {absent}")
    return MinedSplit(frame, json.loads(meta["layers"]), json.loads(meta["methods"]), json.loads(meta["means"]))


def bucc_scores(
    model: str,
    pair: str,
    mined: Mapping[str, MinedSplit],
    gold: Mapping[str, set[tuple[str, str]]],
    bootstrap: int = BOOT.bootstrap,
    seed: int = BOOT.seed,
) -> list[dict]:
    """Score rows of one BUCC pair from the candidates of each split: the threshold of every
    (layer, method, means) is chosen on ``dev`` and applied unchanged to the other splits.
    Precision, recall and F1 rows carry 95% intervals over source sentences (:func:`add_intervals`)."""
    if "dev" not in mined:
        raise LangrepError("retrieval.bucc.splits: the threshold is chosen on 'dev', which must be listed")
    order = ["dev"] + [s for s in mined if s != "dev"]
    dev = mined["dev"]
    for split in order:
        if (mined[split].layers, mined[split].methods, mined[split].means) != (dev.layers, dev.methods, dev.means):
            raise LangrepError(
                f"bucc {pair}-en: split {split} was mined at layers {mined[split].layers} "
                f"with {mined[split].methods} x {mined[split].means}, dev at {dev.layers} "
                f"with {dev.methods} x {dev.means}; mine both with the same settings"
            )
    rows, counts = [], {}
    units = {split: source_units(mined[split].frame, gold[split]) for split in order}
    for layer in dev.layers:
        thresholds: dict = {}
        for split in order:
            frame = mined[split].frame
            groups = {key: g for key, g in frame[frame["layer"] == layer].groupby(["method", "means"])}
            cache: dict = {}
            for method, source in method_means(dev.methods, dev.means):
                key = (method, "" if method == "original" else source)
                if key not in cache:
                    g = groups.get(key, frame.iloc[:0])
                    cache[key] = evaluate_pairs(
                        list(zip(g["src_id"], g["tgt_id"])), g["score"].to_numpy(), gold[split], thresholds.get(key)
                    )
                    if split == "dev":
                        thresholds[key] = cache[key]["threshold"]
                    counts[(split, layer, *key)] = unit_counts(g, cache[key]["threshold"], gold[split], units[split])
                for metric in ("precision", "recall", "f1", "threshold"):
                    rows.append(
                        dict(
                            model=model,
                            task="bucc",
                            lang=pair,
                            layer=layer,
                            method=method,
                            direction="xx-en",
                            split=split,
                            metric=metric,
                            value=cache[key][metric],
                            means=source,
                        )
                    )
    return add_intervals(rows, counts, bootstrap, seed)


def source_units(frame: pd.DataFrame, gold: set[tuple[str, str]]) -> pd.Index:
    """The resampled units of a split: its source (xx) sentences that have a gold pair or a
    candidate of any layer and method (a source sentence with neither adds nothing to any count)."""
    return pd.Index(sorted(set(frame["src_id"].astype(str)) | {s for s, _ in gold}))


def unit_counts(cands: pd.DataFrame, threshold: float, gold: set[tuple[str, str]], units: pd.Index) -> np.ndarray:
    """Per source sentence of ``units``: ``[correct, extracted, gold]`` pairs, the extracted ones
    being the candidates (``src_id``, ``tgt_id``, ``score``) scoring ``>= threshold``."""
    ext = cands.loc[cands["score"] >= threshold, ["src_id", "tgt_id"]].astype(str).drop_duplicates()
    ok = np.fromiter((p in gold for p in zip(ext["src_id"], ext["tgt_id"])), dtype=bool, count=len(ext))
    out = np.zeros((len(units), 3))
    np.add.at(out[:, 0], units.get_indexer(ext["src_id"][ok]), 1)
    np.add.at(out[:, 1], units.get_indexer(ext["src_id"]), 1)
    np.add.at(out[:, 2], units.get_indexer([s for s, _ in gold]), 1)
    return out


def _prf(sums: np.ndarray, metric: str) -> np.ndarray:
    """Precision, recall or F1 (%) of summed ``[correct, extracted, gold]``; 0 with nothing correct."""
    c, e, g = sums[..., 0], sums[..., 1], sums[..., 2]
    den = {"precision": e, "recall": g, "f1": (e + g) / 2}[metric]
    return np.where(c > 0, 100.0 * c / np.maximum(den, 1e-300), 0.0)


def add_intervals(rows: list[dict], counts: Mapping[tuple, np.ndarray], bootstrap: int, seed: int) -> list[dict]:
    """``ci_low``, ``ci_high``, ``n_sentences`` on the precision, recall and F1 rows, and ``delta``,
    ``delta_low``, ``delta_high`` (minus Original, same split and layer) on Zero-mean and MDS ones;
    ``counts[(split, layer, method, means)]``: :func:`unit_counts`. The threshold stays the one
    chosen on dev (not re-chosen per resample); one set of resamples per split serves every row."""
    got: dict = {}
    for split in dict.fromkeys(k[0] for k in counts):
        mine = {k: c for k, c in counts.items() if k[0] == split}
        boot = Resamples(len(next(iter(mine.values()))), bootstrap, seed, "transfer.bootstrap")
        against = {k: (split, k[1], "original", "") for k in mine if k[2] != "original"}
        scores = {m: (lambda sums, m=m: _prf(sums, m)) for m in ("precision", "recall", "f1")}
        got.update(table_intervals(boot, mine, scores, against))
    for row in rows:
        method = row["method"]
        key = (row["split"], row["layer"], method, "" if method == "original" else row["means"])
        row["n_sentences"] = len(counts[key])
        nan = (math.nan,) * 5
        row["ci_low"], row["ci_high"], row["delta"], row["delta_low"], row["delta_high"] = got.get(
            (row["metric"], key), nan
        )
    return rows


def bucc_rows(
    model: str, pair: str, splits: Mapping[str, Mapping], layers, bootstrap=BOOT.bootstrap, seed=BOOT.seed, **options
) -> list[dict]:
    """Score rows for one BUCC pair ``pair``-en (:func:`bucc_candidates` of every split, then
    :func:`bucc_scores`); ``options`` are bucc_candidates' (headline, methods, k, block_size, device).

    ``splits`` maps a split name (``dev``, ``test``) to ``{"xx": emb path, "en": emb path, "gold":
    path, "means": {source: {"xx": path, "en": path}}, "texts": {"xx": path, "en": path} or None}``.
    The threshold of each (layer, method, means) is chosen on ``dev`` and applied to the others;
    so ``dev`` must be among the splits. MDS shifts the xx side into English.
    """
    if "dev" not in splits:
        raise LangrepError("retrieval.bucc.splits: the threshold is chosen on 'dev', which must be listed")
    mined = {split: bucc_candidates(spec, layers, **options) for split, spec in splits.items()}
    gold = {split: read_gold(spec["gold"]) for split, spec in splits.items()}
    return bucc_scores(model, pair, mined, gold, bootstrap, seed)


def run_bucc_mine(
    spec: Mapping, output, settings: RetrievalSettings | Mapping | None = None, threads: int | None = None
) -> MinedSplit:
    """The candidates of one BUCC split (see :func:`bucc_candidates`) into ``output`` (Parquet), at
    ``settings.layer`` and ``bucc_layers`` (config ``retrieval:``, or a mapping of some of its keys)."""
    s = RetrievalSettings.from_config(settings)
    set_threads(threads)
    device = resolve_device(s.device, "retrieval.device")
    t0 = time.perf_counter()
    mined = bucc_candidates(spec, s.bucc_layers, s.layer, s.methods, s.bucc.k, s.block_size, device)
    log.info("mined %d candidates in %.1f s on %s", len(mined.frame), time.perf_counter() - t0, device)
    write_candidates(mined, output, {"device": device})
    return mined


def run_bucc_scores(
    model: str,
    plan: Mapping[str, Mapping[str, Mapping]],
    output,
    bootstrap: int = BOOT.bootstrap,
    seed: int = BOOT.seed,
) -> pd.DataFrame:
    """``plan``: pair -> split -> {"candidates": path, "gold": path}; the tidy scores into ``output``
    (intervals: ``bootstrap`` resamples from ``seed``, config ``transfer.bootstrap``, ``transfer.seed``)."""
    rows = []
    for pair, splits in plan.items():
        mined = {split: read_candidates(spec["candidates"]) for split, spec in splits.items()}
        gold = {split: read_gold(spec["gold"]) for split, spec in splits.items()}
        rows += bucc_scores(model, pair, mined, gold, bootstrap, seed)
    return write_scores(rows, output)
