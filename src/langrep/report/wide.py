"""The paper's tables in the paper's shape: its rows (methods, alphas, splits) as rows, languages as
columns, one column block per model, every cell ours with the paper's value beside it.

A table wider than its ``max_columns`` is cut into parts by language, as the paper cut its Table 2.
Transfer cells (Tables 4-5) carry their 95% interval (shown on hover) and a mark where the paired
interval of Zero-mean or MDS against Original excludes zero (▲ better, ▼ worse).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from langrep.report.compare import Comparison
from langrep.report.notes import interval
from langrep.report.paper import (
    METHOD_LABELS,
    METHOD_ORDER,
    METRIC_LABELS,
    TATOEBA_PAPER_DIRECTION,
    TableSpec,
    printed_decimals,
)
from langrep.translation.metrics import reference_alpha

BETTER, WORSE = "▲", "▼"


@dataclass
class Cell:
    """One cell of a wide table: our number, the paper's, a difference mark, a note and a tooltip."""

    ours: str = ""  # our number ("" when we have none)
    paper: str = ""  # the paper's, as printed ("" when it printed none)
    mark: str = ""  # ▲ / ▼: a difference from Original whose interval excludes zero
    note: str = ""  # †, ‡: the paper's note on this cell
    title: str = ""  # the interval(s), for a tooltip


@dataclass
class WidePart:
    """A wide table: column blocks per model and the labelled rows of cells."""

    blocks: list[tuple[str, list[str]]]  # (model, its language columns)
    rows: list[tuple[str, list[list[Cell]]]] = field(default_factory=list)  # (row label, cells per block)


def _row_sort(spec: TableSpec, key: tuple) -> tuple:
    order = []
    for col, v in zip(spec.rows, key):
        if col == "method":
            known = METHOD_ORDER + [m for m in METHOD_LABELS if m not in METHOD_ORDER]
            order.append(known.index(v) if v in known else len(known))
        elif col == "metric":
            order.append(spec.metrics.index(v) if v in spec.metrics else len(spec.metrics))
        elif col == "alpha":
            order.append(float(v) if v != "" else math.inf)
        elif col == "direction":
            order.append((v != TATOEBA_PAPER_DIRECTION, v))
        elif col == "split":
            order.append(("dev", "test").index(v) if v in ("dev", "test") else 2)
    return tuple(order)


def row_label(spec: TableSpec, key: tuple) -> str:
    """The label of a wide table's row ``key`` (methods and metrics in the report's words)."""
    parts = dict(zip(spec.rows, key))
    if spec.number == 1:
        return f"{METRIC_LABELS.get(parts['metric'], parts['metric'])} (α={parts['alpha']})"
    out = []
    for col in spec.rows:
        v = parts[col]
        out.append(METHOD_LABELS.get(v, v) if col == "method" else METRIC_LABELS.get(v, v) if col == "metric" else v)
    return ", ".join(x for x in out if x)


def _languages(rows: pd.DataFrame, paper_order: list[str]) -> list[str]:
    """The paper's languages in its order, then ours it lacks, then the average."""
    present = set(rows["lang"])
    langs = [l for l in dict.fromkeys(paper_order) if l in present and l != "avg"]
    langs += sorted(present - set(langs) - {"avg"})
    return langs + (["avg"] if "avg" in present else [])


def _decimals(spec: TableSpec, printed: pd.Series) -> int:
    """The paper's precision for a metric (at least 1 where it prints fractions), else the table's."""
    printed = [p for p in printed if p]
    return max(1, max(printed_decimals(p) for p in printed)) if printed and spec.decimals else spec.decimals


def _cell(r, decimals: int, note_marks: dict) -> Cell:
    ours = "" if pd.isna(r.ours) else f"{r.ours:.{decimals}f}"
    mark, title = "", []
    if not (pd.isna(r.ci_low) or pd.isna(r.ci_high)):
        title.append(f"95% interval {interval(r.ci_low, r.ci_high)}")
    if not (pd.isna(r.delta_low) or pd.isna(r.delta_high)):
        # translation (Table 1, the only one with an alpha key): the difference from a lower alpha
        ref = reference_alpha(float(r.alpha)) if r.alpha != "" else None
        against = "Original" if ref is None else f"α={ref:g}"
        title.append(f"vs {against} {r.delta:+.1f} {interval(r.delta_low, r.delta_high)}")
        mark = BETTER if r.delta_low > 0 else WORSE if r.delta_high < 0 else ""
    note = note_marks.get((r.lang, r.method, r.alpha, r.split, r.metric), "")
    return Cell(ours, r.paper, mark, note, "; ".join(title))


def _row_note(blocks: list[list[Cell]]) -> str:
    """A paper note on every printed cell of a row is marked once, on the row's label."""
    printed = [c for cells in blocks for c in cells if c.paper]
    marks = {c.note for c in printed}
    if len(marks) != 1 or not printed or "" in marks:
        return ""
    for c in printed:
        c.note = ""
    return " " + marks.pop()


def wide_parts(
    spec: TableSpec,
    comparisons: list[Comparison],
    paper_order: list[str],
    note_marks: dict | None = None,
    max_columns: int | None = None,
) -> list[WidePart]:
    """One table for every model that has it, cut into parts of at most ``max_columns`` columns
    (default: the table's own, :attr:`TableSpec.max_columns`)."""
    shown = [c for c in comparisons if not c.missing]
    if not shown:
        return []
    rows = pd.concat([c.rows for c in shown], ignore_index=True)
    langs = _languages(rows, paper_order)
    keys = sorted({tuple(r) for r in rows[list(spec.rows)].itertuples(index=False)}, key=lambda k: _row_sort(spec, k))
    per_part = max(1, (max_columns or spec.max_columns) // len(shown))
    size = math.ceil(len(langs) / math.ceil(len(langs) / per_part))  # parts of even size (6 + 5, not 7 + 4)
    chunks = [langs[i : i + size] for i in range(0, len(langs), size)]
    if len(chunks) > 1 and chunks[-1] == ["avg"]:  # an average alone is no part: it joins the one before
        chunks[-2:] = [chunks[-2] + chunks[-1]]
    parts = []
    for chunk in chunks:
        part = WidePart([(c.model, chunk) for c in shown])
        for key in keys:
            sel = rows
            for col, v in zip(spec.rows, key):
                sel = sel[sel[col] == v]
            decimals = _decimals(spec, rows.loc[rows["metric"] == sel["metric"].iloc[0], "paper"])
            blocks = []
            for c in shown:
                mine = {r.lang: r for r in sel[sel["model"] == c.model].itertuples(index=False)}
                blocks.append([_cell(mine[l], decimals, note_marks or {}) if l in mine else Cell() for l in chunk])
            if any(x.ours or x.paper for cells in blocks for x in cells):
                part.rows.append((row_label(spec, key) + _row_note(blocks), blocks))
        parts.append(part)
    return parts
