"""Table 1 under two protocols, for the models whose translation table has decode-layer rows.

The paper's protocol (``top``): MDS shifts the table's layer, every layer above runs on the shifted
states and the MLM head decodes the last layer L. The decode-layer protocol (``decode_layer``): a
head fitted on hidden-state layer d decodes there, MDS shifts a layer at or below d and only the
layers up to d run. Table 1, the claims, the figures and Table 7 show the paper's protocol
(:func:`langrep.report.run.split_protocols`); this block sets the two side by side: one line per
protocol with its MDS layer, the decoding head's held-out reconstruction, BLEU-1 and the convert
rate per alpha (the mean over the directions) and, for the claims' differences, how many directions
are clearly better, clearly worse or unclear.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from langrep.report.compare import paper_layer_of, select
from langrep.report.paper import METRIC_LABELS, TABLES
from langrep.report.run import ModelRun
from langrep.translation.metrics import reference_alpha

# The claims' differences (langrep.report.claims): (metric, the row's alpha); the row's delta is
# against reference_alpha(alpha): BLEU-1 alpha 1 - alpha 0, convert rate alpha 3 - alpha 1.
DIFFERENCES = (("bleu1", 1.0), ("convert_rate", 3.0))

TITLE = "Table 1 under two protocols"
LEGEND = (
    "For the models whose fitted MLM head also decodes at a lower layer d, Table 1 under both protocols. "
    "The paper's protocol (top): MDS shifts the table's layer, the layers above run on the shifted states and "
    "the head decodes the last layer. The decode-layer protocol: a head fitted on hidden-state layer d decodes "
    "there, MDS shifts the table's layer or d, whichever is lower, and the model runs only up to d. Why both: "
    "a head fitted on an encoder without one may fail to read the last layer (an encoder tuned for sentence "
    "embeddings loses token identity there), so at the top its scores mix the shift's effect with the head's "
    "failure to read the layer. The decode layer (translation.decode_layer: auto) is the highest layer where "
    "a probe head gives back at least translation.head.decode_reconstruction percent of held-out tokens in "
    "every language (the curve in results/{model}/mlm_head/head.json), so its numbers measure the shift; the "
    "reconstruction column says how well each head reads its layer. Per protocol: the MDS layer, the "
    "decoding head's held-out reconstruction (unshifted, every language's held-out tokens together), BLEU-1 "
    "and convert rate per α (the mean over the directions) and, for the claims' differences (BLEU-1 α=1 "
    "against α=0, convert rate α=3 against α=1), the directions clearly better / clearly worse (the paired "
    "95% bootstrap interval of the difference excludes zero above / below) and unclear (it holds zero). "
    "Table 1 above, the claims, the figures and Table 7 show the paper's protocol only."
)


@dataclass
class ProtocolTable:
    """One model's Table 1 under the two protocols: one line per protocol, as text."""

    model: str
    table: pd.DataFrame


def _number(value) -> str:
    return "" if pd.isna(value) else f"{value:.1f}"


def difference_label(metric: str, alpha: float) -> str:
    """The column of a claim's difference, e.g. "BLEU-1 α=1 − α=0"."""
    return f"{METRIC_LABELS[metric]} α={alpha:g} − α={reference_alpha(alpha):g}"


def difference_count(rows: pd.DataFrame, metric: str, alpha: float) -> str:
    """How many directions' difference at ``alpha`` (against :func:`reference_alpha`) is clearly
    above zero, clearly below and unclear (its interval holds zero); "" without intervals."""
    if "delta_low" not in rows or "delta_high" not in rows:
        return ""
    d = rows[(rows["metric"] == metric) & (rows["alpha"] == alpha)].dropna(subset=["delta_low", "delta_high"])
    if d.empty:
        return ""
    better, worse = int((d["delta_low"] > 0).sum()), int((d["delta_high"] < 0).sum())
    return f"{better} better, {worse} worse, {len(d) - better - worse} unclear"


def protocol_line(label: str, rows: pd.DataFrame, alphas: list[float]) -> dict:
    """One protocol's line: its label, MDS layer, head reconstruction, the mean over the directions
    of BLEU-1 and convert rate per alpha and the counts of the claims' differences. ``rows``: the
    protocol's Table 1 rows (one layer, MDS)."""
    head = rows["head_reconstruction"].dropna() if "head_reconstruction" in rows else pd.Series(dtype=float)
    line = {
        "protocol": label,
        "MDS layer": ", ".join(str(int(l)) for l in sorted(rows["layer"].dropna().unique())),
        "head reconstruction (%)": _number(head.iloc[0]) if len(head) else "",
    }
    for metric in TABLES[1].metrics:
        for a in alphas:
            values = rows.loc[(rows["metric"] == metric) & (rows["alpha"] == a), "value"]
            line[f"{METRIC_LABELS[metric]} α={a:g}"] = _number(values.mean())
    for metric, a in DIFFERENCES:
        line[difference_label(metric, a)] = difference_count(rows, metric, a)
    return line


def _decode_layer(rows: pd.DataFrame, fallback) -> int | None:
    """The hidden-state layer the rows' head decoded (column ``decode_layer``, else ``fallback``)."""
    layers = rows["decode_layer"].dropna() if "decode_layer" in rows else pd.Series(dtype=float)
    return int(layers.iloc[0]) if len(layers) else fallback


def protocol_table(run: ModelRun, paper: pd.DataFrame) -> ProtocolTable | None:
    """Table 1 of ``run`` under the paper's protocol and under each decode layer of its
    ``decode_rows`` (None without decode-layer rows). The top line is at Table 1's layer; a
    decode layer d's at the lower of that layer and d."""
    if run.decode_rows is None or "translation" not in run.scores:
        return None
    spec, paper_layer = TABLES[1], paper_layer_of(paper[paper["table"] == 1])
    top = select(spec, run.scores["translation"], paper_layer, run.n_layers, set())
    top_layer = int(top["layer"].max()) if top["layer"].notna().any() else None
    last = top["layer"].max() if run.n_layers is None else run.n_layers
    parts = [(f"top (layer {_decode_layer(top, last):g}, the paper's protocol)", top)] if len(top) else []
    decode = run.decode_rows
    by_layer = decode.groupby("decode_layer") if "decode_layer" in decode else [(decode["layer"].max(), decode)]
    for d, rows in by_layer:
        at = paper_layer if top_layer is None else str(min(top_layer, int(d)))
        parts.append((f"decode layer {int(d)}", select(spec, rows, at, run.n_layers, set())))
    alphas = sorted({float(a) for _, rows in parts for a in rows["alpha"].dropna()})
    lines = [protocol_line(label, rows, alphas) for label, rows in parts]
    return ProtocolTable(run.key, pd.DataFrame(lines))


@dataclass
class ProtocolSection:
    """The block under Table 1: its title, legend and one table per model with decode-layer rows."""

    tables: list[ProtocolTable]
    title: str = TITLE
    legend: str = LEGEND


def protocol_section(runs: list[ModelRun], paper: pd.DataFrame) -> ProtocolSection | None:
    """The block under Table 1 (None when no model has decode-layer rows)."""
    tables = [t for t in (protocol_table(run, paper) for run in runs) if t is not None]
    return ProtocolSection(tables) if tables else None
