"""Extraction against a slow token-by-token reference on a tiny random BERT."""
from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from langrep.errors import LangrepError
from langrep.extract import extract, extract_to_parquet, length_sorted_batches, read_pooled
from langrep.means import LayerSums, combine_sums, language_means, read_means, write_means

SENTENCES = [
    "the girl can help me .",
    "der hund ist in das haus",
    "я не может",
    "女孩 是 我 的",
    "a",
    "there is no one who can help me across the town , the dog and the cat !",
    "la fille qui peut aider est la",
    "xyzzy unknownword qqq",
]


def reference(model, tokenizer, texts, include_special=False):
    """One sentence at a time, no padding, a plain Python loop over tokens."""
    n_layers = model.config.num_hidden_layers + 1
    pooled = np.zeros((n_layers, len(texts), model.config.hidden_size))
    sums = np.zeros((n_layers, model.config.hidden_size))
    count = 0
    specials = set(tokenizer.all_special_ids)
    for s, text in enumerate(texts):
        ids = tokenizer(text)["input_ids"]
        with torch.no_grad():
            states = model(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states
        keep = [t for t, i in enumerate(ids) if include_special or i not in specials]
        for l in range(n_layers):
            vecs = [states[l][0, t].double().numpy() for t in keep]
            for v in vecs:
                sums[l] += v
            pooled[l, s] = np.mean(vecs, axis=0) if vecs else 0.0
        count += len(keep)
    return pooled, sums, count


@pytest.mark.parametrize("include_special", [False, True])
@pytest.mark.parametrize("budget", [16, 64, 10_000])
def test_extract_matches_token_by_token_reference(tiny_bert, tiny_tokenizer, include_special, budget):
    res = extract(tiny_bert, tiny_tokenizer, SENTENCES, token_budget=budget, include_special_tokens=include_special)
    pooled, sums, count = reference(tiny_bert, tiny_tokenizer, SENTENCES, include_special)
    assert res.n_tokens == count
    assert sorted(res.pooled) == list(range(tiny_bert.config.num_hidden_layers + 1))
    for l, x in res.pooled.items():
        assert x.dtype == np.float32
        np.testing.assert_allclose(x, pooled[l], atol=2e-5)
    assert res.sums.sums.dtype == np.float64
    np.testing.assert_allclose(res.sums.sums, sums, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(language_means(res.sums).means, sums / count, atol=1e-6)


def test_special_tokens_are_excluded_by_default(tiny_bert, tiny_tokenizer):
    without = extract(tiny_bert, tiny_tokenizer, SENTENCES[:3])
    with_special = extract(tiny_bert, tiny_tokenizer, SENTENCES[:3], include_special_tokens=True)
    assert with_special.n_tokens == without.n_tokens + 2 * 3  # [CLS] and [SEP] per sentence


def test_batches_respect_the_budget_and_cover_every_sentence():
    lengths = [5, 50, 3, 20, 20, 7, 300, 1]
    batches = length_sorted_batches(lengths, token_budget=60)
    seen = np.concatenate(batches)
    assert sorted(seen.tolist()) == list(range(len(lengths)))
    for b in batches:
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 60
    # longest first, so each batch is padded only to its own longest member
    assert lengths[batches[0][0]] == 300


def test_shards_combine_to_the_mean_of_the_whole(tiny_bert, tiny_tokenizer):
    whole = extract(tiny_bert, tiny_tokenizer, SENTENCES, pooled_layers=[])
    shards = [extract(tiny_bert, tiny_tokenizer, SENTENCES[i:i + 3], pooled_layers=[]).sums for i in (0, 3, 6)]
    combined = combine_sums(shards)
    assert combined.n_tokens == whole.n_tokens
    # fp32 forward passes over differently padded batches differ in the last bits only
    np.testing.assert_allclose(language_means(shards).means, whole.sums.means, rtol=1e-6, atol=1e-6)


def test_extract_to_parquet_streams_in_corpus_order(tmp_path, tiny_bert, tiny_tokenizer):
    ids = [f"s{i}" for i in range(len(SENTENCES))]
    path = tmp_path / "emb.parquet"
    sums = extract_to_parquet(tiny_bert, tiny_tokenizer, ids, SENTENCES, path, pooled_layers=[0, 2],
                              token_budget=32, chunk_sentences=3)
    whole = extract(tiny_bert, tiny_tokenizer, SENTENCES, pooled_layers=[0, 2])
    assert pq.read_schema(path).names == ["id", "n_tokens", "layer_0", "layer_2"]
    got_ids, x = read_pooled(path, 2)
    assert got_ids == ids
    np.testing.assert_allclose(x, whole.pooled[2], atol=1e-6)
    np.testing.assert_allclose(sums.sums, whole.sums.sums, rtol=1e-6, atol=1e-5)
    with pytest.raises(LangrepError, match="layer 1"):
        read_pooled(path, 1)
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_failed_write_leaves_no_artifact(tmp_path, tiny_bert, tiny_tokenizer):
    path = tmp_path / "emb.parquet"
    with pytest.raises(LangrepError, match="out of range"):
        extract_to_parquet(tiny_bert, tiny_tokenizer, ["a"], ["a"], path, pooled_layers=[99])
    assert list(tmp_path.iterdir()) == []


def test_means_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    sums = LayerSums(rng.normal(size=(4, 6)), 10)
    m = language_means(sums, {"model": "x"})
    write_means(m, tmp_path / "m.parquet")
    back = read_means(tmp_path / "m.parquet")
    np.testing.assert_array_equal(back.means, sums.sums / 10)
    assert back.n_tokens == 10 and back.meta["model"] == "x"


def test_small_corpora_are_not_padded_to_their_longest_sentence():
    lengths = [40] * 30 + [10] * 300
    batches = length_sorted_batches(lengths, token_budget=100_000, min_tokens=1000)
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    assert padded == sum(lengths)  # two batches, one per length: no padding at all
    assert len(batches) == 2


def test_parallel_corpus_equals_one_side_at_a_time(tmp_path, tiny_model_dir):
    """extract_parallel_corpus (one model load, both sides) writes what extract_corpus writes per side."""
    import pandas as pd

    from langrep.means import read_sums
    from langrep.pipeline import extract_corpus, extract_parallel_corpus

    texts = {"de": ["der hund", "die katze schläft", "ein haus"], "en": ["the dog", "the cat sleeps", "a house"]}
    settings = {"device": "cpu", "token_budget": 64, "max_length": 16}
    sides, single = [], {}
    for lang, t in texts.items():
        corpus = tmp_path / f"{lang}.parquet"
        pd.DataFrame({"id": [str(i) for i in range(len(t))], "lang": lang, "text": t}).to_parquet(corpus)
        sides.append({"corpus_path": corpus, "embeddings_path": tmp_path / "pair" / f"{lang}.emb.parquet",
                      "sums_path": tmp_path / "pair" / f"{lang}.sums.parquet"})
        single[lang] = (tmp_path / "single" / f"{lang}.emb.parquet", tmp_path / "single" / f"{lang}.sums.parquet")
        extract_corpus(corpus, tiny_model_dir, *single[lang], settings, pooled_layers=[1, 3])
    extract_parallel_corpus(sides, tiny_model_dir, settings, pooled_layers=[1, 3])
    for side, lang in zip(sides, texts):
        for layer in (1, 3):
            ids_a, a = read_pooled(side["embeddings_path"], layer)
            ids_b, b = read_pooled(single[lang][0], layer)
            assert list(ids_a) == list(ids_b)
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(read_sums(side["sums_path"]).sums, read_sums(single[lang][1]).sums, rtol=1e-6)
    # an empty side is refused before anything is written for it
    empty = tmp_path / "empty.parquet"
    pd.DataFrame({"id": [], "lang": [], "text": []}).astype(str).to_parquet(empty)
    with pytest.raises(LangrepError, match="no sentences"):
        extract_parallel_corpus([{"corpus_path": empty, "embeddings_path": tmp_path / "e.parquet",
                                  "sums_path": tmp_path / "s.parquet"}], tiny_model_dir, settings)
    assert not (tmp_path / "e.parquet").exists()
