"""The paper's claims, counted on this run: the report's first screen.

Each claim is a per-language comparison the paper makes from one table ("MDS beats Original on
Tatoeba"), counted over the languages of ours that the paper printed, with the paper's own count
beside it. Our score tables carry paired intervals (``delta_low`` / ``delta_high``: a bootstrap over
test sentences, Tatoeba queries, BUCC source sentences or XNLI lines; docs/intervals.md): a
language counts only where the 95% interval of the difference excludes zero, and the clearly worse
and unclear ones are said too. Every table is counted this way; only a score table without interval
columns (an older one) is counted from raw differences, and says so (:data:`RAW`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from langrep.report.compare import JOIN, Comparison
from langrep.report.paper import TABLES, TATOEBA_PAPER_DIRECTION, method_label

RAW = "raw differences"  # how a count from a score table without intervals is labelled


@dataclass
class Count:
    """How many languages a claim holds in (``better`` of ``n``; with intervals, also clearly ``worse``)."""

    better: int
    n: int
    worse: int | None = None  # with an interval: clearly worse
    interval: bool = False

    def __str__(self) -> str:
        if not self.interval:
            return f"{self.better}/{self.n}"
        unclear = self.n - self.better - (self.worse or 0)
        return f"{self.better}/{self.n} ({self.worse} worse, {unclear} unclear)"


@dataclass
class Claim:
    """One claim of the paper, counted in the paper's numbers and in each model's."""

    table: int
    text: str
    paper: Count | None = None  # over every language the paper printed
    ours: dict[str, Count | str] = field(default_factory=dict)  # model -> count, or why there is none
    paper_same: dict[str, Count] = field(default_factory=dict)  # model -> the paper's count on our languages

    @property
    def counted(self) -> str:
        """How our counts were made: by the paired interval, or from raw differences (a score table
        without interval columns); empty when no model has a count."""
        counts = [c for c in self.ours.values() if isinstance(c, Count)]
        if not counts:
            return ""
        return "95% interval excludes 0" if any(c.interval for c in counts) else RAW

    @property
    def anchor(self) -> str:
        """The HTML anchor of the claim's table."""
        return TABLES[self.table].anchor


def _pair(rows: pd.DataFrame, value: str, a: dict, b: dict) -> pd.DataFrame:
    """Per language, the cells ``a`` and ``b`` (column -> value) side by side (columns a, b)."""

    def pick(sel):
        d = rows[rows["lang"] != "avg"]
        for k, v in sel.items():
            d = d[d[k] == v]
        return d.set_index("lang")[value]

    return pd.concat({"a": pick(a), "b": pick(b)}, axis=1).dropna()


def _raw(rows: pd.DataFrame, a: dict, b: dict) -> tuple[Count | None, Count | None, set]:
    """(ours, paper) counts of "a above b" over the languages where each has both cells."""
    ours, paper = _pair(rows, "ours", a, b), _pair(rows, "paper_value", a, b)
    mine = ours.index.intersection(paper.index) if len(paper) else ours.index
    count = Count(int((ours.loc[mine, "a"] > ours.loc[mine, "b"]).sum()), len(mine)) if len(mine) else None
    same = None
    if len(mine) and len(paper):
        same = Count(int((paper.loc[mine, "a"] > paper.loc[mine, "b"]).sum()), len(mine))
    return count, same, set(mine)


def _interval(rows: pd.DataFrame, a: dict, langs: set) -> Count | None:
    """Ours counted by the paired interval of ``a`` against Original (delta_low > 0: better)."""
    d = rows[(rows["lang"] != "avg") & rows["lang"].isin(langs)]
    for k, v in a.items():
        d = d[d[k] == v]
    d = d.dropna(subset=["delta_low", "delta_high"])
    if d.empty:
        return None
    return Count(int((d["delta_low"] > 0).sum()), len(d), int((d["delta_high"] < 0).sum()), interval=True)


def _paper_count(paper_rows: pd.DataFrame, a: dict, b: dict) -> Count | None:
    _, count, _ = _raw(paper_rows.assign(ours=paper_rows["paper_value"]), a, b)
    return count


def _definitions(table: int, r: pd.DataFrame) -> list[tuple[str, dict, dict]]:
    """(claim, cells a, cells b): "a above b" per language, for one table (``r``: our rows of it)."""
    out = []
    if table == 1:
        alphas = set(r["alpha"])
        out.append(
            (
                "convert rate higher at α=3 than at α=1 (more tokens turn into the target language)",
                {"metric": "convert_rate", "alpha": "3"},
                {"metric": "convert_rate", "alpha": "1"},
            )
        )
        if "0" in alphas:
            out.append(
                (
                    "BLEU-1 higher with MDS (α=1) than without a shift (α=0)",
                    {"metric": "bleu1", "alpha": "1"},
                    {"metric": "bleu1", "alpha": "0"},
                )
            )
        return out
    metric = {2: "accuracy", 3: "f1", 4: "accuracy", 5: "las"}.get(table)
    if metric is None:
        return out
    task = {2: "Tatoeba", 3: "BUCC", 4: "POS", 5: "parsing (LAS)"}[table]
    extra: list[tuple[str, dict]] = [("", {})]
    if table == 2:
        dirs = sorted(
            set(r.loc[r["ours"].notna(), "direction"]) or {TATOEBA_PAPER_DIRECTION},
            key=lambda d: d != TATOEBA_PAPER_DIRECTION,
        )
        extra = [
            (
                f", {d}" + (" (the paper's most likely direction)" if d == TATOEBA_PAPER_DIRECTION else ""),
                {"direction": d},
            )
            for d in dirs
        ]
    elif table == 3:
        extra = [(f" {s}", {"split": s}) for s in ("dev", "test")]
    for m in ("mds", "zero_mean"):
        for suffix, sel in extra:
            out.append(
                (
                    f"{method_label(m)} above Original on {task}{suffix}",
                    {"metric": metric, "method": m, **sel},
                    {"metric": metric, "method": "original", **sel},
                )
            )
    return out


def _why_none(cmp: Comparison) -> str:
    """Why a model has no count, in a few words (the table's section says it in full)."""
    if cmp.skipped:
        return "not run (models.<key>.stages)"
    return "not in this run" if cmp.rows.empty else "no cells of ours"


def claims(comparisons: list[Comparison], paper: pd.DataFrame) -> list[Claim]:
    """Every claim of Tables 1-5, counted for each model (``comparisons``: all tables, all models)."""
    out: dict[tuple[int, str], Claim] = {}
    for cmp in comparisons:
        table = cmp.spec.number
        p = paper[(paper["table"] == table) & (paper["value"] != "") & (paper["lang"] != "avg")]
        p_rows = p[JOIN].assign(paper_value=p["value"].astype(float), direction="")
        for text, a, b in _definitions(table, cmp.rows):
            claim = out.setdefault((table, text), Claim(table, text))
            pa, pb = ({k: v for k, v in s.items() if k != "direction"} for s in (a, b))
            claim.paper = claim.paper or _paper_count(p_rows, pa, pb)
            if cmp.missing:
                claim.ours[cmp.model] = _why_none(cmp)
                continue
            ours, same, langs = _raw(cmp.rows, a, b)
            if ours is None:
                claim.ours[cmp.model] = "not in this run"
                continue
            # Table 1: a row's delta is against the alpha the claim compares with
            # (langrep.translation.metrics.reference_alpha: 3 against 1, 1 against 0)
            ours = _interval(cmp.rows, a, langs) or ours
            claim.ours[cmp.model] = ours
            if same is not None:
                claim.paper_same[cmp.model] = same
    # models compared before a claim was first defined (a table they lack) still get a cell
    for cmp in comparisons:
        for claim in out.values():
            if claim.table == cmp.spec.number and cmp.model not in claim.ours:
                claim.ours[cmp.model] = _why_none(cmp) if cmp.missing else "not in this run"
    return sorted(out.values(), key=lambda c: c.table)
