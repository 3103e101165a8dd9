"""Figures of the report (matplotlib, Agg backend): PNG files, one per task and metric.

Every function writes its file even when the data cannot fill the plot (e.g. a single layer for
a heat map): the file then says why, so a workflow that declared the figure as an output never
fails on an odd score table.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: cluster nodes and CI have no display
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from langrep.io import atomic_write  # noqa: E402
from langrep.report.paper import METHOD_LABELS, METHOD_ORDER  # noqa: E402


def save(fig, path) -> Path:
    """Save ``fig`` as a PNG at ``path`` (atomically), close it and return the path."""
    path = Path(path)
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def message(path, title: str, text: str) -> Path:
    """A PNG at ``path`` with only a title and a text: the figure that says why there is no plot."""
    fig, ax = plt.subplots(figsize=(6, 1.8))
    ax.axis("off")
    ax.set_title(title)
    ax.text(0.5, 0.4, text, ha="center", va="center", wrap=True)
    return save(fig, path)


def grid(n: int, max_cols: int = 4, size=(3.4, 2.8)):
    """A figure with ``n`` axes in rows of at most ``max_cols`` (the spare ones hidden), and the axes."""
    cols = min(max_cols, max(n, 1))
    rows = math.ceil(max(n, 1) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False, layout="constrained")
    for ax in axes.flat[n:]:
        ax.axis("off")
    return fig, axes.flat


def translation_heatmaps(df: pd.DataFrame | None, metric: str, path, title: str) -> Path:
    """Layer x alpha heat map of ``metric`` for every ``src-tgt`` pair (the paper's Figures 1-2)."""
    d = None if df is None else df[df["metric"] == metric].dropna(subset=["layer", "alpha"])
    if d is None or d.empty:
        return message(path, title, f"no {metric} scores with a layer and an alpha")
    pairs = sorted(d["lang"].unique())
    fig, axes = grid(len(pairs))
    for ax, pair in zip(axes, pairs):
        p = d[d["lang"] == pair].pivot_table(index="layer", columns="alpha", values="value", aggfunc="mean")
        p = p.sort_index(ascending=False)
        vals = p.to_numpy(dtype=float)
        im = ax.imshow(vals, aspect="auto", cmap="viridis")
        if vals.size <= 120:  # the numbers themselves, while they stay legible
            for (i, j), v in np.ndenumerate(vals):
                if not np.isnan(v):
                    ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6, color="w")
        ax.set_xticks(range(p.shape[1]), [f"{a:g}" for a in p.columns])
        ax.set_yticks(range(p.shape[0]), [f"{int(v)}" for v in p.index])
        ax.set_xlabel("alpha")
        ax.set_ylabel("layer")
        ax.set_title(pair.replace("-", "→"))
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(title)
    return save(fig, path)


def layer_curves(df: pd.DataFrame | None, metric: str, path, title: str, mark_layer: int | None = None) -> Path:
    """Score against layer for Original / Zero-mean / MDS, one panel per language (and direction);
    ``mark_layer`` (the paper's layer) is drawn as a dotted line."""
    d = None if df is None else df[df["metric"] == metric].dropna(subset=["layer"])
    if d is None or d.empty:
        return message(path, title, f"no {metric} scores per layer")
    key = ["lang"] + [c for c in ("direction", "split") if c in d and d[c].nunique() > 1]
    panels = sorted(d.groupby(key).groups)
    fig, axes = grid(len(panels))
    for ax, panel in zip(axes, panels):
        panel = panel if isinstance(panel, tuple) else (panel,)
        sub = d
        for k, v in zip(key, panel):
            sub = sub[sub[k] == v]
        for m in METHOD_ORDER + sorted(set(sub["method"]) - set(METHOD_ORDER)):
            s = sub[sub["method"] == m].groupby("layer")["value"].mean().sort_index()
            if not s.empty:
                ax.plot(s.index, s.to_numpy(), marker="o", ms=3, label=METHOD_LABELS.get(m, m))
        ax.set_title(" ".join(str(v) for v in panel))
        if mark_layer is not None:
            ax.axvline(mark_layer, ls=":", c="grey")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_xlabel("layer")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    return save(fig, path)


def language_bars(
    df: pd.DataFrame | None, metric: str, path, title: str, reference: pd.DataFrame | None = None
) -> Path:
    """Grouped bars: one group per language, one bar per method. ``reference`` (columns lang,
    method, value: the paper's numbers) is drawn as a black tick on the matching bar. Rows with
    ``ci_low``/``ci_high`` (the transfer tasks' 95% bootstrap intervals) get error bars."""
    d = None if df is None else df[df["metric"] == metric]
    if d is None or d.empty:
        return message(path, title, f"no {metric} scores")
    p = d.pivot_table(index="lang", columns="method", values="value", aggfunc="mean")
    has_ci = {"ci_low", "ci_high"} <= set(d.columns) and d["ci_low"].notna().any()
    if has_ci:
        lo = d.pivot_table(index="lang", columns="method", values="ci_low", aggfunc="mean").reindex_like(p)
        hi = d.pivot_table(index="lang", columns="method", values="ci_high", aggfunc="mean").reindex_like(p)
    methods = [m for m in METHOD_ORDER if m in p.columns] + sorted(set(p.columns) - set(METHOD_ORDER))
    x = np.arange(len(p.index))
    w = 0.8 / max(len(methods), 1)
    fig, ax = plt.subplots(figsize=(max(5, 0.7 * len(p.index) + 2), 3.2), layout="constrained")
    for i, m in enumerate(methods):
        xs = x + (i - (len(methods) - 1) / 2) * w
        v = p[m].to_numpy(dtype=float)
        err = None
        if has_ci:
            err = np.vstack([v - lo[m].to_numpy(dtype=float), hi[m].to_numpy(dtype=float) - v])
            err = np.where(np.isnan(err), 0.0, err)
        ax.bar(xs, v, w, label=METHOD_LABELS.get(m, m), yerr=err, error_kw={"elinewidth": 0.6, "capsize": 1})
        if reference is not None and not reference.empty:
            ref = reference[reference["method"] == m].set_index("lang")["value"].reindex(p.index)
            ax.scatter(
                xs, ref.to_numpy(dtype=float), marker="_", s=120, c="k", zorder=3, label="paper" if i == 0 else None
            )
    ax.set_xticks(x, list(p.index))
    ax.set_ylabel(metric)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title)
    return save(fig, path)
