"""UPOS accuracy and CoNLL 2018 attachment scores, in %.

As in the CoNLL 2018 evaluation script: every syntactic word counts, punctuation included; UAS is
the share of words with the gold head; LAS also needs the gold relation, compared on its universal
part (``nmod:poss`` == ``nmod``). A word the model could not see (cut off by truncation) is
predicted as ``None`` and counts as wrong.
"""
from __future__ import annotations

from typing import Sequence

from langrep.errors import LangrepError
from langrep.transfer.data import universal


def _check(pred: Sequence[Sequence], gold: Sequence[Sequence], what: str) -> None:
    if len(pred) != len(gold):
        raise LangrepError(f"{what}: {len(pred)} predicted sentences for {len(gold)} gold ones")
    for i, (p, g) in enumerate(zip(pred, gold)):
        if len(p) != len(g):
            raise LangrepError(f"{what}: sentence {i} has {len(p)} predictions for {len(g)} words")


def pos_accuracy(pred: Sequence[Sequence[str | None]], gold: Sequence[Sequence[str]]) -> float:
    _check(pred, gold, "pos_accuracy")
    total = sum(len(g) for g in gold)
    if not total:
        raise LangrepError("pos_accuracy: no words to score")
    correct = sum(p == g for ps, gs in zip(pred, gold) for p, g in zip(ps, gs))
    return 100.0 * correct / total


def attachment_scores(pred_heads: Sequence[Sequence[int | None]], pred_rels: Sequence[Sequence[str | None]],
                      gold_heads: Sequence[Sequence[int]], gold_rels: Sequence[Sequence[str]]) -> tuple[float, float]:
    """(UAS, LAS) in %."""
    _check(pred_heads, gold_heads, "attachment_scores (heads)")
    _check(pred_rels, gold_rels, "attachment_scores (relations)")
    total = sum(len(g) for g in gold_heads)
    if not total:
        raise LangrepError("attachment_scores: no words to score")
    uas = las = 0
    for ph, pr, gh, gr in zip(pred_heads, pred_rels, gold_heads, gold_rels):
        for h, r, gh_, gr_ in zip(ph, pr, gh, gr):
            if h is not None and h == gh_:
                uas += 1
                if r is not None and universal(r) == universal(gr_):
                    las += 1
    return 100.0 * uas / total, 100.0 * las / total
