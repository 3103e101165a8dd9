"""Extraction against a slow token-by-token reference on a tiny random BERT."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from langrep.errors import LangrepError
from langrep.extraction.hidden_states import extract, extract_to_parquet, read_pooled
from langrep.means.representations import LayerSums, combine_sums, language_means, read_means, write_means

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


def test_shards_combine_to_the_mean_of_the_whole(tiny_bert, tiny_tokenizer):
    whole = extract(tiny_bert, tiny_tokenizer, SENTENCES, pooled_layers=[])
    shards = [extract(tiny_bert, tiny_tokenizer, SENTENCES[i : i + 3], pooled_layers=[]).sums for i in (0, 3, 6)]
    combined = combine_sums(shards)
    assert combined.n_tokens == whole.n_tokens
    # fp32 forward passes over differently padded batches differ in the last bits only
    np.testing.assert_allclose(language_means(shards).means, whole.sums.means, rtol=1e-6, atol=1e-6)


def test_extract_to_parquet_streams_in_corpus_order(tmp_path, tiny_bert, tiny_tokenizer):
    ids = [f"s{i}" for i in range(len(SENTENCES))]
    path = tmp_path / "emb.parquet"
    sums = extract_to_parquet(
        tiny_bert, tiny_tokenizer, ids, SENTENCES, path, pooled_layers=[0, 2], token_budget=32, chunk_sentences=3
    )
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


def test_parallel_corpus_equals_one_side_at_a_time(tmp_path, tiny_model_dir):
    """extract_parallel_corpus (one model load, both sides) writes what extract_corpus writes per side."""
    import pandas as pd

    from langrep.extraction.corpus import extract_corpus, extract_parallel_corpus
    from langrep.means.representations import read_sums

    texts = {"de": ["der hund", "die katze schläft", "ein haus"], "en": ["the dog", "the cat sleeps", "a house"]}
    settings = {"device": "cpu", "token_budget": 64, "max_length": 16, "pooled_layers": [1, 3]}
    sides, single = [], {}
    for lang, t in texts.items():
        corpus = tmp_path / f"{lang}.parquet"
        pd.DataFrame({"id": [str(i) for i in range(len(t))], "lang": lang, "text": t}).to_parquet(corpus)
        sides.append(
            {
                "corpus_path": corpus,
                "embeddings_path": tmp_path / "pair" / f"{lang}.emb.parquet",
                "sums_path": tmp_path / "pair" / f"{lang}.sums.parquet",
            }
        )
        single[lang] = (tmp_path / "single" / f"{lang}.emb.parquet", tmp_path / "single" / f"{lang}.sums.parquet")
        extract_corpus(corpus, tiny_model_dir, *single[lang], settings)
    extract_parallel_corpus(sides, tiny_model_dir, settings)
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
        extract_parallel_corpus(
            [{"corpus_path": empty, "embeddings_path": tmp_path / "e.parquet", "sums_path": tmp_path / "s.parquet"}],
            tiny_model_dir,
            settings,
        )
    assert not (tmp_path / "e.parquet").exists()


def test_the_extraction_job_writes_the_means_a_separate_means_step_would(tmp_path, tiny_model_dir):
    """With means_path the extraction writes R_L^l: the file means_from_sums makes from the sums
    file, byte for byte, and the token-weighted mean of every layer's states by hand."""
    import pandas as pd

    from langrep.extraction.corpus import extract_corpus, means_from_sums
    from langrep.means.representations import read_sums

    corpus = tmp_path / "de.parquet"
    texts = ["der hund", "die katze schläft", "ein haus"]
    pd.DataFrame({"id": ["1", "2", "3"], "lang": "de", "text": texts}).to_parquet(corpus)
    settings = {"device": "cpu", "token_budget": 64, "max_length": 16, "pooled_layers": [2]}
    out = {k: tmp_path / f"{k}.parquet" for k in ("embeddings", "sums", "means")}
    extract_corpus(corpus, tiny_model_dir, out["embeddings"], out["sums"], settings, means_path=out["means"])
    means_from_sums([out["sums"]], corpus, tiny_model_dir, tmp_path / "separate.parquet")
    assert out["means"].read_bytes() == (tmp_path / "separate.parquet").read_bytes()
    sums = read_sums(out["sums"])
    np.testing.assert_allclose(read_means(out["means"]).means, sums.sums / sums.n_tokens, rtol=1e-12)
    # without means_path no means file is written (the library's callers choose)
    extract_corpus(corpus, tiny_model_dir, tmp_path / "e2.parquet", tmp_path / "s2.parquet", settings)
    assert sorted(p.name for p in tmp_path.glob("*means*")) == ["means.parquet"]


# ---------------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------------


def test_a_single_string_or_a_non_string_item_is_refused(tiny_bert, tiny_tokenizer):
    # a str is a sequence of characters: it must not be embedded one character per "sentence"
    with pytest.raises(LangrepError, match="single str.*\\[text\\]"):
        extract(tiny_bert, tiny_tokenizer, "the girl can help me")
    with pytest.raises(LangrepError, match=r"texts\[1\] is NoneType"):
        extract(tiny_bert, tiny_tokenizer, ["the girl", None])
    with pytest.raises(LangrepError, match="sequence of strings, got int"):
        extract(tiny_bert, tiny_tokenizer, 3)
    # a tuple or any other iterable of strings is fine
    assert extract(tiny_bert, tiny_tokenizer, ("the girl", "a dog"), pooled_layers=[1]).pooled[1].shape == (2, 32)


def test_chunks_start_small_and_double():
    from langrep.extraction.hidden_states import chunk_bounds

    assert chunk_bounds(10_000, 3000, first=1000) == [
        (0, 1000),
        (1000, 3000),
        (3000, 6000),
        (6000, 9000),
        (9000, 10_000),
    ]
    assert chunk_bounds(5, None) == [(0, 5)]
    assert chunk_bounds(0, 3000) == [(0, 0)]


def test_many_chunks_equal_one(tiny_bert, tiny_tokenizer):
    import langrep.extraction.hidden_states as E

    texts = SENTENCES * 5
    whole = extract(tiny_bert, tiny_tokenizer, texts, token_budget=64)
    parts = list(E.iter_chunks(tiny_bert, tiny_tokenizer, texts, token_budget=64, chunk_sentences=7))
    assert [p[0] for p in parts] == [0, 7, 14, 21, 28, 35]  # on a CPU: no small first chunks
    chunked = E.extract(tiny_bert, tiny_tokenizer, texts, token_budget=64, chunk_sentences=7)
    assert chunked.n_tokens == whole.n_tokens
    np.testing.assert_array_equal(chunked.sentence_tokens, whole.sentence_tokens)
    for l in whole.pooled:
        np.testing.assert_allclose(chunked.pooled[l], whole.pooled[l], atol=2e-6)
    np.testing.assert_allclose(chunked.sums.sums, whole.sums.sums, rtol=1e-6, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# reduced precision
# ---------------------------------------------------------------------------------------------


class LookupEncoder(torch.nn.Module):
    """Hidden states that depend on each token alone (layer l of token i: ``table[l, i]``), so the
    pooling arithmetic is tested apart from the model's own; the table holds values near 3, where a
    bfloat16 running sum loses about 1% within a sentence."""

    def __init__(self, vocab: int, hidden: int = 16, layers: int = 2, dtype=torch.bfloat16):
        super().__init__()
        from types import SimpleNamespace

        self.config = SimpleNamespace(num_hidden_layers=layers, hidden_size=hidden)
        g = torch.Generator().manual_seed(0)
        self.table = torch.nn.Parameter((3 + torch.rand(layers + 1, vocab, hidden, generator=g)).to(dtype))

    def forward(self, input_ids, attention_mask=None, output_hidden_states=True):
        from types import SimpleNamespace

        return SimpleNamespace(hidden_states=tuple(t[input_ids] for t in self.table))


def test_bf16_states_are_summed_in_float32_or_wider(tiny_tokenizer):
    model = LookupEncoder(len(tiny_tokenizer))
    texts = [" ".join(SENTENCES)] * 2 + SENTENCES
    res = extract(model, tiny_tokenizer, texts, token_budget=256, max_length=128)
    table = model.table.detach().double().numpy()  # bf16 values, exactly
    specials = set(tiny_tokenizer.all_special_ids)
    total = np.zeros((3, 16))
    for s, text in enumerate(texts):
        ids = [i for i in tiny_tokenizer(text, truncation=True, max_length=128)["input_ids"] if i not in specials]
        assert res.sentence_tokens[s] == len(ids)
        for l in range(3):
            want = table[l, ids].mean(0)
            np.testing.assert_allclose(res.pooled[l][s], want, rtol=1e-6)
            # a bf16 running sum (the naive way) would be ~1e-2 off on these sentences
            bf16_sum = torch.tensor(table[l, ids], dtype=torch.bfloat16).sum(0).double().numpy() / len(ids)
            if len(ids) > 40:
                assert np.abs(bf16_sum - want).max() > 1e-3
            total[l] += table[l, ids].sum(0)
    np.testing.assert_allclose(res.sums.sums, total, rtol=1e-9)


def test_bf16_and_fp32_extractions_agree(tiny_bert, tiny_tokenizer):
    """The same tiny model in bfloat16 (what ``dtype: auto`` picks on a CPU with native bf16) and
    float32: pooled vectors and means agree to bf16 precision (8 bits of mantissa, ~3 layers)."""
    import copy

    bf16 = copy.deepcopy(tiny_bert).to(torch.bfloat16)
    a = extract(tiny_bert, tiny_tokenizer, SENTENCES, token_budget=64)
    b = extract(bf16, tiny_tokenizer, SENTENCES, token_budget=64)
    assert a.n_tokens == b.n_tokens
    for l in a.pooled:
        x, y = a.pooled[l], b.pooled[l]
        assert y.dtype == np.float32
        scale = np.abs(x).max()
        assert np.abs(x - y).max() < 0.03 * scale
        nonzero = np.linalg.norm(x, axis=1) > 0
        cos = (x * y).sum(1)[nonzero] / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))[nonzero]
        assert cos.min() > 0.999
    ma, mb = language_means(a.sums).means, language_means(b.sums).means
    assert np.abs(ma - mb).max() < 0.03 * np.abs(ma).max()


def test_forward_passes_run_without_cudnn_attention(tiny_bert, tiny_tokenizer, monkeypatch):
    """cuDNN's attention plans every new batch shape (~75 ms a BERT forward on an H200), and
    length-sorted batches change shape every time: the forward passes of extract run with it
    switched off, and the switch is restored afterwards. The flag exists on CPU builds too."""
    seen = []
    forward = type(tiny_bert).forward

    def recording_forward(self, *args, **kwargs):
        seen.append(torch.backends.cuda.cudnn_sdp_enabled())
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(type(tiny_bert), "forward", recording_forward)
    before = torch.backends.cuda.cudnn_sdp_enabled()
    extract(tiny_bert, tiny_tokenizer, ["a short one", "and a somewhat longer sentence here", "x"], token_budget=16)
    assert len(seen) >= 2 and not any(seen)
    assert torch.backends.cuda.cudnn_sdp_enabled() == before
