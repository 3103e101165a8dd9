"""The tidy score table every task writes: ``results/{model}/scores/{task}.csv``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from langrep.errors import LangrepError
from langrep.io import atomic_write

COLUMNS = ["model", "task", "lang", "layer", "method", "direction", "split", "metric", "value"]


def scores_frame(rows: Iterable[Mapping]) -> pd.DataFrame:
    """Rows (dicts) as a frame with the tidy columns first, extra columns (e.g. ``alpha``) after."""
    df = pd.DataFrame(list(rows))
    if df.empty:
        return pd.DataFrame(columns=COLUMNS)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise LangrepError(f"score rows lack column(s) {missing}")
    extra = [c for c in df.columns if c not in COLUMNS]
    return df[COLUMNS + extra]


def write_scores(rows: Iterable[Mapping] | pd.DataFrame, path) -> pd.DataFrame:
    """Write score rows (or a frame) as the tidy CSV table, atomically; returns the frame written."""
    df = rows if isinstance(rows, pd.DataFrame) else scores_frame(rows)
    with atomic_write(path) as tmp:
        df.to_csv(tmp, index=False)
    return df


def read_scores(path) -> pd.DataFrame:
    """A tidy score table; a LangrepError when a column is missing."""
    df = pd.read_csv(path)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise LangrepError(f"{path}: not a score table, missing column(s) {missing}")
    return df
