"""The translation experiment's data: XNLI test lines and the token sets V_L (paper, Tables 1, 6, 7).

The paper's unit is an XNLI test line: its Table 7 input is the premise and the hypothesis of one
line joined, and the ground truth is the same line in the other language. XNLI repeats every
premise for its three hypotheses, so premises alone would score each sentence three times.
:func:`parallel_lines` joins ``premise + " " + hypothesis``, drops a line whose source text occurred
earlier in the file (file order kept) and pairs each kept line with the target's line of the same id.

V_L (Table 6, and the convert rate's V_s, V_t) is the set of non-special subword ids of language
L's XNLI test text, every line, as the paper's sizes (en 9,140 for mBERT) point to; computed once
per model by the ``translation_vocab`` rule and cached in a Parquet (lang, token_id).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from langrep.artifacts import read_frame
from langrep.errors import InputFormatError, LangrepError
from langrep.io import atomic_write
from langrep.scores import write_scores
from langrep.translation.mlm_head import corpus_vocab


def read_xnli_lines(path) -> pd.DataFrame:
    """``id`` and ``line`` (premise + " " + hypothesis) of an XNLI corpus Parquet, in file order."""
    path = Path(path)
    if not path.exists():
        raise LangrepError(f"corpus not found: {path}")
    df = read_frame(path)
    missing = [c for c in ("id", "text", "hypothesis") if c not in df.columns]
    if missing:
        raise InputFormatError(
            path, None, f"missing column(s) {missing} (an XNLI corpus has id, text = premise, hypothesis)"
        )
    line = df["text"].astype(str).str.strip() + " " + df["hypothesis"].astype(str).str.strip()
    return pd.DataFrame({"id": df["id"].astype(str), "line": line.str.strip()})


@dataclass
class ParallelLines:
    """Source lines, their ids and the same lines in each target language."""

    ids: list[str]
    texts: list[str]  # source lines
    references: dict[str, list[str]]  # target language -> the same lines in it


def parallel_lines(src_path, tgt_paths: Mapping[str, str], n: int | None) -> ParallelLines:
    """The first ``n`` distinct source lines (None = all) and the targets' lines of the same ids."""
    if n is not None and n < 1:
        raise LangrepError("translation.n_sentences must be >= 1 (or null for every line)")
    src = read_xnli_lines(src_path)
    src = src[~src["line"].duplicated(keep="first")]
    if n is not None:
        src = src.head(n)
    ids = src["id"].tolist()
    refs = {}
    for t, path in tgt_paths.items():
        tgt = read_xnli_lines(path).set_index("id")["line"]
        lost = [i for i in ids if i not in tgt.index]
        if lost:
            raise InputFormatError(
                path, None, f"no row with id {lost[0]!r} (the source's id; corpora must be parallel)"
            )
        refs[t] = [tgt[i] for i in ids]
    return ParallelLines(ids, src["line"].tolist(), refs)


def xnli_vocab(tokenizer, path, max_length: int = 512) -> set[int]:
    """V_L: the non-special subword ids of every line of an XNLI corpus."""
    return corpus_vocab(tokenizer, read_xnli_lines(path)["line"].tolist(), max_length)


def write_vocab_sets(sets: Mapping[str, set[int]], path) -> None:
    """Write the token sets V_L (language, token id rows) to a Parquet file."""
    rows = [(lang, int(i)) for lang, ids in sets.items() for i in sorted(ids)]
    df = pd.DataFrame(rows, columns=["lang", "token_id"]).astype({"token_id": "int64"})
    with atomic_write(path) as tmp:
        df.to_parquet(tmp, index=False)


def read_vocab_sets(path, langs: Sequence[str]) -> dict[str, set[int]]:
    """The cached V_L of ``langs`` (one clear error when a language is missing)."""
    path = Path(path)
    if not path.exists():
        raise LangrepError(f"token sets not found: {path} (rule translation_vocab)")
    df = read_frame(path)
    if {"lang", "token_id"} - set(df.columns):
        raise InputFormatError(path, None, "not a token-set table (columns lang, token_id)")
    sets = {lang: set(g["token_id"].astype(int)) for lang, g in df.groupby("lang")}
    lacking = [lang for lang in langs if lang not in sets]
    if lacking:
        raise LangrepError(f"{path}: no token set for {lacking} (rerun rule translation_vocab)")
    return {lang: sets[lang] for lang in langs}


def prepare_vocab(
    *, model: str, model_dir, xnli_paths: Mapping[str, str], source: str, sets_out, table_out, max_length: int = 512
) -> dict[str, set[int]]:
    """The ``translation_vocab`` rule: V_L of every language (cached) and Table 6's sizes and overlaps."""
    from transformers import AutoTokenizer

    if source not in xnli_paths:
        raise LangrepError(f"translation.source {source!r} has no XNLI corpus among the inputs")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    sets = {lang: xnli_vocab(tokenizer, path, max_length) for lang, path in xnli_paths.items()}
    overlap = "overlap_with_en" if source == "en" else f"overlap_with_{source}"
    rows = [
        dict(
            model=model,
            task="translation_vocab",
            lang=lang,
            layer=None,
            method="",
            direction="",
            split="test",
            metric=metric,
            value=value,
        )
        for lang in sets
        for metric, value in (("vocab_size", len(sets[lang])), (overlap, len(sets[lang] & sets[source])))
    ]
    write_vocab_sets(sets, sets_out)
    write_scores(rows, table_out)
    return sets
