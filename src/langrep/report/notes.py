"""What our numbers of one table are, said once under it: the lines of the translation table
(lines scored, tokens outside both token sets, the fitted head) and of the transfer tables (where the
shift acts, what was fine-tuned, English dev, the baselines, the treebanks)."""

from __future__ import annotations

import pandas as pd

from langrep.report.paper import TABLES, method_label
from langrep.report.run import ModelRun

TRANSFER_BASELINES = {4: ("majority",), 5: ("attach_next", "attach_prev")}
BASELINE_LABELS = {
    "majority": "the majority tag of English train",
    "attach_next": "attach to the next word",
    "attach_prev": "attach to the previous word",
}


def interval(low, high) -> str:
    """``[low, high]`` to one decimal, or "" when either end is missing."""
    return "" if pd.isna(low) or pd.isna(high) else f"[{low:.1f}, {high:.1f}]"


def first(ours: pd.DataFrame, column: str):
    """The first non-missing value of ``column`` in ``ours``, or None."""
    vals = ours[column].dropna() if column in ours else pd.Series(dtype=object)
    return vals.iloc[0] if len(vals) else None


def prefer(df: pd.DataFrame, column: str, preferred: str, notes: set, what: str) -> pd.DataFrame:
    """Keep rows whose ``column`` equals ``preferred`` if any; else keep all and note it."""
    if column not in df or df[column].isna().all():
        return df
    hit = df[df[column].astype(str) == preferred]
    if not hit.empty:
        return hit
    if what:
        notes.add(f"{what}: ours {', '.join(sorted(df[column].dropna().astype(str).unique()))}, paper {preferred}")
    return df


def translation_notes(ours: pd.DataFrame, rows: pd.DataFrame) -> list[str]:
    """Table 1: how many XNLI lines the table's layer was scored on, and per alpha the share of
    decoded tokens in neither the source's nor the target's token set (the paper: none)."""
    layers = {int(l) for l in rows["layer"].dropna()}
    at = prefer(ours[ours["layer"].isin(layers) & (ours["method"] == "mds")], "head", "pretrained", set(), "")
    out = []
    if "n_sentences" in at and at["n_sentences"].notna().any():
        n = pd.to_numeric(at["n_sentences"], errors="coerce").dropna()
        size = f"{int(n.min()):,}" if n.min() == n.max() else f"{int(n.min()):,}-{int(n.max()):,}"
        out.append(
            f"our layer {', '.join(map(str, sorted(layers)))} scores come from {size} XNLI test lines per "
            "direction (premise + hypothesis, repeated lines dropped; the paper: all 5,010)."
        )
    neither = at[at["metric"] == "neither_share"].dropna(subset=["value"])
    per_alpha = []
    for a, g in neither.groupby("alpha"):
        lo, hi = g.loc[g["value"].idxmin()], g.loc[g["value"].idxmax()]
        per_alpha.append(
            f"α={a:g} {g['value'].mean():.1f}% ({lo['value']:.1f}% {lo['lang']} to {hi['value']:.1f}% {hi['lang']})"
        )
    if per_alpha:
        out.append(
            "decoded tokens in neither the source's nor the target's XNLI token set (mean over the "
            f"{neither['lang'].nunique()} directions, lowest to highest): "
            + "; ".join(per_alpha)
            + ". The paper: tokens outside L1 and L2 are never decoded."
        )
    if "head_reconstruction" in at and at["head_reconstruction"].notna().any():
        out.append(
            f"the fitted MLM head gives back {at['head_reconstruction'].dropna().iloc[0]:.1f}% of the tokens of "
            "held-out monolingual sentences (unshifted; per language in results/<model>/mlm_head/head.json): "
            "a pretrained MLM head gives back nearly all, so some output tokens reflect the head, "
            "not the shift."
        )
    return out


def _trained_layers(read, frozen) -> str:
    """The layers above a frozen bottom of ``frozen`` layers, up to the read layer."""
    return f"layer {int(read)}" if int(frozen) + 1 == int(read) else f"layers {int(frozen) + 1}-{int(read)}"


def transfer_caveats(table: int, ours: pd.DataFrame, run: ModelRun, config) -> list[str]:
    """Tables 4-5: what differs from the paper's fine-tuning and data."""
    out = []
    if small := run.small_means():
        out.append(small)
    read, frozen = first(ours, "read_layer"), first(ours, "frozen_layers")
    if read is not None and frozen is not None and int(frozen) >= 0:
        top = _trained_layers(read, frozen)
        out.append(
            f"partial fine-tuning: layers 0-{int(frozen)} frozen, {top} and the head trained "
            "(the paper fine-tuned every layer)"
        )
    if read is not None and run.n_layers is not None and int(read) != run.n_layers:
        out.append(f"the heads read layer {int(read)} of {run.n_layers} (the paper: the last layer)")
    return out


def _where_the_shift_acts(table: int, layer, ours: pd.DataFrame, run: ModelRun) -> str:
    read, frozen = first(ours, "read_layer"), first(ours, "frozen_layers")
    where = (
        f"Zero-mean and MDS act on hidden state {layer} (the output of transformer layer {layer}; "
        "0 = the embeddings), and every layer above it runs on the shifted states"
    )
    if read is not None:
        where += f"; the heads read hidden state {int(read)}" + (f" of {run.n_layers}" if run.n_layers else "")
    if read is not None and frozen is not None and int(frozen) >= 0:
        top = _trained_layers(read, frozen)
        where += f"; layers 0-{int(frozen)} were frozen (their output cached), only {top} and the head fine-tuned"
    elif frozen is not None:
        where += "; every layer fine-tuned"
    layers = sorted({int(l) for l in ours.loc[ours["method"] == "zero_mean", "layer"].dropna()})
    if len(layers) > 1:
        return where + (
            f". This table shows layer {layer}; the run has layers {', '.join(map(str, layers))} "
            f"(all in results/{run.key}/scores/{TABLES[table].task}.csv)."
        )
    return where + "."


def transfer_notes(table: int, rows: pd.DataFrame, ours: pd.DataFrame, run: ModelRun) -> list[str]:
    """Where the shift acts, the English dev score and how Original compares with the baselines.
    (The differences from Original are counted in the claims, :mod:`langrep.report.claims`.)"""
    out = []
    metric = "accuracy" if table == 4 else "las"
    r = rows[(rows["lang"] != "avg") & rows["ours"].notna()]
    shifted = r[(r["metric"] == metric) & r["method"].isin(["zero_mean", "mds"])]["layer"].dropna()
    if len(shifted):
        out.append(_where_the_shift_acts(table, int(shifted.iloc[0]), ours, run))
    if "shift_means" in ours:
        mds_means = sorted(set(ours.loc[ours["method"] == "mds", "shift_means"].dropna().astype(str)))
        out.append(
            "Means: Zero-mean subtracts the pre-trained model's language means, MDS adds the fine-tuned "
            f"model's mean difference ({', '.join(mds_means)}); both from the same monolingual sentences."
        )
    if table == 5:
        out.append(
            "UAS and LAS count every word, punctuation included (CoNLL 2018); decoding returns one "
            "projective tree with a single root per sentence (Eisner)."
        )
    split = ours["split"].astype(str) if "split" in ours else pd.Series("", index=ours.index)
    dev = ours[(split == "dev") & ours["method"].isin(["original", *TRANSFER_BASELINES[table]])]
    if len(dev):
        parts = []
        for method in ["original", *TRANSFER_BASELINES[table]]:
            for m, g in dev[dev["method"] == method].groupby("metric", sort=False):
                g = g.iloc[0]
                parts.append(
                    f"{method_label(method)} {m} {g['value']:.1f} "
                    f"{interval(g.get('ci_low'), g.get('ci_high'))}".rstrip()
                )
        out.append("English dev (the training language): " + "; ".join(parts) + ".")
    base_metric = "uas" if table == 5 else "accuracy"
    orig = r[(r["method"] == "original") & (r["metric"] == base_metric)].set_index("lang")
    for b in TRANSFER_BASELINES[table]:
        base = r[(r["method"] == b) & (r["metric"] == base_metric)].set_index("lang")
        both = orig.index.intersection(base.index)
        if len(both) and orig["ci_low"].notna().any():
            above = int((orig.loc[both, "ci_low"] > base.loc[both, "ci_high"]).sum())
            out.append(
                f"Original {base_metric} is above {BASELINE_LABELS[b]} (95% intervals apart) in "
                f"{above} of {len(both)} languages."
            )
    return out
