"""The figures of the language-means analysis (one model's ``means.csv``, :mod:`langrep.analysis.means`).

Every figure is written even when the table cannot fill it: the file then says why (as
:mod:`langrep.report.figures` does), so the workflow's declared outputs always exist.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from langrep.analysis.means import cluster_order
from langrep.report import figures
from langrep.report.paper import METHOD_LABELS, TATOEBA_PAPER_DIRECTION
from langrep.settings import RetrievalSettings

# the layer of the paper's tables by default (config retrieval.layer)
LAYER = RetrievalSettings.defaults().layer

FIGURES = {
    "means_cosine.png": "Cosine similarity between language means at the retrieval layer (clustered order)",
    "means_pca.png": "The language means on their first two principal components",
    "means_distance.png": "Distance of each language mean from English's, relative to |R_en|, by layer",
    "means_identification.png": "Identification of held-out sentences by language, by layer (dotted: chance)",
    "means_convergence.png": "How much text a mean needs: prefix means against the mean of all tokens",
}
LID_LABELS = {
    "means": "nearest language mean",
    "heldout_means": "nearest held-out mean (2-fold)",
    "nearest_neighbour": "nearest other sentence",
}


def metric_rows(df: pd.DataFrame | None, metric: str) -> pd.DataFrame:
    """The rows of ``df`` with ``metric`` (an empty frame for no data)."""
    if df is None or df.empty or "metric" not in df:
        return pd.DataFrame(columns=["lang", "layer", "method", "split", "metric", "value"])
    return df[df["metric"] == metric]


def write_figures(model: str, df: pd.DataFrame | None, out_dir, layer: int = LAYER) -> dict[str, Path]:
    """The five figures of one model's ``means.csv`` under ``out_dir``: ``{model}/{name}`` -> path.
    A figure without data says why (as :mod:`langrep.report.figures` does)."""
    out_dir = Path(out_dir)
    paths = {name: out_dir / name for name in FIGURES}
    for name, draw in FIGURE_MAKERS.items():
        draw(df, paths[name], f"{model}: {FIGURES[name]}", model, layer)
    return {f"{model}/{name}": p for name, p in paths.items()}


def _cosine_figure(df, path: Path, title: str, model: str, layer: int) -> None:
    """The cosine similarity of every two language means at ``layer``, in clustered order."""
    import matplotlib.pyplot as plt

    cos = metric_rows(df, "mean_cosine")
    cos = cos[cos["layer"] == layer]
    if cos.empty:
        figures.message(path, title, f"no means at layer {layer}")
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
        figures.save(fig, path)


def _pca_figure(df, path: Path, title: str, model: str, layer: int) -> None:
    """The means on their first two principal components at the first, the table and the last layer."""

    pca = metric_rows(df, "pca_1").merge(metric_rows(df, "pca_2"), on=["lang", "layer"], suffixes=("_1", "_2"))
    if pca.empty:
        figures.message(path, title, "no PCA coordinates")
    else:
        shown = sorted({int(pca["layer"].min()), int(layer), int(pca["layer"].max())} & set(pca["layer"].astype(int)))
        fig, axes = figures.grid(len(shown), max_cols=3, size=(3.6, 3.2))
        for ax, l in zip(axes, shown):
            d = pca[pca["layer"] == l]
            ax.scatter(d["value_1"], d["value_2"], s=12)
            for r in d.itertuples(index=False):
                ax.annotate(r.lang, (r.value_1, r.value_2), fontsize=7)
            ax.set_title(f"layer {l}")
            ax.set_xlabel("PC 1")
            ax.set_ylabel("PC 2")
        fig.suptitle(title)
        figures.save(fig, path)


def _distance_figure(df, path: Path, title: str, model: str, layer: int) -> None:
    """Each language mean's distance from English, relative to English's norm, per layer."""
    import matplotlib.pyplot as plt

    dist = metric_rows(df, "diff_rel_en")
    dist = dist[dist["lang"] != "en"]
    if dist.empty:
        figures.message(path, title, "no English mean in the run")
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
        ax.set_title(title, fontsize=9)
        figures.save(fig, path)


def _identification_figure(df, path: Path, title: str, model: str, layer: int) -> None:
    """Language identification accuracy per layer, before and after Zero-mean."""

    lid = metric_rows(df, "lid_accuracy")
    lid = lid[lid["lang"] == "all"]
    if lid.empty:
        figures.message(path, title, "no held-out sentences")
    else:
        splits = sorted(lid["split"].unique())
        fig, axes = figures.grid(len(splits), max_cols=2, size=(4.6, 3.2))
        for ax, split in zip(axes, splits):
            d = lid[lid["split"] == split]
            for (clf, method), g in d.groupby(["classifier", "method"]):
                g = g.sort_values("layer")
                ax.plot(
                    g["layer"],
                    g["value"],
                    marker="o",
                    ms=2,
                    ls="-" if method == "original" else "--",
                    label=f"{LID_LABELS.get(clf, clf)}, {METHOD_LABELS.get(method, method)}",
                )
            for chance in sorted(d["chance"].unique()):
                ax.axhline(chance, ls=":", c="grey")
            ax.set_ylim(0, 102)
            ax.set_title(f"held out: {split}")
            ax.set_xlabel("layer")
            ax.set_ylabel("macro accuracy (%)")
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=6)
        fig.suptitle(title)
        figures.save(fig, path)


def _convergence_figure(df, path: Path, title: str, model: str, layer: int) -> None:
    """How the mean of a prefix of the text converges, and Tatoeba from prefix means."""
    import matplotlib.pyplot as plt

    conv = metric_rows(df, "prefix_cosine")
    acc = metric_rows(df, "tatoeba_accuracy")
    if conv.empty:
        figures.message(
            path,
            title,
            "no prefix means (extraction.pool_mono is false)",
        )
    else:
        fig, axes = figures.grid(3, max_cols=3, size=(4.2, 3.4))
        err = metric_rows(df, "prefix_error")
        for ax, (d, ylabel) in zip(
            axes, ((conv, "cosine with the mean of all tokens"), (err, "distance / distance to the nearest other mean"))
        ):
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
        a = acc[acc["direction"] == TATOEBA_PAPER_DIRECTION] if "direction" in acc else acc
        if a.empty:
            axes[1].axis("off")
        else:
            full = a[a["n_tokens"].isna()].groupby("method")["value"].mean()
            part = a.dropna(subset=["n_tokens"]).groupby(["method", "n_tokens"])["value"].mean().reset_index()
            for method, g in part.groupby("method"):
                (line,) = axes[1].plot(
                    g["n_tokens"], g["value"], marker="o", ms=3, label=METHOD_LABELS.get(method, method)
                )
                if method in full:
                    axes[1].axhline(full[method], ls=":", c=line.get_color())
            axes[1].set_xscale("log")
            axes[1].set_xlabel("tokens per language behind each mean")
            axes[1].set_ylabel(f"Tatoeba accuracy, {TATOEBA_PAPER_DIRECTION} (%)")
            axes[1].set_title(f"layer {layer}, mean over languages (dotted: all tokens)", fontsize=8)
            axes[1].legend(fontsize=7)
            axes[1].grid(alpha=0.3)
        fig.suptitle(title)
        figures.save(fig, path)


FIGURE_MAKERS = {
    "means_cosine.png": _cosine_figure,
    "means_pca.png": _pca_figure,
    "means_distance.png": _distance_figure,
    "means_identification.png": _identification_figure,
    "means_convergence.png": _convergence_figure,
}
