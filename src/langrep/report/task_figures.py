"""Which figures each task gets, the rows each one shows, and their captions.

Figure names are fixed (the workflow declares them as outputs, from :data:`FIGURES`); each has a
caption, the text of ``workflow/report/{caption}.rst`` (the same text Snakemake's own report shows),
given to :func:`captions_from` by the report rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from langrep.report import figures, means_figures
from langrep.report.compare import target_layer
from langrep.report.notes import prefer
from langrep.report.run import ModelRun


@dataclass(frozen=True)
class FigureSpec:
    """One report figure: its task, kind of plot, metric, title and caption file."""

    task: str
    kind: str  # heatmap | curves | bars | means
    metric: str
    title: str
    caption: str  # the stem of its caption file, workflow/report/{caption}.rst


FIGURES = {
    "translation_bleu1.png": FigureSpec(
        "translation", "heatmap", "bleu1", "BLEU-1 by layer and alpha (MDS)", "translation_heatmap"
    ),
    "translation_convert_rate.png": FigureSpec(
        "translation", "heatmap", "convert_rate", "Convert rate (%) by layer and alpha (MDS)", "translation_heatmap"
    ),
    "tatoeba_layers.png": FigureSpec(
        "tatoeba", "curves", "accuracy", "Tatoeba accuracy (%) by layer", "retrieval_layers"
    ),
    "bucc_layers.png": FigureSpec("bucc", "curves", "f1", "BUCC F1 (%) by layer", "retrieval_layers"),
    "pos_bars.png": FigureSpec("pos", "bars", "accuracy", "POS accuracy (%) per language", "transfer_bars"),
    "parsing_las.png": FigureSpec("parsing", "bars", "las", "Parsing LAS (%) per language", "transfer_bars"),
    "parsing_uas.png": FigureSpec("parsing", "bars", "uas", "Parsing UAS (%) per language", "transfer_bars"),
    **{
        name: FigureSpec("means", "means", "", title, name.removesuffix(".png"))
        for name, title in means_figures.FIGURES.items()
    },
}


def figure_names(task: str) -> list[str]:
    """File names of the figures written for ``task`` (empty when it has none)."""
    return [name for name, f in FIGURES.items() if f.task == task]


def caption_files() -> list[str]:
    """The caption stems the figures use (one file each under workflow/report/)."""
    return sorted({f.caption for f in FIGURES.values()})


_RST_LITERAL = re.compile(r"``([^`]+)``")
_RST_STRONG = re.compile(r"\*\*([^*]+)\*\*")


def rst_text(text: str) -> str:
    """A caption's reStructuredText in the report's inline Markdown (``x`` -> `x`, **x** -> *x*),
    one paragraph per blank line."""
    text = _RST_STRONG.sub(r"*\1*", _RST_LITERAL.sub(r"`\1`", text))
    return "\n\n".join(" ".join(p.split()) for p in text.strip().split("\n\n"))


def captions_from(files: Iterable) -> dict[str, str]:
    """``{stem: plain text}`` of the caption files named."""
    return {Path(f).stem: rst_text(Path(f).read_text(encoding="utf-8")) for f in files}


def _selected(run: ModelRun, task: str) -> pd.DataFrame | None:
    """The rows a figure shows: MDS only for translation, one head/means/direction as in the tables."""
    df = run.scores.get(task)
    if df is None or df.empty:
        return df
    notes: set = set()
    if task == "translation":
        df = df[df["method"] == "mds"] if (df["method"] == "mds").any() else df
        df = prefer(df, "head", "pretrained", notes, "")
    return prefer(df, "means", "eval", notes, "")


def lines_note(df: pd.DataFrame | None) -> str:
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


def _bars_rows(df: pd.DataFrame, metric: str, task: str, n_layers) -> pd.DataFrame:
    """Test split, alpha 1 for MDS and one layer per method, as in the comparison tables."""
    df = df[df["metric"] == metric]
    if "split" in df and (df["split"] == "test").any():
        df = df[df["split"] == "test"]
    if "alpha" in df:
        df = df[df["alpha"].isna() | np.isclose(df["alpha"].astype(float), 1.0)]
    parts = []
    for _, g in df.groupby("method", dropna=False):
        lay = target_layer(g, "last" if task == "parsing" else "", n_layers)
        parts.append(g if lay is None else g[g["layer"] == lay])
    return pd.concat(parts) if parts else df.iloc[0:0]


def write_figures(
    run: ModelRun, out_dir, paper: pd.DataFrame | None = None, layer: int = means_figures.LAYER
) -> dict[str, Path]:
    """All figures for the tasks ``run`` has score tables for: ``{"{model}/{name}": path}`` under
    ``{out_dir}/{model}/``."""
    out = {}
    for task in run.scores:
        if task == "means":  # the means analysis draws its own figures
            out.update(means_figures.write_figures(run.key, run.scores[task], Path(out_dir) / run.key, layer))
            continue
        for name in figure_names(task):
            spec, df = FIGURES[name], _selected(run, task)
            path = Path(out_dir) / run.key / name
            title = f"{run.key}: {spec.title}"
            if spec.kind == "heatmap":
                figures.translation_heatmaps(df, spec.metric, path, title + lines_note(df))
            elif spec.kind == "curves":
                figures.layer_curves(df, spec.metric, path, title + " (dotted: the paper's layer 8)", mark_layer=8)
            else:
                if df is not None and not df.empty:
                    df = _bars_rows(df, spec.metric, task, run.n_layers)
                ref = None
                if paper is not None:
                    ref = paper[(paper["task"] == task) & (paper["metric"] == spec.metric) & (paper["lang"] != "avg")]
                    ref = ref.assign(value=ref["value"].astype(float))[["lang", "method", "value"]]
                ticks = " (black ticks: the paper)" if ref is not None and len(ref) else ""
                figures.language_bars(df, spec.metric, path, title + ticks, ref)
            out[f"{run.key}/{name}"] = path
    return out


def figure_list(paths: Mapping[str, Path], captions: Mapping[str, str]) -> list[dict]:
    """The figures of one model as the renderers want them: name, path, task and caption (the
    caption file's text; the figure's title when the caption file was not given)."""
    out = []
    for key, path in paths.items():
        name = key.split("/", 1)[1]
        spec = FIGURES[name]
        out.append(
            {
                "name": name,
                "path": path,
                "task": spec.task,
                "title": spec.title,
                "caption": captions.get(spec.caption, spec.title),
            }
        )
    return out
