"""UD sentences for the transfer tasks, read from the normalized corpus Parquet files.

``data/corpora/ud_{split}/{lang}.parquet`` holds one row per sentence with list columns ``words``,
``upos``, ``heads`` (0 = root) and ``deprels`` over syntactic words (see DEVELOPERS.md). The label
sets are the fixed universal inventories, so every model and language shares one output layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from langrep.artifacts import read_table
from langrep.errors import InputFormatError, LangrepError

UPOS = (
    "ADJ",
    "ADP",
    "ADV",
    "AUX",
    "CCONJ",
    "DET",
    "INTJ",
    "NOUN",
    "NUM",
    "PART",
    "PRON",
    "PROPN",
    "PUNCT",
    "SCONJ",
    "SYM",
    "VERB",
    "X",
)
# The 37 universal dependency relations of UD v2 (subtypes such as ``nmod:poss`` map to ``nmod``).
DEPRELS = (
    "acl",
    "advcl",
    "advmod",
    "amod",
    "appos",
    "aux",
    "case",
    "cc",
    "ccomp",
    "clf",
    "compound",
    "conj",
    "cop",
    "csubj",
    "dep",
    "det",
    "discourse",
    "dislocated",
    "expl",
    "fixed",
    "flat",
    "goeswith",
    "iobj",
    "list",
    "mark",
    "nmod",
    "nsubj",
    "nummod",
    "obj",
    "obl",
    "orphan",
    "parataxis",
    "punct",
    "reparandum",
    "root",
    "vocative",
    "xcomp",
)
UD_COLUMNS = ("id", "words", "upos", "heads", "deprels")


def universal(deprel: str) -> str:
    """The universal part of a relation (``nmod:poss`` -> ``nmod``), as CoNLL 2018 scores LAS."""
    return deprel.split(":", 1)[0]


@dataclass(frozen=True)
class Sentence:
    """One UD sentence: its id and, per syntactic word, form, UPOS tag, head and relation."""

    id: str
    words: tuple[str, ...]
    upos: tuple[str, ...]
    heads: tuple[int, ...]
    deprels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.words)


def read_ud(path, max_sentences: int | None = None, seed: int = 0) -> list[Sentence]:
    """Sentences of one UD corpus file, validated; ``max_sentences`` draws a seeded random subset
    (kept in corpus order) so a capped run is still a sample of the whole treebank."""
    path = Path(path)
    if not path.exists():
        raise LangrepError(f"UD corpus not found: {path}")
    table = read_table(path)
    missing = [c for c in UD_COLUMNS if c not in table.column_names]
    if missing:
        raise InputFormatError(path, None, f"missing column(s) {missing}; expected {list(UD_COLUMNS)}")
    cols = {c: table.column(c).to_pylist() for c in UD_COLUMNS}
    n = table.num_rows
    rows = np.arange(n)
    if max_sentences is not None and int(max_sentences) < n:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(n, size=int(max_sentences), replace=False))
    out = []
    for r in rows:
        words, upos, heads, deprels = (cols[c][r] for c in ("words", "upos", "heads", "deprels"))
        where = f"row {r + 1} (id {cols['id'][r]!r})"
        if words is None or upos is None or heads is None or deprels is None:
            raise InputFormatError(path, None, f"{where}: null list column")
        if not (len(words) == len(upos) == len(heads) == len(deprels)) or not words:
            raise InputFormatError(
                path,
                None,
                f"{where}: words/upos/heads/deprels lengths differ "
                f"({len(words)}/{len(upos)}/{len(heads)}/{len(deprels)}) or are empty",
            )
        if any(h is None or not 0 <= int(h) <= len(words) for h in heads):
            raise InputFormatError(path, None, f"{where}: a head is outside 0..{len(words)}: {list(heads)}")
        out.append(
            Sentence(
                str(cols["id"][r]),
                tuple(map(str, words)),
                tuple(map(str, upos)),
                tuple(int(h) for h in heads),
                tuple(map(str, deprels)),
            )
        )
    return out


def label_ids(
    labels: Sequence[str], inventory: Sequence[str], path, sentence_id: str, normalize=lambda x: x
) -> list[int]:
    """Indices of training labels in a fixed inventory; an unknown label is a data error."""
    index = {l: i for i, l in enumerate(inventory)}
    out = []
    for lab in labels:
        key = normalize(lab)
        if key not in index:
            raise InputFormatError(
                path, None, f"sentence {sentence_id!r}: label {lab!r} is not one of {list(inventory)}"
            )
        out.append(index[key])
    return out
