"""Trivial baselines that a transfer score must beat to mean anything.

* ``majority`` (POS): every word gets the most frequent UPOS tag of the English training treebank.
* ``attach_next`` / ``attach_prev`` (parsing): every word is attached to the next (previous) word;
  the last (first) word is the root. Both are trees with one root; UAS only (they have no labels).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from langrep.errors import LangrepError
from langrep.transfer.data import Sentence

BASELINES = {"pos": ("majority",), "parsing": ("attach_next", "attach_prev")}


def majority_tag(train: Sequence[Sentence]) -> str:
    """The most frequent UPOS tag of ``train`` (ties: the alphabetically first)."""
    counts = Counter(t for s in train for t in s.upos)
    if not counts:
        raise LangrepError("majority baseline: the training treebank has no words")
    return min(counts, key=lambda t: (-counts[t], t))


def attach_next(n: int) -> list[int]:
    """Heads of ``n`` words each attached to the next word (the last to the root)."""
    return [i + 1 for i in range(1, n)] + [0]


def attach_prev(n: int) -> list[int]:
    """Heads of ``n`` words each attached to the previous word (the first to the root)."""
    return list(range(n))


def baseline_predictions(name: str, sentences: Sequence[Sentence], majority: str | None = None):
    """Predictions in :func:`langrep.transfer.train.predict`'s format (parsing: relations None)."""
    if name == "majority":
        if majority is None:
            raise LangrepError("the majority baseline needs the majority tag")
        return [[majority] * len(s) for s in sentences]
    if name in ("attach_next", "attach_prev"):
        fn = attach_next if name == "attach_next" else attach_prev
        return [fn(len(s)) for s in sentences], [[None] * len(s) for s in sentences]
    raise LangrepError(f"unknown baseline {name!r}; known: {sorted(b for v in BASELINES.values() for b in v)}")
