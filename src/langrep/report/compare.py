"""Our numbers beside the paper's, table by table, in long format (one row per cell).

:func:`compare` picks our rows the way the paper measured each table (its layer, MDS at alpha 1,
means of the evaluation set, the test split), joins them with the paper's printed cells (both ways:
paper cells we lack stay, with no number of ours; rows of ours the paper has no cell for stay, with
no paper value: other alphas, both Tatoeba directions, extra languages, the trivial baselines) and
says, once per table, why the comparison is not like for like. Every statement is derived from the
run's config, model folder and score tables, never written for one particular run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from langrep.report import notes as table_notes
from langrep.report.paper import PAPER_SETUP, TABLES, TATOEBA_PAPER_DIRECTION, TableSpec
from langrep.report.run import ModelRun

JOIN = ["lang", "method", "alpha", "split", "metric"]  # what makes one paper cell
INTERVALS = ["ci_low", "ci_high", "delta", "delta_low", "delta_high"]
COLUMNS = [
    "table",
    "model",
    *JOIN[:2],
    "direction",
    *JOIN[2:],
    "layer",
    "ours",
    "paper",
    "paper_value",
    "diff",
    *INTERVALS,
    "paper_note",
]
PARTIAL_NOTE_MARKS = "†‡§¶"


@dataclass
class Comparison:
    """One model's cells of one paper table beside the paper's, with why they are not like for like."""

    spec: TableSpec
    model: str
    rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COLUMNS))
    missing: str | None = None  # why there is nothing of ours to compare
    skipped: bool = False  # the model's stages leave the table's task out
    caveats: list[str] = field(default_factory=list)  # why this table is not like for like (beyond the model's)
    notes: list[str] = field(default_factory=list)  # what our numbers are (sizes, where shifts act, baselines)


def target_layer(ours: pd.DataFrame, paper_layer: str, n_layers: int | None) -> float | None:
    """Our layer for the paper's: the same number (else the nearest), our last for "last", our most
    common for an unstated one (ties: the highest); None for rows without a layer (baselines)."""
    layers = ours["layer"].dropna()
    if layers.empty:
        return None
    present = sorted(layers.unique())
    if paper_layer == "last":
        return float(n_layers) if n_layers is not None and n_layers in present else float(max(present))
    if paper_layer == "":
        counts = layers.value_counts()
        return float(max(counts[counts == counts.max()].index))
    want = float(paper_layer)
    return min(present, key=lambda l: (abs(l - want), -l))


def paper_layer_of(paper: pd.DataFrame) -> str:
    """The layer the paper's rows of a table were measured at ("" when none is given)."""
    layers = [l for l in paper["layer"] if l != ""]
    return layers[0] if layers else ""


def _alpha_key(alpha) -> str:
    return "" if pd.isna(alpha) else f"{float(alpha):g}"


def select(spec: TableSpec, ours: pd.DataFrame, paper_layer: str, n_layers: int | None, notes: set) -> pd.DataFrame:
    """Our rows of one table, measured as the paper measured it."""
    d = ours[ours["metric"].isin(spec.metrics)]
    if spec.split and "split" in d:
        d = d[d["split"].astype(str) == spec.split]
    if spec.number == 1 and (d["method"] == "mds").any():
        d = d[d["method"] == "mds"]
    d = table_notes.prefer(d, "means", "eval", notes, "means for the shift computed on")
    d = table_notes.prefer(d, "head", "pretrained", set(), "")  # a fitted head is a caveat of its own
    if "direction" not in spec.rows and spec.task in ("tatoeba", "bucc"):
        d = table_notes.prefer(d, "direction", "xx-en", notes, "retrieval direction")
    if spec.number != 1 and "alpha" in d:
        mds = (d["method"] == "mds").to_numpy()
        one = mds & np.isclose(d["alpha"].astype(float), 1.0)
        if one.any():  # the paper's MDS without a weight is eq. 2, i.e. alpha = 1
            d = d[~mds | one]
        elif mds.any():
            alphas = sorted(d.loc[mds, "alpha"].dropna().unique())
            notes.add(f"MDS weight alpha {', '.join(f'{a:g}' for a in alphas)} (the paper: 1)")
    parts = []
    for _, g in d.groupby("method", dropna=False, sort=False):
        layer = target_layer(g, paper_layer, n_layers)
        parts.append(g if layer is None else g[g["layer"] == layer])
    return pd.concat(parts) if parts else d.iloc[0:0]


def _long(spec: TableSpec, d: pd.DataFrame, notes: set) -> pd.DataFrame:
    """One row per cell of ours: (lang, method, direction, alpha, split, metric) -> value, layer, intervals."""
    if d.empty:
        return pd.DataFrame(columns=[*JOIN, "direction", "layer", "ours", *INTERVALS])
    d = d.copy()
    d["alpha"] = d["alpha"].map(_alpha_key) if spec.number == 1 and "alpha" in d else ""
    d["direction"] = d["direction"].fillna("").astype(str) if "direction" in spec.rows else ""
    for col in ("lang", "method", "split"):
        d[col] = d[col].fillna("").astype(str) if col in d else ""
    for col in INTERVALS:
        if col not in d:
            d[col] = math.nan
    keys = [*JOIN, "direction"]
    if d.groupby(keys).size().max() > 1:
        notes.add("several of our rows match one cell (e.g. seeds): their mean is shown")
    agg = {"value": "mean", "layer": "first", **{c: "mean" for c in INTERVALS}}
    return d.groupby(keys, sort=False).agg(agg).reset_index().rename(columns={"value": "ours"})


def _with_averages(rows: pd.DataFrame, paper_langs: set, paper_avg: pd.DataFrame, notes: set) -> pd.DataFrame:
    """Our "Average" cells: the mean over the paper's languages, only where we have them all."""
    keys = ["method", "direction", "alpha", "split", "metric"]
    out = []
    for key, g in rows[rows["lang"].isin(paper_langs)].groupby(keys, sort=False):
        vals = g["ours"]
        complete = len(g) == len(paper_langs) and vals.notna().all()
        if not complete and vals.notna().any():
            notes.add("an average is left blank where we lack some of the paper's languages")
        out.append(
            {
                **dict(zip(keys, key)),
                "lang": "avg",
                "ours": float(vals.mean()) if complete else math.nan,
                "layer": g["layer"].dropna().iloc[0] if g["layer"].notna().any() else math.nan,
            }
        )
    avg = pd.DataFrame(out)
    if avg.empty:
        return rows
    avg = avg.merge(paper_avg, on=JOIN, how="outer")
    avg["direction"] = avg["direction"].fillna("")
    return pd.concat([rows, avg], ignore_index=True)


def _join(spec: TableSpec, ours: pd.DataFrame, paper: pd.DataFrame, notes: set) -> pd.DataFrame:
    p = paper[JOIN + ["value", "note"]].rename(columns={"value": "paper", "note": "paper_note"})
    p_avg, p = p[p["lang"] == "avg"], p[p["lang"] != "avg"]
    rows = ours.merge(p, on=JOIN, how="outer")
    rows["direction"] = rows["direction"].fillna("")
    if spec.task == "tatoeba":  # a paper cell we lack is shown in the direction the paper most likely used
        rows.loc[rows["ours"].isna() & (rows["direction"] == ""), "direction"] = TATOEBA_PAPER_DIRECTION
    if len(p_avg):
        rows = _with_averages(rows, set(p["lang"]), p_avg, notes)
    rows[["paper", "paper_note"]] = rows[["paper", "paper_note"]].fillna("")
    rows["paper_value"] = pd.to_numeric(rows["paper"], errors="coerce")
    rows["diff"] = rows["ours"] - rows["paper_value"]
    return rows


# Config keys that cap how many evaluation sentences a stage scores:
# table -> (section, key, task, size of the whole test set where it is one number).
SAMPLE_CAPS = {
    1: ("translation", "n_sentences", None, 5010),  # XNLI test: 5,010 sentences per language
    4: ("transfer", "test_sentences", "pos", None),
    5: ("transfer", "test_sentences", "parsing", None),
}


def config_cap(config: Mapping | None, table: int):
    """(config key, value) of the sentence cap of a table's stage; (None, None) for the whole test set."""
    if not config or table not in SAMPLE_CAPS:
        return None, None
    section, key, task, full = SAMPLE_CAPS[table]
    sec = config.get(section) or {}
    for where, d in ((f"{section}.{task}.{key}", sec.get(task) if task else None), (f"{section}.{key}", sec)):
        if isinstance(d, Mapping) and d.get(key) is not None:
            if full is not None and int(d[key]) >= full:
                return None, None  # the whole test set
            return where, d[key]
    return None, None


def _caveats(
    spec: TableSpec,
    paper: pd.DataFrame,
    ours: pd.DataFrame,
    rows: pd.DataFrame,
    run: ModelRun,
    config: Mapping | None,
    notes: set,
) -> list[str]:
    """Why this table is not like for like, beyond what holds for every table of the model."""
    out, table = [], spec.number
    paper_layer = paper_layer_of(paper)
    used = sorted({int(l) for l in rows.loc[rows["paper"] != "", "layer"].dropna()})
    if paper_layer not in ("", "last") and used and int(paper_layer) not in used:
        out.append(
            f"the paper's layer {paper_layer} is not in our table; our nearest layer(s) "
            f"{', '.join(map(str, used))} are shown"
        )
    printed = rows[(rows["paper"] != "") & (rows["lang"] != "avg")]
    lacking = sorted(l for l, g in printed.groupby("lang") if g["ours"].isna().all())
    if lacking:
        out.append(f"no score of ours for: {', '.join(lacking)}")
    if (
        table == 1
        and "head" in ours
        and (ours["head"].astype(str) == "fitted").any()
        and not (ours["head"].astype(str) == "pretrained").any()
    ):
        out.append(
            "the MLM head was fitted by us (the model has no pretrained one); the paper decoded "
            "with m-BERT's pretrained MLM head"
        )
    splits = set(ours["split"].dropna().astype(str)) if "split" in ours else set()
    if table == 1 and splits and "test" not in splits:
        out.append(f"translation evaluated on XNLI {', '.join(sorted(splits))}, the paper on XNLI test")
    if table == 3 and "test" not in splits:
        out.append(
            "no BUCC test-split scores in this run (the test split was not evaluated, e.g. its gold "
            "pairs were not available): only the dev rows compare"
        )
    if table in (4, 5):
        out += table_notes.transfer_caveats(table, ours, run, config)
    where, cap = config_cap(config, table)
    if cap is not None:
        out.append(
            f"scored on at most {cap} sentences per language (config key {where}); the paper used the whole test sets"
        )
    bucc_cap = ((config or {}).get("data") or {}).get("bucc_sentences")
    if table == 3 and bucc_cap is not None:
        out.append(
            f"mined among at most {bucc_cap} sentences per side (every gold-pair sentence plus a "
            "sample of the others; config key data.bucc_sentences): a smaller haystack, "
            "easier than the whole BUCC files the paper mined"
        )
    return out + sorted(notes)


def _missing(spec: TableSpec, run: ModelRun) -> str:
    if spec.task in run.skipped_tasks:
        return f"not run for this model (config key models.{run.key}.stages)"
    return f"no {spec.task} score table in this run (the stage is not configured or was not run)"


def compare(table: int, paper: pd.DataFrame, run: ModelRun, config: Mapping | None = None) -> Comparison:
    """Our numbers beside the paper's for one of Tables 1-6, in long format."""
    spec = TABLES[table]
    p = paper[paper["table"] == table]
    cmp = Comparison(spec, run.key)
    ours = run.scores.get(spec.task)
    if ours is None:
        cmp.missing, cmp.skipped = _missing(spec, run), spec.task in run.skipped_tasks
        return cmp
    notes: set[str] = set()
    mine = _long(spec, select(spec, ours, paper_layer_of(p), run.n_layers, notes), notes)
    rows = _join(spec, mine, p, notes)
    if rows["ours"].isna().all():
        cmp.missing = f"the {spec.task} score table has none of the table's cells"
        return cmp
    rows.insert(0, "table", table)
    rows.insert(1, "model", run.key)
    cmp.rows = rows[COLUMNS].reset_index(drop=True)
    cmp.caveats = _caveats(spec, p, ours, cmp.rows, run, config, notes)
    if table == 1:
        cmp.notes = table_notes.translation_notes(ours, cmp.rows)
    elif table in (4, 5):
        cmp.notes = table_notes.transfer_notes(table, cmp.rows, ours, run)
    elif "n_sentences" in ours and ours["n_sentences"].notna().any():
        n = pd.to_numeric(ours["n_sentences"], errors="coerce").dropna()
        cmp.notes = [f"our scores come from {int(n.min()):,}-{int(n.max()):,} sentences per language and split."]
    if table in (4, 5) and config:
        rel = str(((config.get("data") or {}).get("ud_release")) or "")
        if rel and rel.lstrip("rv") != ("2.5" if table == 4 else "2.2"):
            cmp.caveats.insert(
                0,
                f"UD release {rel} (config key data.ud_release); the paper: "
                f"{PAPER_SETUP['ud_pos' if table == 4 else 'ud_parsing']}",
            )
    return cmp


def paper_notes(paper: pd.DataFrame, table: int) -> tuple[list[str], dict[tuple, str]]:
    """The paper's notes on its cells, once per table: a note on every cell is said plainly; a note on
    some cells gets a mark (†, ‡, ...) shown beside those cells. Returns the notes and
    ``{(lang, method, alpha, split, metric): mark}``."""
    p = paper[(paper["table"] == table) & (paper["value"] != "")]
    said, marks = [], {}
    partial = [n for n in dict.fromkeys(p["note"]) if n and not (p["note"] == n).all()]
    for n in dict.fromkeys(p["note"]):
        if not n:
            continue
        if n not in partial:
            said.append(n)
            continue
        mark = PARTIAL_NOTE_MARKS[partial.index(n) % len(PARTIAL_NOTE_MARKS)]
        said.append(f"{mark} {n}")
        for r in p[p["note"] == n].itertuples(index=False):
            marks[(r.lang, r.method, r.alpha, r.split, r.metric)] = mark
    return said, marks
