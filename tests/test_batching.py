"""langrep.batching: tokenization into flat ids, length-sorted and shuffled batches, padding
(the batcher of extraction, the MLM head, translation and transfer)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from langrep.batching import (
    TokenIds,
    length_sorted_batches,
    pad_batch,
    pad_tensors,
    pad_token_id,
    shuffled_batches,
    special_ids,
    tokenize,
    tokenize_ids,
)
from langrep.errors import LangrepError

SENTENCES = [
    "the girl can help me",
    "there is no one who can help me",
    "der hund ist da",
    "a boy",
    "la fille qui peut aider",
    "我 是 女孩",
    "the dog is in the house . the cat is there !",
]


def test_batches_respect_the_budget_and_cover_every_sentence():
    lengths = [5, 50, 3, 20, 20, 7, 300, 1]
    batches = length_sorted_batches(lengths, token_budget=60)
    seen = np.concatenate(batches)
    assert sorted(seen.tolist()) == list(range(len(lengths)))
    for b in batches:
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 60
    # longest first, so each batch is padded only to its own longest member
    assert lengths[batches[0][0]] == 300


def test_small_corpora_are_not_padded_to_their_longest_sentence():
    lengths = [40] * 30 + [10] * 300
    batches = length_sorted_batches(lengths, token_budget=100_000, min_tokens=1000)
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    assert padded == sum(lengths)  # two batches, one per length: no padding at all
    assert len(batches) == 2


def test_tokenize_ids_equals_the_transformers_call_and_restores_the_tokenizer(tiny_tokenizer):
    backend = tiny_tokenizer.backend_tokenizer
    for max_length in (4, 9, 128):
        backend.enable_padding(pad_id=0, pad_token="[PAD]", length=40)
        backend.no_truncation()
        try:
            got = tokenize_ids(tiny_tokenizer, SENTENCES, max_length)
            # the caller's settings are back (padding to 40, no truncation)
            assert backend.padding["length"] == 40 and backend.truncation is None
        finally:
            backend.no_padding()
        want = tiny_tokenizer(SENTENCES, truncation=True, max_length=max_length)["input_ids"]
        assert [got[i].tolist() for i in range(len(SENTENCES))] == want
        assert max(len(x) for x in want) == min(
            max_length, max(len(x) for x in tokenize(tiny_tokenizer, SENTENCES, 10_000))
        )


def test_token_ids_and_vectorized_padding_match_a_python_loop():
    seqs = [[5, 6, 7], [], [9], [1, 2, 3, 4, 8], [3, 3]]
    tokens = TokenIds.from_lists(seqs)
    assert tokens.lengths.tolist() == [3, 0, 1, 5, 2] and len(tokens) == 5
    assert tokens[3].tolist() == [1, 2, 3, 4, 8]
    index = [3, 0, 1, 4]
    for source in (tokens, seqs):
        ids, mask = pad_batch(source, index, pad_id=-1)
        assert ids.shape == mask.shape == (4, 5) and ids.dtype == np.int64 and mask.dtype == bool
        for row, i in enumerate(index):
            want = seqs[i] + [-1] * (5 - len(seqs[i]))
            assert ids[row].tolist() == want
            assert mask[row].tolist() == [True] * len(seqs[i]) + [False] * (5 - len(seqs[i]))
    ids, mask = pad_batch(tokens, [2], pad_id=0, width=4)
    assert ids.tolist() == [[9, 0, 0, 0]]
    with pytest.raises(LangrepError, match="does not fit"):
        pad_batch(tokens, [3], pad_id=0, width=4)
    with pytest.raises(LangrepError, match="offsets"):
        TokenIds(np.array([1, 2]), np.array([0, 3]))


def test_batches_of_a_large_corpus_have_one_length_and_padding_stays_bounded():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 60, size=5000)
    batches = length_sorted_batches(lengths, token_budget=4096)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    padded = [len(b) * lengths[b].max() for b in batches]
    real = [lengths[b].sum() for b in batches]
    assert all(p <= 4096 for p in padded)
    # ~85 sentences per length, more than half a batch (the default min_tokens) for most lengths:
    # most batches hold one length, so there is little padding in all
    assert sum(len(set(lengths[b])) == 1 for b in batches) > 0.5 * len(batches)
    # a length's leftover below half a budget joins the next length's batch (fewer, larger matrix
    # products): that costs about 1% padding here (1.05%), where one batch per length cost less
    assert sum(padded) - sum(real) < 0.012 * sum(real)
    # and no batch is more than 15% padding (the default max_padding)
    assert all(p - r <= 0.15 * p for p, r in zip(padded, real))


def _greedy_from_the_shortest(lengths, token_budget):
    """A plain loop: take sentences shortest first; close a batch when the next one would make
    (sentences x longest) exceed the budget."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches, cur = [], []
    for i in order:
        if cur and lengths[i] * (len(cur) + 1) > token_budget:
            batches.append(cur)
            cur = []
        cur.append(i)
    return batches + ([cur] if cur else [])


def test_shortest_first_batches_equal_a_plain_greedy_loop():
    rng = np.random.default_rng(0)
    for _ in range(300):
        lengths = rng.integers(1, 120, size=int(rng.integers(0, 60))).tolist()
        budget = int(rng.integers(1, 2000))
        got = length_sorted_batches(lengths, budget, max_padding=None, shortest_first=True)
        assert [b.tolist() for b in got] == _greedy_from_the_shortest(lengths, budget)
    # ties keep their order; a sentence over the budget gets a batch of its own
    got = length_sorted_batches([4, 2, 9, 2, 4], 8, max_padding=None, shortest_first=True)
    assert [b.tolist() for b in got] == [[1, 3], [0, 4], [2]]


def test_shuffled_batches_cover_every_sentence_once_and_are_seeded():
    lengths = np.random.default_rng(1).integers(3, 60, size=1000)
    batches = shuffled_batches(lengths, 32, np.random.default_rng(7))
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    assert sum(len(b) == 32 for b in batches) >= len(batches) - 1  # one short batch per pool of 50
    again = shuffled_batches(lengths, 32, np.random.default_rng(7))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    # batches are cut from length-sorted pools: far less spread than random batches of 32
    spread = np.mean([lengths[b].max() - lengths[b].min() for b in batches])
    assert spread < 5


def test_pad_tensors_and_the_tokenizer_ids(tiny_tokenizer):
    ids, mask = pad_tensors([(5, 6, 7), (9,)], pad_id=3)
    assert ids.dtype == mask.dtype == torch.int64
    assert ids.tolist() == [[5, 6, 7], [9, 3, 3]] and mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    assert pad_tensors([(1,), (2, 2)], [1], pad_id=0, width=3)[0].tolist() == [[2, 2, 0]]
    assert pad_token_id(tiny_tokenizer) == tiny_tokenizer.convert_tokens_to_ids("[PAD]")
    assert special_ids(tiny_tokenizer) == sorted(
        tiny_tokenizer.convert_tokens_to_ids(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    )
