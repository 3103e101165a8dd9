"""UPOS accuracy and CoNLL 2018 attachment scores, in %, with per-sentence counts for the bootstrap.

As in the CoNLL 2018 evaluation script: every syntactic word counts, punctuation included; UAS is
the share of words with the gold head; LAS also needs the gold relation, compared on its universal
part (``nmod:poss`` == ``nmod``). A word the model could not see (cut off by truncation) is
predicted as ``None`` and counts as wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from langrep.errors import LangrepError
from langrep.transfer.data import universal


def _check(pred: Sequence[Sequence], gold: Sequence[Sequence], what: str) -> None:
    if len(pred) != len(gold):
        raise LangrepError(f"{what}: {len(pred)} predicted sentences for {len(gold)} gold ones")
    for i, (p, g) in enumerate(zip(pred, gold)):
        if len(p) != len(g):
            raise LangrepError(f"{what}: sentence {i} has {len(p)} predictions for {len(g)} words")


def _percent(correct: np.ndarray, words: np.ndarray, what: str) -> float:
    total = int(words.sum())
    if not total:
        raise LangrepError(f"{what}: no words to score")
    return 100.0 * float(correct.sum()) / total


def word_counts(gold: Sequence[Sequence]) -> np.ndarray:
    """Words per gold sentence."""
    return np.fromiter((len(g) for g in gold), dtype=np.int64, count=len(gold))


def pos_correct(pred: Sequence[Sequence[str | None]], gold: Sequence[Sequence[str]]) -> np.ndarray:
    """Correctly tagged words per sentence."""
    _check(pred, gold, "pos_accuracy")
    return np.array([sum(p == g for p, g in zip(ps, gs)) for ps, gs in zip(pred, gold)], dtype=np.int64)


def attachment_correct(
    pred_heads: Sequence[Sequence[int | None]],
    pred_rels: Sequence[Sequence[str | None]],
    gold_heads: Sequence[Sequence[int]],
    gold_rels: Sequence[Sequence[str]],
) -> tuple[np.ndarray, np.ndarray]:
    """Words with the gold head, and with the gold head and relation, per sentence."""
    _check(pred_heads, gold_heads, "attachment_scores (heads)")
    _check(pred_rels, gold_rels, "attachment_scores (relations)")
    uas, las = np.zeros(len(gold_heads), dtype=np.int64), np.zeros(len(gold_heads), dtype=np.int64)
    for i, (ph, pr, gh, gr) in enumerate(zip(pred_heads, pred_rels, gold_heads, gold_rels)):
        for h, r, gh_, gr_ in zip(ph, pr, gh, gr):
            if h is not None and h == gh_:
                uas[i] += 1
                if r is not None and universal(r) == universal(gr_):
                    las[i] += 1
    return uas, las


def pos_accuracy(pred: Sequence[Sequence[str | None]], gold: Sequence[Sequence[str]]) -> float:
    """Percentage of correctly tagged words over all sentences."""
    return _percent(pos_correct(pred, gold), word_counts(gold), "pos_accuracy")


def attachment_scores(
    pred_heads: Sequence[Sequence[int | None]],
    pred_rels: Sequence[Sequence[str | None]],
    gold_heads: Sequence[Sequence[int]],
    gold_rels: Sequence[Sequence[str]],
) -> tuple[float, float]:
    """(UAS, LAS) in %."""
    uas, las = attachment_correct(pred_heads, pred_rels, gold_heads, gold_rels)
    words = word_counts(gold_heads)
    return _percent(uas, words, "attachment_scores"), _percent(las, words, "attachment_scores")


def task_correct(task: str, predictions, sentences) -> dict[str, np.ndarray]:
    """Per-sentence correct words of each metric: ``accuracy`` (pos) or ``uas`` and ``las`` (parsing)."""
    if task == "pos":
        return {"accuracy": pos_correct(predictions, [s.upos for s in sentences])}
    uas, las = attachment_correct(*predictions, [s.heads for s in sentences], [s.deprels for s in sentences])
    return {"uas": uas, "las": las}


def score(task: str, predictions, sentences) -> dict[str, float]:
    """``{"accuracy": %}`` (pos) or ``{"uas": %, "las": %}`` (parsing)."""
    words = word_counts([s.upos for s in sentences])
    return {k: _percent(v, words, f"{task} score") for k, v in task_correct(task, predictions, sentences).items()}
