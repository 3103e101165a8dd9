"""Evaluation pieces of the transfer stage: tree decoding, bootstrap intervals, trivial baselines."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from langrep.errors import LangrepError
from langrep.transfer import (
    BiaffineParser,
    Sentence,
    attach_next,
    attach_prev,
    attachment_scores,
    baseline_predictions,
    eisner,
    excludes_zero,
    is_tree,
    majority_tag,
    paired_difference,
    pos_accuracy,
    score_interval,
)

# ---------------------------------------------------------------------------------------------
# tree decoding


def _projective(heads) -> bool:
    """Every word between a head and its dependent hangs (transitively) from that head."""
    for d, h in enumerate(heads, 1):
        for k in range(min(d, h) + 1, max(d, h)):
            node = k
            while node not in (0, h):
                node = heads[node - 1]
            if node != h:
                return False
    return True


def _brute_force(scores):
    """The best projective single-root tree by enumerating every head assignment."""
    n = scores.shape[0]
    best, best_heads = -np.inf, None
    for heads in itertools.product(range(n + 1), repeat=n):
        if any(h == d for d, h in enumerate(heads, 1)) or not is_tree(heads) or not _projective(heads):
            continue
        total = sum(scores[d - 1, h] for d, h in enumerate(heads, 1))
        if total > best:
            best, best_heads = total, list(heads)
    return best, best_heads


def _total(scores, heads):
    return sum(scores[d - 1, h] for d, h in enumerate(heads, 1))


def test_is_tree_by_hand():
    assert is_tree([2, 0, 2]) and is_tree([0])
    assert not is_tree([2, 1, 0])  # a cycle 1 <-> 2
    assert not is_tree([0, 0, 2])  # two words on the root
    assert not is_tree([2, 3, 1])  # no root at all
    assert not is_tree([4, 0])  # a head outside the sentence


def test_greedy_misses_the_tree_that_eisner_finds():
    # 3 words. Greedy: word 1 -> 2, word 2 -> 1 (a cycle), word 3 -> root. Columns: root, w1, w2, w3.
    s = np.array([[-9.0, -9.0, 5.0, 1.0], [2.0, 4.0, -9.0, 0.0], [3.0, -9.0, 1.0, -9.0]])
    greedy = [int(np.argmax(np.where(np.arange(4) == d, -np.inf, row))) for d, row in enumerate(s, 1)]
    assert greedy == [2, 1, 0] and not is_tree(greedy)
    heads = eisner(s)
    best, ref = _brute_force(s)
    assert heads == ref == [2, 0, 2]  # by hand: 5 (1->2) + 2 (2 on root) + 1 (3->2) = 8
    assert _total(s, heads) == pytest.approx(best) == pytest.approx(8.0)


def test_single_root_even_when_two_roots_score_higher():
    # every word prefers the root; the best single-root tree puts word 2 on the root
    s = np.array([[10.0, 0.0, 1.0], [12.0, 2.0, 0.0]])
    greedy_roots = sum(int(np.argmax(row)) == 0 for row in s)
    assert greedy_roots == 2
    heads = eisner(s)
    assert heads == [2, 0] and is_tree(heads)  # 12 + 1 = 13 beats 10 + 2 = 12


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_eisner_equals_brute_force_on_random_matrices(n):
    rng = np.random.default_rng(n)
    for _ in range(40):
        s = rng.normal(scale=3.0, size=(n, n + 1))
        heads = eisner(s)
        best, _ = _brute_force(s)
        assert is_tree(heads) and _projective(heads)
        assert _total(s, heads) == pytest.approx(best)


def test_eisner_refuses_bad_shapes():
    with pytest.raises(LangrepError, match="shape"):
        eisner(np.zeros((3, 3)))
    with pytest.raises(LangrepError, match="NaN"):
        eisner(np.full((2, 3), np.nan))


def test_parser_decode_gives_trees_on_padded_batches():
    """BiaffineParser.decode on a batch: each sentence's present words form one tree; absent -1."""
    torch.manual_seed(0)
    b, w = 3, 5
    arcs = torch.randn(b, w, w + 1) * 5
    rel_dep, rel_head = torch.randn(b, w, 4), torch.randn(b, w + 1, 4)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)

    class Head(torch.nn.Module):
        rel_scores = BiaffineParser.rel_scores
        arc_mask = staticmethod(BiaffineParser.arc_mask)

        def __init__(self):
            super().__init__()
            self.rel_bilinear, self.rel_linear = torch.nn.Bilinear(4, 4, 3), torch.nn.Linear(8, 3, bias=False)

    heads, rels = BiaffineParser.decode(Head(), (arcs, rel_dep, rel_head), mask)
    for row, n in enumerate(mask.sum(1).tolist()):
        assert is_tree(heads[row, :n].tolist())
        assert heads[row, n:].eq(-1).all() and rels[row, n:].eq(-1).all()
        logp = arcs[row, :n, : n + 1].log_softmax(-1).numpy()  # only present heads are candidates
        assert heads[row, :n].tolist() == eisner(logp)


# ---------------------------------------------------------------------------------------------
# bootstrap


def test_paired_bootstrap_interval_by_hand():
    # 4 one-word sentences; method A right on sentence 1 only, B never. A resample's difference is
    # 100 k / 4 with k ~ Binomial(4, 1/4): P(k=0) = .316, P(k<=1) = .738, P(k<=2) = .949,
    # P(k<=3) = .996. So the 2.5th percentile is 0 and the 97.5th is 75.
    a, b, words = [1, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]
    diff, low, high = paired_difference(a, b, words, n_boot=20000, seed=1)
    assert diff == pytest.approx(25.0)
    assert (low, high) == (pytest.approx(0.0), pytest.approx(75.0))
    assert not excludes_zero(low, high)  # an interval that touches zero does not count
    # a difference on every sentence: every resample gives +100
    assert paired_difference([1, 1, 1, 1], b, words, 500, seed=2) == (100.0, 100.0, 100.0)
    assert excludes_zero(100.0, 100.0) and excludes_zero(-3.0, -0.5)


def test_paired_differences_cancel_shared_sentence_variation():
    # A = B + 1 correct word on every sentence, sentences of very different sizes and difficulty:
    # the paired interval is narrow; unpaired, the scores' own intervals overlap widely.
    rng = np.random.default_rng(0)
    words = rng.integers(5, 40, size=200)
    b = (words * rng.uniform(0.2, 0.9, size=200)).astype(int)
    a = b + 1
    diff, low, high = paired_difference(a, b, words, 2000, seed=3)
    assert diff == pytest.approx(100 * 200 / words.sum())
    assert low > 0 and high - low < 1.0
    lo_a, hi_a = score_interval(a, words, 2000, seed=3)
    lo_b, hi_b = score_interval(b, words, 2000, seed=3)
    assert lo_a < hi_b  # the scores' intervals overlap, yet the paired difference is clear
    assert lo_a <= 100 * a.sum() / words.sum() <= hi_a


def test_score_interval_weights_sentences_by_words():
    # two sentences: 10 words all right, 2 words all wrong. Resamples: {1,1} 100%, {2,2} 0%,
    # mixed 10/12 = 83.3% (probability 1/2). With 4,000 resamples the 2.5th/97.5th percentiles
    # are 0 and 100.
    low, high = score_interval([10, 0], [10, 2], 4000, seed=0)
    assert (low, high) == (pytest.approx(0.0), pytest.approx(100.0))
    with pytest.raises(LangrepError, match="more correct"):
        score_interval([3], [2])
    with pytest.raises(LangrepError, match="sentences"):
        paired_difference([1, 1], [1], [2, 2])


# ---------------------------------------------------------------------------------------------
# baselines on a hand-made treebank


def _treebank():
    # "The dog barks ." / "Cats sleep"
    return [
        Sentence(
            "1",
            ("The", "dog", "barks", "."),
            ("DET", "NOUN", "VERB", "PUNCT"),
            (2, 3, 0, 3),
            ("det", "nsubj", "root", "punct"),
        ),
        Sentence("2", ("Cats", "sleep"), ("NOUN", "VERB"), (2, 0), ("nsubj", "root")),
    ]


def test_majority_tag_and_its_accuracy():
    train = _treebank()
    assert majority_tag(train) == "NOUN"  # NOUN 2, VERB 2: ties go to the alphabetically first
    tb = _treebank()
    pred = baseline_predictions("majority", tb, "NOUN")
    assert pred == [["NOUN"] * 4, ["NOUN"] * 2]
    assert pos_accuracy(pred, [s.upos for s in tb]) == pytest.approx(100 * 2 / 6)
    with pytest.raises(LangrepError, match="no words"):
        majority_tag([])


def test_attachment_baselines_by_hand():
    tb = _treebank()
    assert attach_next(4) == [2, 3, 4, 0] and attach_prev(4) == [0, 1, 2, 3]
    assert is_tree(attach_next(4)) and is_tree(attach_prev(4)) and attach_next(1) == attach_prev(1) == [0]
    gold_h, gold_r = [s.heads for s in tb], [s.deprels for s in tb]
    heads, rels = baseline_predictions("attach_next", tb)
    # sentence 1: The->dog right, dog->barks right, barks->. wrong, .->root wrong; sentence 2: both right
    uas, las = attachment_scores(heads, rels, gold_h, gold_r)
    assert (uas, las) == (pytest.approx(100 * 4 / 6), 0.0)
    heads, rels = baseline_predictions("attach_prev", tb)
    # sentence 1: only "." -> barks right; sentence 2: Cats->root wrong, sleep->Cats wrong
    assert attachment_scores(heads, rels, gold_h, gold_r)[0] == pytest.approx(100 * 1 / 6)
    with pytest.raises(LangrepError, match="unknown baseline"):
        baseline_predictions("random", tb)
