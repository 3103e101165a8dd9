"""The language-means analysis in tables: one model's section and the models side by side.

``model_section`` summarizes one model's ``means.csv`` (:mod:`langrep.analysis.means`);
``models_side_by_side`` sets the models of a run next to each other, one column per model (e5-small
beside its random control in the default run). Each is a list of blocks ``(heading, text, table)``,
``table`` a DataFrame or None, which the report's templates render.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from langrep.report.means_figures import LAYER, LID_LABELS, metric_rows
from langrep.report.paper import METHOD_LABELS, TATOEBA_PAPER_DIRECTION


def side_by_side(
    tables: Mapping[str, pd.DataFrame | None], index: Sequence[str], where: Mapping | None = None, value: str = "value"
) -> pd.DataFrame:
    """One column per model: the rows of each model's table that match ``where`` (column -> value),
    ``value`` averaged over any rows left with the same ``index``. Models whose table lacks the
    rows get an empty column, so a skipped stage shows as a gap, not as a missing column."""
    cols = {}
    for model, df in tables.items():
        if df is None or df.empty or any(c not in df for c in [*index, *(where or {}), value]):
            continue
        d = df
        for col, want in (where or {}).items():
            d = d[d[col].isin(want) if isinstance(want, (list, tuple, set)) else d[col] == want]
        if len(d):
            cols[model] = d.groupby(list(index), dropna=False)[value].mean()
    if not cols:
        return pd.DataFrame(columns=[*index, *tables])
    out = pd.concat(cols, axis=1).reindex(columns=list(tables))
    return out.reset_index()


def formatted(df: pd.DataFrame) -> pd.DataFrame:
    """A block's table as text: numbers with 4 decimals in a table of cosines, else 1; "" for none."""
    decimals = 4 if any("cosine" in str(c) for c in df.columns) else 1
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].map(lambda v: "" if pd.isna(v) else f"{v:.{decimals}f}")
    return out.fillna("")


def _common_prefixes(conv: pd.DataFrame, layer: int) -> pd.Series:
    """Median prefix cosine at ``layer`` by prefix size, over the sizes every language reaches."""
    if conv.empty or "n_tokens" not in conv:
        return pd.Series(dtype=float)
    c = conv[conv["layer"] == layer]
    counts = c.groupby("n_tokens")["lang"].nunique()
    common = counts[counts == c["lang"].nunique()].index
    return c[c["n_tokens"].isin(common)].groupby("n_tokens")["value"].median()


def models_side_by_side(
    scores: Mapping[str, Mapping[str, pd.DataFrame]], layer: int = LAYER
) -> list[tuple[str, str, pd.DataFrame | None]]:
    """The means analysis of several models side by side: ``scores`` is model -> task -> score table.
    (Tatoeba and BUCC are side by side in Tables 2-3, one column block per model.)"""
    by_task = lambda task: {m: s.get(task) for m, s in scores.items()}  # noqa: E731
    blocks = []
    lid = side_by_side(
        by_task("means"), ["split", "classifier", "method"], {"layer": layer, "metric": "lid_accuracy", "lang": "all"}
    )
    if len(lid):
        chance = side_by_side(
            by_task("means"),
            ["split", "classifier", "method"],
            {"layer": layer, "metric": "lid_accuracy", "lang": "all"},
            value="chance",
        )
        lid["chance"] = chance.drop(columns=["split", "classifier", "method"]).max(axis=1)
        lid["classifier"] = lid["classifier"].map(lambda c: LID_LABELS.get(c, c))
        blocks.append(
            (
                f"Language identification of held-out sentences (macro accuracy %), layer {layer}",
                "`chance` = 100 / the number of candidate languages.",
                lid,
            )
        )
    geo = []
    for model, s in scores.items():
        g = s.get("means")
        if g is None or g.empty:
            continue
        rel = metric_rows(g, "diff_rel_en")
        rel = rel[rel["lang"] != "en"].groupby("layer")["value"].median()
        cos = metric_rows(g, "mean_cosine")
        conv = _common_prefixes(metric_rows(g, "prefix_cosine"), layer)
        need = {th: conv[conv >= th] for th in (0.99, 0.999)}
        num = lambda v, f: "" if v is None or pd.isna(v) else f.format(v)  # noqa: E731
        geo.append(
            {
                "model": model,
                f"median cosine of two means, layer {layer}": num(
                    cos[cos["layer"] == layer]["value"].median(), "{:.3f}"
                ),
                f"median |R_L - R_en| / |R_en|, layer {layer}": num(rel.get(layer), "{:.3f}"),
                "layer where that median distance is largest": num(rel.idxmax() if len(rel) else None, "{:d}"),
                **{
                    f"tokens for a median prefix cosine >= {th:g}, layer {layer}": num(
                        int(n.index.min()) if len(n) else None, "{:,}"
                    )
                    for th, n in need.items()
                },
            }
        )
    if geo:
        blocks.append(("Language means", "", pd.DataFrame(geo).set_index("model").T.reset_index(names="measure")))
    return blocks


def model_section(df: pd.DataFrame | None, layer: int = LAYER) -> list[tuple[str, str, pd.DataFrame | None]]:
    """One model's means analysis in tables: identification by layer, convergence by prefix size."""
    if df is None or df.empty:
        return [("Language means", "No means analysis in this run.", None)]
    blocks = [
        (
            "Language means: what they say, layer by layer",
            "Held-out sentences: the last `analysis.heldout_sentences` sentences of each language's mono corpus "
            "(`mono`; the means that identification and Zero-mean use are then those of the rest of the corpus) "
            "and the first ones of each Tatoeba side (`tatoeba`; never part of the mono text). Accuracy is the "
            "macro average over languages; `chance` = 100 / the number of candidate languages. After Zero-mean, "
            "the nearest held-out mean sees only what the mono means leave of each language's offset in the "
            "held-out text; the nearest other sentence also sees identity beyond the mean.",
            None,
        )
    ]
    lid = metric_rows(df, "lid_accuracy")
    lid = lid[lid["lang"] == "all"]
    if not lid.empty:
        t = lid.pivot_table(index=["split", "classifier", "method"], columns="layer", values="value")
        t.columns = [f"l{int(c)}" for c in t.columns]
        t["chance"] = lid.groupby(["split", "classifier", "method"])["chance"].first()
        t = t.reset_index()
        t["classifier"] = t["classifier"].map(lambda c: LID_LABELS.get(c, c))
        blocks.append(("Identification of held-out sentences by language (macro accuracy %)", "", t))
    rel = metric_rows(df, "diff_rel_en")
    rel = rel[rel["lang"] != "en"]
    if not rel.empty:
        t = rel.groupby("layer")["value"].agg(["median", "min", "max"]).T.map(lambda v: f"{v:.3f}")
        t.columns = [f"l{int(c)}" for c in t.columns]
        blocks.append(
            (
                "|R_L - R_en| / |R_en| over the languages, by layer",
                "Where in the network the means lie furthest from English's.",
                t.reset_index(names=""),
            )
        )
    conv = metric_rows(df, "prefix_cosine")
    if not conv.empty:
        top = int(conv["layer"].max())
        err = metric_rows(df, "prefix_error")
        t = pd.DataFrame(
            {
                f"median cosine, l{l}": _common_prefixes(conv, l).map(lambda v: f"{v:.4f}")
                for l in sorted({0, layer, top})
            }
        )
        if not err.empty:
            t[f"median error / nearest other mean, l{layer}"] = _common_prefixes(err, layer).map(lambda v: f"{v:.3f}")
        acc = metric_rows(df, "tatoeba_accuracy")
        acc = acc[acc["direction"] == TATOEBA_PAPER_DIRECTION] if "direction" in acc else acc
        for method in ("zero_mean", "mds"):
            a = acc[acc["method"] == method]
            if not a.empty:
                part = a.dropna(subset=["n_tokens"]).groupby("n_tokens")["value"].mean()
                label = f"Tatoeba {METHOD_LABELS[method]} {TATOEBA_PAPER_DIRECTION}, l{layer}"
                t[label] = part.map(lambda v: f"{v:.1f}")
        t = t.fillna("").reset_index(names="n_tokens")
        t["n_tokens"] = t["n_tokens"].map(lambda n: f"{int(n):,}")
        total = conv.groupby("lang")["n_tokens"].max()
        text = (
            "Cosine between the mean of the first n tokens of the mono corpus and the mean of all of it (median "
            f"over languages; the corpora have {int(total.min()):,}-{int(total.max()):,} tokens); the distance "
            "between the two relative to the distance from the mean of all of it to the nearest other language's "
            "mean (below 1: nearer its own language than any other language is); and Tatoeba accuracy (mean over "
            "languages) when both sides' means come from the first n tokens."
        )
        if not acc.empty:
            full = acc[acc["n_tokens"].isna()].groupby("method")["value"].mean()
            text += " With all tokens: " + ", ".join(f"{METHOD_LABELS[m]} {v:.1f}" for m, v in full.items()) + "."
        blocks.append(("How much text a mean needs", text, t))
    return blocks
