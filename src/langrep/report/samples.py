"""Table 7: the paper's translation samples and ours (the translation stage's samples CSV)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from langrep.errors import LangrepError
from langrep.paths import PATTERNS, path_pattern
from langrep.report.run import TOP, protocol_of

_SAMPLES = path_pattern("translation_samples")


def samples_table(path, pairs=("en-zh", "en-fr"), alphas=(1.0, 2.0, 3.0)) -> pd.DataFrame:
    """Our Table 7: the first sentence of the paper's pairs (else the first two pairs), alpha 1-3.

    ``path``: the translation stage's samples CSV (columns src, tgt, id, layer, alpha, input,
    reference, output[, head, protocol, decode_layer]); the paper's protocol only."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    need = {"src", "tgt", "id", "alpha", "input", "reference", "output"}
    if missing := need - set(df.columns):
        raise LangrepError(f"{path}: not a translation samples table, missing column(s) {sorted(missing)}")
    if df.empty:
        return df
    df = df[protocol_of(df, path) == TOP].copy()  # the paper's protocol, as Table 1
    df["pair"] = df["src"] + "-" + df["tgt"]
    present = list(dict.fromkeys(df["pair"]))
    chosen = [p for p in pairs if p in present] or present[:2]
    a = pd.to_numeric(df["alpha"], errors="coerce")
    df = df[df["pair"].isin(chosen) & a.isin(alphas)]
    first = df.groupby("pair")["id"].transform("first")
    df = df[df["id"] == first]
    cols = ["pair", "layer", "alpha", "input", "reference", "output"] + (["head"] if "head" in df else [])
    return df[[c for c in cols if c in df]].reset_index(drop=True)


def samples_by_model(files: Iterable) -> dict[str, pd.DataFrame]:
    """``{model: our Table 7}`` from ``results/{model}/translation/samples.csv`` files."""
    out = {}
    for f in map(Path, files):
        m = _SAMPLES.fullmatch(f.as_posix())
        if m is None:
            raise LangrepError(f"{f}: translation samples must lie at {PATTERNS['translation_samples']}")
        out[m["model"]] = samples_table(f)
    return out


def paper_samples(paper: pd.DataFrame) -> pd.DataFrame:
    """The paper's Table 7 samples (lang, alpha, what, text)."""
    return paper[paper["table"] == 7][["lang", "alpha", "metric", "text"]].rename(columns={"metric": "what"})
