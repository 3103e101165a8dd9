"""The report's language-means section and its figures, and the models-side-by-side tables.

``write_figures`` draws the figures of one model's ``means.csv`` (:mod:`langrep.means_analysis`);
``model_section`` summarises it in tables; ``side_by_side`` sets the models of a run next to each
other, one column per model (e5-small beside its random control in the default run). Each table is
a DataFrame; :func:`markdown` and :func:`html` render a list of ``(heading, text, table)`` blocks.
"""
from __future__ import annotations

import html as _html
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from langrep import figures
from langrep.means_analysis import cluster_order

FIGURES = {
    "means_cosine.png": "Cosine similarity between language means at the retrieval layer (clustered order)",
    "means_pca.png": "The language means on their first two principal components",
    "means_distance.png": "Distance of each language mean from English's, relative to |R_en|, by layer",
    "means_identification.png": "Identification of held-out sentences by language, by layer (dotted: chance)",
    "means_convergence.png": "How much text a mean needs: prefix means against the mean of all tokens",
}
LID_LABELS = {"means": "nearest language mean", "heldout_means": "nearest held-out mean (2-fold)",
              "nearest_neighbour": "nearest other sentence"}


def _metric(df: pd.DataFrame | None, metric: str) -> pd.DataFrame:
    if df is None or df.empty or "metric" not in df:
        return pd.DataFrame(columns=["lang", "layer", "method", "split", "metric", "value"])
    return df[df["metric"] == metric]


# ----------------------------------------------------------------------------------------------
# Figures


def write_figures(model: str, df: pd.DataFrame | None, out_dir, layer: int = 8) -> dict[str, Path]:
    """The five figures of one model's ``means.csv`` under ``out_dir``: ``{model}/{name}`` -> path.
    A figure without data says why (as :mod:`langrep.figures` does)."""
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    paths = {name: out_dir / name for name in FIGURES}
    title = {name: f"{model}: {t}" for name, t in FIGURES.items()}

    cos = _metric(df, "mean_cosine")
    cos = cos[cos["layer"] == layer]
    if cos.empty:
        figures._message(paths["means_cosine.png"], title["means_cosine.png"], f"no means at layer {layer}")
    else:
        pairs = cos["lang"].str.split("-", n=1, expand=True)
        langs = sorted(set(pairs[0]) | set(pairs[1]))
        sim = pd.DataFrame(np.eye(len(langs)), index=langs, columns=langs)
        for (a, b), v in zip(pairs.itertuples(index=False), cos["value"]):
            sim.loc[a, b] = sim.loc[b, a] = v
        order = [langs[i] for i in cluster_order(sim.to_numpy())]
        sim = sim.loc[order, order]
        fig, ax = plt.subplots(figsize=(0.45 * len(langs) + 2, 0.45 * len(langs) + 1.5), layout="constrained")
        im = ax.imshow(sim.to_numpy(), cmap="viridis")
        ax.set_xticks(range(len(order)), order, rotation=90)
        ax.set_yticks(range(len(order)), order)
        fig.colorbar(im, ax=ax, fraction=0.046)
        ax.set_title(f"{model}: cosine similarity between language means, layer {layer} (clustered order)", fontsize=9)
        figures._save(fig, paths["means_cosine.png"])

    pca = _metric(df, "pca_1").merge(_metric(df, "pca_2"), on=["lang", "layer"], suffixes=("_1", "_2"))
    if pca.empty:
        figures._message(paths["means_pca.png"], title["means_pca.png"], "no PCA coordinates")
    else:
        shown = sorted({int(pca["layer"].min()), int(layer), int(pca["layer"].max())} & set(pca["layer"].astype(int)))
        fig, axes = figures._grid(len(shown), max_cols=3, size=(3.6, 3.2))
        for ax, l in zip(axes, shown):
            d = pca[pca["layer"] == l]
            ax.scatter(d["value_1"], d["value_2"], s=12)
            for r in d.itertuples(index=False):
                ax.annotate(r.lang, (r.value_1, r.value_2), fontsize=7)
            ax.set_title(f"layer {l}")
            ax.set_xlabel("PC 1")
            ax.set_ylabel("PC 2")
        fig.suptitle(title["means_pca.png"])
        figures._save(fig, paths["means_pca.png"])

    dist = _metric(df, "diff_rel_en")
    dist = dist[dist["lang"] != "en"]
    if dist.empty:
        figures._message(paths["means_distance.png"], title["means_distance.png"], "no English mean in the run")
    else:
        fig, ax = plt.subplots(figsize=(6, 3.4), layout="constrained")
        ax.set_prop_cycle(color=plt.cm.tab20.colors)  # one colour per language for up to 20
        for lang, g in dist.groupby("lang"):
            g = g.sort_values("layer")
            ax.plot(g["layer"], g["value"], marker="o", ms=2, lw=1, label=lang)
        ax.set_xlabel("layer")
        ax.set_ylabel("|R_L - R_en| / |R_en|")
        ax.legend(fontsize=6, ncol=2)
        ax.grid(alpha=0.3)
        ax.set_title(title["means_distance.png"], fontsize=9)
        figures._save(fig, paths["means_distance.png"])

    lid = _metric(df, "lid_accuracy")
    lid = lid[lid["lang"] == "all"]
    if lid.empty:
        figures._message(paths["means_identification.png"], title["means_identification.png"], "no held-out sentences")
    else:
        splits = sorted(lid["split"].unique())
        fig, axes = figures._grid(len(splits), max_cols=2, size=(4.6, 3.2))
        for ax, split in zip(axes, splits):
            d = lid[lid["split"] == split]
            for (clf, method), g in d.groupby(["classifier", "method"]):
                g = g.sort_values("layer")
                ax.plot(g["layer"], g["value"], marker="o", ms=2, ls="-" if method == "original" else "--",
                        label=f"{LID_LABELS.get(clf, clf)}, {figures.METHOD_LABELS.get(method, method)}")
            for chance in sorted(d["chance"].unique()):
                ax.axhline(chance, ls=":", c="grey")
            ax.set_ylim(0, 102)
            ax.set_title(f"held out: {split}")
            ax.set_xlabel("layer")
            ax.set_ylabel("macro accuracy (%)")
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=6)
        fig.suptitle(title["means_identification.png"])
        figures._save(fig, paths["means_identification.png"])

    conv = _metric(df, "prefix_cosine")
    acc = _metric(df, "tatoeba_accuracy")
    if conv.empty:
        figures._message(paths["means_convergence.png"], title["means_convergence.png"],
                         "no prefix means (extraction.pool_mono is false)")
    else:
        fig, axes = figures._grid(3, max_cols=3, size=(4.2, 3.4))
        err = _metric(df, "prefix_error")
        for ax, (d, ylabel) in zip(axes, ((conv, "cosine with the mean of all tokens"),
                                          (err, "distance / distance to the nearest other mean"))):
            d = d[d["layer"] == layer]
            ax.set_prop_cycle(color=plt.cm.tab20.colors)
            for lang, g in d.groupby("lang"):
                g = g.sort_values("n_tokens")
                ax.plot(g["n_tokens_used"], g["value"], marker="o", ms=2, lw=1, label=lang)
            ax.set_xscale("log")
            ax.set_xlabel("tokens behind the mean")
            ax.set_ylabel(ylabel, fontsize=8)
            ax.set_title(f"layer {layer}")
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=6, ncol=2)
        axes = [axes[0], axes[2]]
        a = acc[acc["direction"] == "xx-en"] if "direction" in acc else acc
        if a.empty:
            axes[1].axis("off")
        else:
            full = a[a["n_tokens"].isna()].groupby("method")["value"].mean()
            part = a.dropna(subset=["n_tokens"]).groupby(["method", "n_tokens"])["value"].mean().reset_index()
            for method, g in part.groupby("method"):
                line, = axes[1].plot(g["n_tokens"], g["value"], marker="o", ms=3,
                                     label=figures.METHOD_LABELS.get(method, method))
                if method in full:
                    axes[1].axhline(full[method], ls=":", c=line.get_color())
            axes[1].set_xscale("log")
            axes[1].set_xlabel("tokens per language behind each mean")
            axes[1].set_ylabel("Tatoeba accuracy, xx-en (%)")
            axes[1].set_title(f"layer {layer}, mean over languages (dotted: all tokens)", fontsize=8)
            axes[1].legend(fontsize=7)
            axes[1].grid(alpha=0.3)
        fig.suptitle(title["means_convergence.png"])
        figures._save(fig, paths["means_convergence.png"])
    return {f"{model}/{name}": p for name, p in paths.items()}


# ----------------------------------------------------------------------------------------------
# Tables


def side_by_side(tables: Mapping[str, pd.DataFrame | None], index: Sequence[str], where: Mapping | None = None,
                 value: str = "value") -> pd.DataFrame:
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


def _fmt(df: pd.DataFrame, decimals: int = 1) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].map(lambda v: "" if pd.isna(v) else f"{v:.{decimals}f}")
    return out


def _common_prefixes(conv: pd.DataFrame, layer: int) -> pd.Series:
    """Median prefix cosine at ``layer`` by prefix size, over the sizes every language reaches."""
    if conv.empty or "n_tokens" not in conv:
        return pd.Series(dtype=float)
    c = conv[conv["layer"] == layer]
    counts = c.groupby("n_tokens")["lang"].nunique()
    common = counts[counts == c["lang"].nunique()].index
    return c[c["n_tokens"].isin(common)].groupby("n_tokens")["value"].median()


def models_side_by_side(scores: Mapping[str, Mapping[str, pd.DataFrame]], layer: int = 8,
                        skipped: Mapping[str, Sequence[str]] | None = None) -> list[tuple[str, str, pd.DataFrame | None]]:
    """The report's side-by-side blocks: ``scores`` is model -> task -> score table."""
    by_task = lambda task: {m: s.get(task) for m, s in scores.items()}  # noqa: E731
    blocks = []
    if skipped and any(skipped.values()):
        text = "; ".join(f"`{m}` skips {', '.join(s)}" for m, s in skipped.items() if s)
        blocks.append(("Stages skipped by the config", f"{text} (`models.<key>.stages`): translation and "
                       "transfer need a head trained on the model (an MLM head, a tagger or parser), which a "
                       "random-weight control does not get.", None))
    tat = side_by_side(by_task("tatoeba"), ["lang", "method"],
                       {"layer": layer, "direction": "xx-en", "means": "eval", "metric": "accuracy"})
    if len(tat):
        # one row per language, one column per model and method
        wide = tat.set_index(["lang", "method"]).unstack("method")
        methods = [m for m in figures.METHOD_ORDER if m in wide.columns.get_level_values(1)]
        wide = wide.reindex(columns=pd.MultiIndex.from_product([list(scores), methods]))
        wide.loc["avg"] = wide.mean()
        wide.columns = [f"{model} {figures.METHOD_LABELS.get(m, m)}" for model, m in wide.columns]
        blocks.append((f"Tatoeba accuracy (%), layer {layer}, xx-en, means of the evaluation set", "",
                       wide.reset_index(names="lang")))
    bucc = side_by_side(by_task("bucc"), ["lang", "split", "method"],
                        {"layer": layer, "metric": "f1", "means": "eval"})
    if len(bucc):
        blocks.append((f"BUCC 2018 F1 (%), layer {layer}", "", bucc))
    lid = side_by_side(by_task("means"), ["split", "classifier", "method"],
                       {"layer": layer, "metric": "lid_accuracy", "lang": "all"})
    if len(lid):
        chance = side_by_side(by_task("means"), ["split", "classifier", "method"],
                              {"layer": layer, "metric": "lid_accuracy", "lang": "all"}, value="chance")
        lid["chance"] = chance.drop(columns=["split", "classifier", "method"]).max(axis=1)
        lid["classifier"] = lid["classifier"].map(lambda c: LID_LABELS.get(c, c))
        blocks.append((f"Language identification of held-out sentences (macro accuracy %), layer {layer}",
                       "`chance` = 100 / the number of candidate languages.", lid))
    geo = []
    for model, s in scores.items():
        g = s.get("means")
        if g is None or g.empty:
            continue
        rel = _metric(g, "diff_rel_en")
        rel = rel[rel["lang"] != "en"].groupby("layer")["value"].median()
        cos = _metric(g, "mean_cosine")
        conv = _common_prefixes(_metric(g, "prefix_cosine"), layer)
        need = {th: conv[conv >= th] for th in (0.99, 0.999)}
        num = lambda v, f: "" if v is None or pd.isna(v) else f.format(v)  # noqa: E731
        geo.append({"model": model,
                    f"median cosine of two means, layer {layer}": num(cos[cos["layer"] == layer]["value"].median(), "{:.3f}"),
                    f"median |R_L - R_en| / |R_en|, layer {layer}": num(rel.get(layer), "{:.3f}"),
                    "layer where that median distance is largest": num(rel.idxmax() if len(rel) else None, "{:d}"),
                    **{f"tokens for a median prefix cosine >= {th:g}, layer {layer}":
                       num(int(n.index.min()) if len(n) else None, "{:,}") for th, n in need.items()}})
    if geo:
        blocks.append(("Language means", "", pd.DataFrame(geo).set_index("model").T.reset_index(names="measure")))
    return blocks


def model_section(df: pd.DataFrame | None, layer: int = 8) -> list[tuple[str, str, pd.DataFrame | None]]:
    """One model's means analysis in tables: identification by layer, convergence by prefix size."""
    if df is None or df.empty:
        return [("Language means", "No means analysis in this run.", None)]
    blocks = [("Language means: what they say, layer by layer",
               "Held-out sentences: the last `analysis.heldout_sentences` sentences of each language's mono corpus "
               "(`mono`; the means that identification and Zero-mean use are then those of the rest of the corpus) "
               "and the first ones of each Tatoeba side (`tatoeba`; never part of the mono text). Accuracy is the "
               "macro average over languages; `chance` = 100 / the number of candidate languages. After Zero-mean, "
               "the nearest held-out mean sees only what the mono means leave of each language's offset in the "
               "held-out text; the nearest other sentence also sees identity beyond the mean.", None)]
    lid = _metric(df, "lid_accuracy")
    lid = lid[lid["lang"] == "all"]
    if not lid.empty:
        t = lid.pivot_table(index=["split", "classifier", "method"], columns="layer", values="value")
        t.columns = [f"l{int(c)}" for c in t.columns]
        t["chance"] = lid.groupby(["split", "classifier", "method"])["chance"].first()
        t = t.reset_index()
        t["classifier"] = t["classifier"].map(lambda c: LID_LABELS.get(c, c))
        blocks.append(("Identification of held-out sentences by language (macro accuracy %)", "", t))
    rel = _metric(df, "diff_rel_en")
    rel = rel[rel["lang"] != "en"]
    if not rel.empty:
        t = rel.groupby("layer")["value"].agg(["median", "min", "max"]).T.map(lambda v: f"{v:.3f}")
        t.columns = [f"l{int(c)}" for c in t.columns]
        blocks.append(("|R_L - R_en| / |R_en| over the languages, by layer",
                       "Where in the network the means lie furthest from English's.", t.reset_index(names="")))
    conv = _metric(df, "prefix_cosine")
    if not conv.empty:
        top = int(conv["layer"].max())
        err = _metric(df, "prefix_error")
        t = pd.DataFrame({f"median cosine, l{l}": _common_prefixes(conv, l).map(lambda v: f"{v:.4f}")
                          for l in sorted({0, layer, top})})
        if not err.empty:
            t[f"median error / nearest other mean, l{layer}"] = _common_prefixes(err, layer).map(lambda v: f"{v:.3f}")
        acc = _metric(df, "tatoeba_accuracy")
        acc = acc[acc["direction"] == "xx-en"] if "direction" in acc else acc
        for method in ("zero_mean", "mds"):
            a = acc[acc["method"] == method]
            if not a.empty:
                part = a.dropna(subset=["n_tokens"]).groupby("n_tokens")["value"].mean()
                t[f"Tatoeba {figures.METHOD_LABELS[method]} xx-en, l{layer}"] = part.map(lambda v: f"{v:.1f}")
        t = t.fillna("").reset_index(names="n_tokens")
        t["n_tokens"] = t["n_tokens"].map(lambda n: f"{int(n):,}")
        total = conv.groupby("lang")["n_tokens"].max()
        text = ("Cosine between the mean of the first n tokens of the mono corpus and the mean of all of it (median "
                f"over languages; the corpora have {int(total.min()):,}-{int(total.max()):,} tokens); the distance "
                "between the two relative to the distance from the mean of all of it to the nearest other language's "
                "mean (below 1: nearer its own language than any other language is); and Tatoeba accuracy (mean over "
                "languages) when both sides' means come from the first n tokens.")
        if not acc.empty:
            full = acc[acc["n_tokens"].isna()].groupby("method")["value"].mean()
            text += " With all tokens: " + ", ".join(f"{figures.METHOD_LABELS[m]} {v:.1f}" for m, v in full.items()) + "."
        blocks.append(("How much text a mean needs", text, t))
    return blocks


# ----------------------------------------------------------------------------------------------
# Rendering


def _decimals(table: pd.DataFrame) -> int:
    return 4 if any("cosine" in str(c) for c in table.columns) else 1


def markdown(blocks, level: int = 3) -> str:
    out = []
    for heading, text, table in blocks:
        out.append(f"{'#' * level} {heading}\n")
        if text:
            out.append(text + "\n")
        if table is not None and len(table):
            t = _fmt(table, _decimals(table)).fillna("")
            cell = lambda v: str(v).replace("|", "\\|")  # noqa: E731  (a bare | would end the cell)
            out.append("| " + " | ".join(map(cell, t.columns)) + " |")
            out.append("|" + "---|" * len(t.columns))
            out += ["| " + " | ".join(map(cell, r)) + " |" for r in t.itertuples(index=False)]
            out.append("")
    return "\n".join(out)


def html(blocks, level: int = 3) -> str:
    out = []
    for heading, text, table in blocks:
        out.append(f"<h{level}>{_html.escape(heading)}</h{level}>")
        if text:
            out.append(f"<p>{_html.escape(text).replace('`', '')}</p>")
        if table is not None and len(table):
            t = _fmt(table, _decimals(table)).fillna("")
            out.append(t.to_html(index=False, escape=True, border=0))
    return "\n".join(out)
