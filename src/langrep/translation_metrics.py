"""Token translation metrics (paper, Sec. 3): corpus BLEU-1, the convert rate and the share of
output tokens in neither language's token set.

``V_L`` is the token set of language L's XNLI test text (:mod:`langrep.translation_data`); the
convert rate is ``#(y in V_t - V_s) / (#y - #(y in V_s & V_t))`` over the output tokens ``y``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from langrep.errors import LangrepError


def bleu1(hypotheses: Sequence[str], references: Sequence[str], tokenize: str = "13a") -> float:
    """Corpus BLEU-1 (unigram precision x brevity penalty) in %, via sacrebleu."""
    from sacrebleu.metrics import BLEU

    if len(hypotheses) != len(references):
        raise LangrepError(f"BLEU-1: {len(hypotheses)} hypotheses but {len(references)} references")
    return float(BLEU(max_ngram_order=1, tokenize=tokenize).corpus_score(list(hypotheses), [list(references)]).score)


def _token_counts(outputs: Iterable[Sequence[int]], v_src: set[int], v_tgt: set[int]) -> tuple[int, int, int, int]:
    """(all, in V_t only, in both, in neither) output tokens."""
    total = converted = shared = neither = 0
    for ids in outputs:
        for y in ids:
            total += 1
            in_s, in_t = y in v_src, y in v_tgt
            converted += in_t and not in_s
            shared += in_t and in_s
            neither += not (in_t or in_s)
    return total, converted, shared, neither


def convert_rate(outputs: Iterable[Sequence[int]], v_src: set[int], v_tgt: set[int]) -> float:
    """The paper's convert rate in %: ``#(y in V_t - V_s) / (#y - #(y in V_s & V_t))``.

    NaN when every output token is shared by both vocabularies (empty denominator).
    """
    total, converted, shared, _ = _token_counts(outputs, v_src, v_tgt)
    denom = total - shared
    return 100.0 * converted / denom if denom else float("nan")


def neither_share(outputs: Iterable[Sequence[int]], v_src: set[int], v_tgt: set[int]) -> float:
    """% of output tokens in neither V_s nor V_t (NaN without output tokens)."""
    total, _, _, neither = _token_counts(outputs, v_src, v_tgt)
    return 100.0 * neither / total if total else float("nan")
