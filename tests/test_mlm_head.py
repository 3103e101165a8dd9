"""The MLM head fitted on a frozen encoder: whole-vocabulary decoding, fitting, held-out quality, files."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from conftest import build_tiny_bert
from translation_common import DE, EN, one_thread  # noqa: F401 (one_thread: an autouse fixture)

from langrep.errors import LangrepError
from langrep.translation.mlm_head import (
    FittedMLMHead,
    corpus_vocab,
    head_kind,
    load_head,
    save_head,
    shortlist,
    write_pretrained_marker,
)
from langrep.translation.mlm_head_fitting import fit_mlm_head
from langrep.translation.mlm_head_preparation import prepare_head
from langrep.translation.mlm_head_quality import evaluate_head, split_heldout


@pytest.fixture(scope="module")
def encoder(tiny_tokenizer):
    enc = build_tiny_bert(len(tiny_tokenizer), seed=2)
    for p in enc.parameters():
        p.requires_grad_(False)
    return enc


def test_argmax_is_the_exact_argmax_over_the_whole_vocabulary(encoder):
    torch.manual_seed(0)
    emb = encoder.get_input_embeddings().weight
    head = FittedMLMHead(emb, emb.shape[0], width=24).eval()
    with torch.no_grad():
        head.bias.normal_(0, 0.3)
    h = torch.randn(300, emb.shape[1])
    want = head(h).argmax(-1)
    assert head(h).shape == (300, emb.shape[0])
    # small blocks and chunks: several of each, a last chunk shorter than k
    assert emb.shape[0] % 50 and emb.shape[0] % 16  # the last chunk is a short one
    for block, chunk in ((64, 16), (300, emb.shape[0]), (7, 50)):
        assert torch.equal(head.argmax(h, block=block, chunk=chunk), want), (block, chunk)
    assert head.argmax(h[:0]).shape == (0,)


@pytest.mark.parametrize("chunk", [1, 7, 64, 1000])
def test_shortlist_is_the_top_k_of_the_whole_product(chunk):
    # Independently: one topk over the whole [n, V] product. Rows whose best entries sit in late
    # chunks (where the running threshold is already high) and in the short last chunk included.
    torch.manual_seed(3)
    x, w = torch.randn(50, 12), torch.randn(333, 12)
    w[-1] = x[0] * 10  # row 0's best is the very last vocabulary row
    full = x @ w.T
    for k in (1, 4, 9):
        want = full.topk(k, dim=-1).indices
        for skip_rows in (True, False):  # False: what a GPU runs
            got = shortlist(x, w, k, chunk, skip_rows=skip_rows)
            assert got.shape == (50, k)
            assert torch.equal(got.sort(1).values, want.sort(1).values), (chunk, k, skip_rows)
    assert shortlist(x, w, 4, chunk)[0].tolist().count(332) == 1


def test_shortlist_with_ties_returns_tied_values_of_the_top_k():
    # Integer scores tie a lot: which tied id enters at the k-th place is free, its value is not.
    torch.manual_seed(4)
    x, w = torch.randint(-2, 3, (40, 6)).float(), torch.randint(-2, 3, (200, 6)).float()
    full = x @ w.T
    got = shortlist(x, w, 5, 16)
    want = full.topk(5, dim=-1).values
    assert torch.equal(full.gather(1, got).sort(1, descending=True).values, want)
    assert all(len(set(r)) == 5 for r in got.tolist())  # no id twice


def test_head_emits_a_token_absent_from_its_fitting_text(encoder, tiny_tokenizer):
    # Fitted on English only; the tied decoder still gives back German words it never saw.
    fit = fit_mlm_head(
        encoder,
        tiny_tokenizer,
        {"en": EN * 8},
        steps=300,
        batch_size=64,
        negatives=32,
        width=64,
        lr=1e-2,
        mask_prob=0.0,
        seed=0,
    )
    assert fit.stats["vocab_size"] == len(tiny_tokenizer) == fit.head.vocab_size
    fit_vocab = corpus_vocab(tiny_tokenizer, EN)
    q = evaluate_head(fit.head, encoder, tiny_tokenizer, {"de": DE}, fit_vocab=fit_vocab, mask_prob=0.0)["de"]
    assert q["unseen_in_fit_share"] > 50  # most German pieces never occur in the English text
    assert q["reconstruction_unseen_in_fit"] > 0, q
    # the same, independently: the full logits' argmax at German positions
    ids = tiny_tokenizer(DE, padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = encoder(**ids).last_hidden_state
        pred = fit.head(hidden).argmax(-1)
    keep = ids["attention_mask"].bool() & ~torch.isin(ids["input_ids"], torch.tensor(tiny_tokenizer.all_special_ids))
    emitted_unseen = {int(p) for p, t in zip(pred[keep], ids["input_ids"][keep]) if p == t} - fit_vocab
    assert emitted_unseen, "no German token came back"
    assert 100 * float((pred[keep] == ids["input_ids"][keep]).float().mean()) == pytest.approx(q["reconstruction"])


def test_fitting_lowers_loss_reconstructs_and_round_trips(encoder, tiny_tokenizer, tmp_path):
    fit = fit_mlm_head(
        encoder,
        tiny_tokenizer,
        {"en": EN * 4, "de": DE * 4},
        steps=150,
        batch_size=64,
        negatives=32,
        width=64,
        lr=1e-2,
        seed=0,
    )
    s = fit.stats
    assert s["loss_last"] < 0.5 * s["loss_first"], s
    assert s["train_accuracy_unmasked"] > 0.8, s
    assert s["n_masked_positions"] > 0 and s["n_positions"] > s["n_masked_positions"]
    save_head(fit.head, fit.stats, tmp_path)
    assert head_kind(tmp_path) == "fitted"
    assert json.loads((tmp_path / "head.json").read_text())["steps"] == 150
    loaded = load_head(tmp_path, encoder)
    h = torch.randn(7, encoder.config.hidden_size)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(h), fit.head(h))
    # the decoder is tied to the (frozen) input embeddings, every row a token of the tokenizer
    torch.testing.assert_close(loaded.decoder_weight, encoder.get_input_embeddings().weight[: len(tiny_tokenizer)])


def test_masked_accuracy_counts_masked_positions_only(encoder, tiny_tokenizer):
    fit = fit_mlm_head(encoder, tiny_tokenizer, {"en": EN * 4}, steps=5, batch_size=16, negatives=8, width=8)
    q = evaluate_head(fit.head, encoder, tiny_tokenizer, {"en": EN * 6}, mask_prob=0.3, seed=3)["en"]
    n_tokens = sum(len(tiny_tokenizer(t, add_special_tokens=False)["input_ids"]) for t in EN * 6)
    assert q["n_tokens"] == n_tokens and 0 < q["n_masked"] < n_tokens
    assert q["n_sentences"] == 30
    none = evaluate_head(fit.head, encoder, tiny_tokenizer, {"en": EN}, mask_prob=0.0)["en"]
    assert none["n_masked"] == 0 and none["masked_accuracy"] is None


def test_split_heldout():
    texts = [f"s{i}" for i in range(20)]
    fit, held = split_heldout(texts, n_fit=5, n_heldout=3)
    assert fit == texts[:5] and held == texts[17:]
    fit, held = split_heldout(texts, n_fit=100, n_heldout=30)  # at most a fifth held out
    assert held == texts[16:] and fit == texts[:16]
    assert split_heldout(texts[:4], 10, 3) == (texts[:4], [])


def test_prepare_head_records_quality_per_language(tmp_path, tiny_tokenizer):
    model_dir = tmp_path / "encoder"
    build_tiny_bert(len(tiny_tokenizer), seed=4).save_pretrained(model_dir)
    tiny_tokenizer.save_pretrained(model_dir)
    mono = {}
    for lang, texts in (("en", EN * 3), ("de", DE * 3)):
        mono[lang] = tmp_path / f"{lang}.parquet"
        pd.DataFrame({"id": [str(i) for i in range(len(texts))], "lang": lang, "text": texts}).to_parquet(mono[lang])
    out = tmp_path / "head"
    settings = dict(sentences_per_lang=8, heldout_per_lang=3, steps=10, batch_size=32, negatives=8, width=8)
    assert prepare_head(model_dir, mono, out, settings) == "fitted"
    rec = json.loads((out / "head.json").read_text())
    assert rec["vocab_size"] == rec["tokenizer_vocab_size"] == len(tiny_tokenizer)
    assert set(rec["heldout"]) == {"en", "de"}
    assert rec["heldout"]["de"]["n_sentences"] == 3 and rec["sentences_per_lang"] == 8
    assert 0 <= rec["heldout"]["en"]["reconstruction"] <= 100
    # too little text for a held-out part: one clear error naming the file
    pd.DataFrame({"id": ["1"], "lang": "de", "text": ["die katze"]}).to_parquet(mono["de"])
    with pytest.raises(LangrepError, match="de.parquet"):
        prepare_head(model_dir, mono, tmp_path / "head2", settings)


def test_prepare_head_marks_a_pretrained_head(tmp_path, tiny_model_dir):
    assert prepare_head(tiny_model_dir, {}, tmp_path, {}) == "pretrained"
    assert head_kind(tmp_path) == "pretrained"


def test_head_record_errors(tmp_path, encoder):
    with pytest.raises(LangrepError, match="not found"):
        head_kind(tmp_path)
    (tmp_path / "head.json").write_text('{"head": "other"}')
    with pytest.raises(LangrepError, match="unknown head kind"):
        head_kind(tmp_path)
    write_pretrained_marker(tmp_path)
    assert head_kind(tmp_path) == "pretrained"
    with pytest.raises(LangrepError, match="fitted MLM head not found"):
        load_head(tmp_path, encoder)
