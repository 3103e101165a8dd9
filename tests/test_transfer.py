"""Transfer stage: alignment, metrics, the cached frozen bottom, training, checkpoints and the file-to-file steps,
on a tiny random BERT and a WordPiece tokenizer built in code (tests/conftest.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import build_tiny_bert

from langrep.errors import InputFormatError, LangrepError
from langrep.means.representations import LanguageMeans, write_means
from langrep.transfer import (
    LayerShift,
    Sentence,
    Tagger,
    TrainSettings,
    attachment_scores,
    encode_words,
    fit,
    layer_span,
    load_checkpoint,
    pos_accuracy,
    predict,
    read_ud,
    save_checkpoint,
    score,
    task_model,
)
from langrep.transfer.alignment import collate
from langrep.transfer.stack import freeze_bottom
from langrep.transfer.train import Forward, build_task_model, make_corpus


def train_settings(**values) -> TrainSettings:
    """Fine-tuning settings: ``values`` over the schema's defaults."""
    return TrainSettings.from_config(values)


# ---------------------------------------------------------------------------------------------
# alignment


def test_first_subword_positions(tiny_tokenizer):
    # "housedog" is not in the vocabulary: it splits into "house" + character pieces
    words = ["the", "housedog", "can", "help"]
    (enc,) = encode_words(tiny_tokenizer, [words], max_length=32)
    tokens = tiny_tokenizer.convert_ids_to_tokens(enc.input_ids)
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    # each word's position holds the first piece of that word; continuation pieces start with ##
    assert [tokens[p] for p in enc.first_subword] == ["the", "house", "can", "help"]
    assert tokens[enc.first_subword[1] + 1].startswith("##")
    assert enc.first_subword == (
        1,
        2,
        2 + len(tiny_tokenizer.tokenize("housedog")),
        3 + len(tiny_tokenizer.tokenize("housedog")),
    )
    assert enc.replaced == ()


def test_words_that_tokenize_to_nothing_keep_a_position(tiny_tokenizer):
    # the BERT normalizer strips the zero-width space and the BEL control character entirely
    assert tiny_tokenizer.tokenize("\u200b") == [] and tiny_tokenizer.tokenize("\x07") == []
    words = ["the", "\u200b", "girl", "\x07"]
    (enc,) = encode_words(tiny_tokenizer, [words], max_length=32)
    tokens = tiny_tokenizer.convert_ids_to_tokens(enc.input_ids)
    assert enc.replaced == (1, 3)
    assert [tokens[p] for p in enc.first_subword] == ["the", "[UNK]", "girl", "[UNK]"]
    assert len(set(enc.first_subword)) == 4  # every word has a distinct position


def test_long_words_and_truncation(tiny_tokenizer):
    long_word = "house" + "dog" * 12  # one word, many subwords
    words = ["the", long_word, "cat", "dog"]
    n_long = len(tiny_tokenizer.tokenize(long_word))
    assert n_long > 10
    (full,) = encode_words(tiny_tokenizer, [words], max_length=128)
    assert full.first_subword == (1, 2, 2 + n_long, 3 + n_long) and full.n_kept == 4
    # room for [CLS], "the", 5 pieces of the long word and [SEP]: "cat" and "dog" are cut off
    (cut,) = encode_words(tiny_tokenizer, [words], max_length=8)
    assert len(cut.input_ids) == 8
    assert cut.first_subword == (1, 2, -1, -1) and cut.n_kept == 2
    # a word over the WordPiece length limit (50 characters) becomes one [UNK], still aligned
    (huge,) = encode_words(tiny_tokenizer, [["the", "dog" * 30, "cat"]], max_length=32)
    assert tiny_tokenizer.convert_ids_to_tokens(huge.input_ids) == ["[CLS]", "the", "[UNK]", "cat", "[SEP]"]
    assert huge.first_subword == (1, 2, 3)


def test_collate_marks_words_and_padding(tiny_tokenizer):
    encs = encode_words(tiny_tokenizer, [["the", "girl"], ["a", "dog", "can", "help"]], max_length=32)
    ids, attn, pool, mask = collate(encs, tiny_tokenizer.pad_token_id)
    assert ids.shape == (2, 6) and attn[0].tolist() == [1, 1, 1, 1, 0, 0]
    assert pool.shape == (2, 4, 6)
    assert pool[0].argmax(-1)[:2].tolist() == [1, 2] and pool[0, 2:].sum() == 0  # padding words: zero rows
    assert mask[0].tolist() == [True, True, False, False]
    assert pool[1].argmax(-1).tolist() == [1, 2, 3, 4] and mask[1].all() and pool.sum(-1)[mask].eq(1).all()
    with pytest.raises(LangrepError, match="word_pooling"):
        collate(encs, 0, "last")


def test_mean_pooling_weights_every_piece(tiny_tokenizer):
    n = len(tiny_tokenizer.tokenize("housedog"))
    (enc,) = encode_words(tiny_tokenizer, [["the", "housedog"]])
    _, _, pool, _ = collate([enc], tiny_tokenizer.pad_token_id, "mean")
    assert pool[0, 1, 2 : 2 + n].tolist() == pytest.approx([1 / n] * n) and pool[0, 1].sum() == pytest.approx(1)
    assert enc.pieces[1] == tuple(range(2, 2 + n))


def test_slow_tokenizer_is_refused():
    class Slow:
        is_fast = False

    with pytest.raises(LangrepError, match="fast"):
        encode_words(Slow(), [["a"]])


# ---------------------------------------------------------------------------------------------
# metrics


def test_attachment_scores_by_hand():
    # "The dog barks loudly ." — gold: The<-dog(det), dog<-barks(nsubj), barks<-root, loudly<-barks
    # (advmod), .<-barks (punct).
    gold_heads = [[2, 3, 0, 3, 3]]
    gold_rels = [["det", "nsubj", "root", "advmod", "punct"]]
    # prediction: head of "loudly" wrong (2); "." right head but label "obj"; "dog" right head and
    # a subtyped label "nsubj:pass" (universal part nsubj == gold, counts for LAS); "The" right.
    pred_heads = [[2, 3, 0, 2, 3]]
    pred_rels = [["det", "nsubj:pass", "root", "advmod", "obj"]]
    uas, las = attachment_scores(pred_heads, pred_rels, gold_heads, gold_rels)
    assert uas == pytest.approx(100 * 4 / 5)  # punctuation counts
    assert las == pytest.approx(100 * 3 / 5)
    # a truncated word (None) counts as an error
    uas, las = attachment_scores(
        [[2, 3, 0, 3, None]], [["det", "nsubj", "root", "advmod", None]], gold_heads, gold_rels
    )
    assert (uas, las) == (pytest.approx(80.0), pytest.approx(80.0))


def test_gold_subtype_is_compared_on_universal_part():
    uas, las = attachment_scores([[0, 1]], [["root", "nmod"]], [[0, 1]], [["root", "nmod:poss"]])
    assert (uas, las) == (100.0, 100.0)


def test_pos_accuracy_and_length_errors():
    assert pos_accuracy([["NOUN", "VERB", None]], [["NOUN", "NOUN", "PUNCT"]]) == pytest.approx(100 / 3)
    with pytest.raises(LangrepError, match="sentence 0"):
        pos_accuracy([["NOUN"]], [["NOUN", "VERB"]])


# ---------------------------------------------------------------------------------------------
# the frozen bottom, its cache and shifts (the hooks themselves: tests/test_layer_shift.py)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny matrices: threads only add overhead (and the machine is shared)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture()
def bert(tiny_tokenizer):
    return build_tiny_bert(len(tiny_tokenizer), layers=3, hidden=32, seed=1)


def _batch(tok, texts=("the girl can help me", "der hund ist da")):
    return tok(list(texts), return_tensors="pt", padding=True)


def _states(model, batch):
    with torch.no_grad():
        return model(**batch, output_hidden_states=True).hidden_states


def test_layer_span_runs_a_slice_of_the_layers(bert, tiny_tokenizer):
    batch = _batch(tiny_tokenizer)
    plain = _states(bert, batch)
    with torch.no_grad():
        with layer_span(bert, 0, 2):
            torch.testing.assert_close(bert(**batch).last_hidden_state, plain[2])
        with layer_span(bert, 1, 3, plain[1]):
            torch.testing.assert_close(bert(**batch).last_hidden_state, plain[3])
    assert len(bert.encoder.layer) == 3  # restored
    with pytest.raises(LangrepError, match="needs that state"):
        with layer_span(bert, 1, 3):
            pass
    with pytest.raises(LangrepError, match="outside"):
        with layer_span(bert, 2, 4, plain[2]):
            pass


def _corpus_pair(task, model, tok, sentences, settings):
    """The same sentences with the frozen bottom's cache and without (one pass, hooks only)."""
    from dataclasses import replace

    cached = make_corpus(task, model, tok, sentences, settings, with_labels=True)
    return cached, replace(cached, cache=None)


@pytest.mark.parametrize("layer", [0, 1, 2, 3])
def test_cached_forward_equals_one_hooked_pass(tiny_tokenizer, layer):
    """A shift below, at or above the cached state F = 1 gives what one uncached pass with the hook
    gives (float32: equal to rounding)."""
    enc = build_tiny_bert(len(tiny_tokenizer), layers=3, hidden=32, seed=2)
    settings = train_settings(read_layer="last", train_top_layers=2, dropout=0.0)
    model = build_task_model("pos", enc, settings)
    freeze_bottom(model, torch.float32)
    assert model.frozen_layers == 1 and model.read_layer == 3
    cached, uncached = _corpus_pair("pos", model, tiny_tokenizer, _toy_sentences(6), settings)
    shift = LayerShift.zero_mean(layer, np.random.default_rng(layer).normal(size=32))
    model.eval()
    with torch.no_grad():
        for corpus in (cached, uncached):
            with Forward(model, corpus, shift, tiny_tokenizer.pad_token_id, "mean") as fwd:
                corpus.out = fwd(list(range(6)))[0]
        with Forward(model, cached, None, tiny_tokenizer.pad_token_id, "mean") as fwd:
            unshifted = fwd(list(range(6)))[0]
    torch.testing.assert_close(cached.out, uncached.out, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(cached.out, unshifted, atol=1e-3)  # the shift did act


def test_frozen_bottom_runs_in_bf16_and_trains_only_the_top(tiny_tokenizer):
    enc = build_tiny_bert(len(tiny_tokenizer), layers=3, hidden=32, seed=3)
    settings = train_settings(read_layer=2, train_top_layers=1)
    model = task_model("parsing", enc, settings, dtype=torch.bfloat16)
    assert (model.read_layer, model.frozen_layers, model.autocast_dtype) == (2, 1, torch.bfloat16)
    assert enc.embeddings.word_embeddings.weight.dtype == torch.bfloat16
    assert enc.encoder.layer[0].output.dense.weight.dtype == torch.bfloat16
    trainable = {
        n.split(".")[3]
        for n, p in model.named_parameters()
        if p.requires_grad and n.startswith("encoder_model.encoder")
    }
    assert trainable == {"1"}  # layer 2's module (encoder.layer[1]); layer 3 lies above the read layer
    assert all(p.dtype == torch.float32 for p in model.parameters() if p.requires_grad)
    batch = _batch(tiny_tokenizer)
    with torch.no_grad():  # a plain forward pass of the mixed-dtype encoder works (hidden state 1 is cast)
        states = enc(**batch, output_hidden_states=True).hidden_states
        torch.testing.assert_close(
            model.read(batch["input_ids"], batch["attention_mask"]), states[2].float(), rtol=2e-2, atol=2e-2
        )
    with pytest.raises(LangrepError, match="frozen layers 2 must lie in 0..1"):
        Tagger(enc, read_layer=1, frozen_layers=2)
    with pytest.raises(LangrepError, match="read_layer.*out of range"):
        build_task_model("pos", enc, train_settings(read_layer=4))


def test_sentences_are_cut_at_the_models_positions(tiny_tokenizer):
    """max_length beyond the model's position embeddings (128 here) cuts at the model's limit."""
    from langrep.transfer.train import max_pieces

    enc = build_tiny_bert(len(tiny_tokenizer), layers=2, hidden=32, seed=4)
    settings = train_settings(max_length=512, train_top_layers=1, dropout=0.0)
    model = task_model("pos", enc, settings, dtype=torch.float32)
    assert max_pieces(model, tiny_tokenizer, settings) == 128
    words = ("the", "girl") * 100
    long = Sentence("long", words, ("DET", "NOUN") * 100, tuple([2, 0] + [2] * 198), ("det", "root") + ("dep",) * 198)
    (tags,) = predict("pos", model, tiny_tokenizer, [long], settings)
    assert len(tags) == 200 and tags[125] is not None and tags[-1] is None  # [CLS] + 126 words + [SEP]
    assert tags.count(None) == 200 - 126


# ---------------------------------------------------------------------------------------------
# data, training, checkpoints


def _toy_sentences(n: int, seed: int = 0) -> list[Sentence]:
    """A toy language where the tag is a function of the word and the tree is a chain."""
    lexicon = {
        "the": "DET",
        "a": "DET",
        "girl": "NOUN",
        "boy": "NOUN",
        "dog": "NOUN",
        "cat": "NOUN",
        "can": "AUX",
        "help": "VERB",
        "me": "PRON",
        ".": "PUNCT",
    }
    rels = {"DET": "det", "NOUN": "nsubj", "AUX": "aux", "VERB": "root", "PRON": "obj", "PUNCT": "punct"}
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        words = [
            str(rng.choice(["the", "a"])),
            str(rng.choice(["girl", "boy", "dog", "cat"])),
            "can",
            "help",
            "me",
            ".",
        ]
        upos = [lexicon[w] for w in words]
        heads = [2, 4, 4, 0, 4, 4]
        out.append(Sentence(f"s{i}", tuple(words), tuple(upos), tuple(heads), tuple(rels[u] for u in upos)))
    return out


def write_ud(path, sentences):
    pd.DataFrame(
        {
            "id": [s.id for s in sentences],
            "lang": "xx",
            "text": [" ".join(s.words) for s in sentences],
            "words": [list(s.words) for s in sentences],
            "upos": [list(s.upos) for s in sentences],
            "heads": [list(s.heads) for s in sentences],
            "deprels": [list(s.deprels) for s in sentences],
        }
    ).to_parquet(path, index=False)
    return path


def test_read_ud_roundtrip_subset_and_errors(tmp_path):
    sents = _toy_sentences(10)
    path = write_ud(tmp_path / "ud.parquet", sents)
    assert read_ud(path) == sents
    sub = read_ud(path, max_sentences=4, seed=3)
    assert len(sub) == 4 and sub == read_ud(path, max_sentences=4, seed=3)
    assert [s.id for s in sub] == sorted((s.id for s in sub), key=lambda x: int(x[1:]))  # corpus order
    bad = pd.read_parquet(path)
    bad.at[2, "heads"] = [2, 4, 4, 0, 4, 9]
    bad.to_parquet(tmp_path / "bad.parquet", index=False)
    with pytest.raises(InputFormatError, match=r"bad.parquet.*row 3.*outside 0..6"):
        read_ud(tmp_path / "bad.parquet")
    bad = pd.read_parquet(path).drop(columns=["deprels"])
    bad.to_parquet(tmp_path / "bad2.parquet", index=False)
    with pytest.raises(InputFormatError, match="deprels"):
        read_ud(tmp_path / "bad2.parquet")


def test_unknown_training_label_names_the_file(tiny_tokenizer, bert, tmp_path):
    s = _toy_sentences(1)[0]
    s = Sentence(s.id, s.words, s.upos[:-1] + ("PUNCTUATION",), s.heads, s.deprels)
    with pytest.raises(InputFormatError, match="train.parquet.*PUNCTUATION"):
        fit("pos", Tagger(bert), tiny_tokenizer, [s], [], train_settings(max_steps=1), train_path="train.parquet")


def test_training_settings_reject_unknown_keys():
    with pytest.raises(LangrepError, match="transfer.pos.train.*learning_rate"):
        TrainSettings.from_config({"learning_rate": 1e-3}, "transfer.pos.train")


FAST = dict(
    epochs=20,
    batch_size=8,
    lr=1e-3,
    head_lr=1e-2,
    warmup_ratio=0.0,
    train_top_layers=1,
    eval_every=10,
    dropout=0.0,
    arc_dim=32,
    rel_dim=16,
    seed=5,
)


@pytest.mark.parametrize("task,pooling", [("pos", "first"), ("parsing", "mean")])
def test_tiny_model_learns_and_loss_falls(task, pooling, tiny_tokenizer, bert):
    train, dev = _toy_sentences(40, seed=0), _toy_sentences(10, seed=1)
    torch.manual_seed(0)
    settings = train_settings(**FAST, word_pooling=pooling, max_steps=30 if task == "pos" else 60)
    model = task_model(task, bert, settings, dtype=torch.float32)
    before = score(task, predict(task, model, tiny_tokenizer, dev, settings), dev)
    emb_before = bert.embeddings.word_embeddings.weight.clone()
    low_before = bert.encoder.layer[1].output.dense.weight.clone()
    history = fit(task, model, tiny_tokenizer, train, dev, settings)
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]
    after = score(task, predict(task, model, tiny_tokenizer, dev, settings), dev)
    key = "accuracy" if task == "pos" else "uas"
    assert after[key] > 95.0 and after[key] > before[key]
    # train_top_layers=1: only the last layer and the head changed (the rest is the cached bottom)
    assert torch.equal(bert.embeddings.word_embeddings.weight, emb_before)
    assert torch.equal(bert.encoder.layer[1].output.dense.weight, low_before)


def test_checkpoint_roundtrip_reproduces_predictions(tiny_tokenizer, tmp_path, tiny_model_dir):
    from langrep.models import load_encoder

    encoder, tok = load_encoder(tiny_model_dir, device="cpu", dtype=torch.float32)
    settings = train_settings(**FAST, max_steps=5)
    model = task_model("parsing", encoder, settings)  # the frozen bottom in bf16, as loaded again below
    train = _toy_sentences(16)
    fit("parsing", model, tok, train, [], settings)
    save_checkpoint(tmp_path / "model.pt", "parsing", model, settings, {"method": "original", "layer": -1})
    loaded, _, ckpt = load_checkpoint(tmp_path / "model.pt", tiny_model_dir)
    assert ckpt["meta"]["method"] == "original"
    # only the trained parameters are stored: the top layer and the head, not the embeddings
    assert not any(k.startswith("encoder_model.embeddings") for k in ckpt["state"])
    assert any(k.startswith("encoder_model.encoder.layer.2.") for k in ckpt["state"])
    a = predict("parsing", model, tok, train, settings)
    b = predict("parsing", loaded, tok, train, settings)
    assert a == b
    # reusing the loaded model for a checkpoint that trained the same parameters
    again, _, _ = load_checkpoint(tmp_path / "model.pt", tiny_model_dir, reuse=(loaded, tok, ckpt))
    assert again is loaded
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(LangrepError, match="junk.pt"):
        load_checkpoint(tmp_path / "junk.pt", tiny_model_dir)


def test_zero_mean_training_shifts_every_forward(tiny_tokenizer, bert):
    """Zero-mean during (full) fine-tuning: the training forward passes see h - R_en at layer l."""
    seen = []
    mean = np.full(32, 3.0)
    settings = train_settings(**{**FAST, "max_steps": 2, "train_top_layers": None})
    model = task_model("pos", bert, settings, dtype=torch.float32)
    assert model.frozen_layers is None
    layer = 1
    # a probe on the next layer's input records what the layers above receive
    probe = bert.encoder.layer[layer].register_forward_pre_hook(lambda m, args: seen.append(args[0].detach().clone()))
    with torch.no_grad():
        plain = bert(**_batch(tiny_tokenizer), output_hidden_states=True).hidden_states[layer]
    seen.clear()
    fit("pos", model, tiny_tokenizer, _toy_sentences(8), [], settings, LayerShift.zero_mean(layer, mean))
    probe.remove()
    assert len(seen) == 2
    # layer-l states are h - 3: their mean over the hidden units moved by -3 relative to unshifted states
    assert all(float(x.mean()) < float(plain.mean()) - 2.0 for x in seen)


# ---------------------------------------------------------------------------------------------
# file-to-file steps (what the rules call)


def _write_mono(path, texts):
    pd.DataFrame({"id": [str(i) for i in range(len(texts))], "lang": "xx", "text": texts}).to_parquet(path, index=False)
    return path


def _pretrained_means(model_dir, mono: dict, tmp_path) -> dict:
    """The language means stage, as the pipeline runs it: extraction sums -> means files."""
    from langrep.extraction.hidden_states import extract
    from langrep.means.representations import language_means
    from langrep.models import load_encoder

    encoder, tok = load_encoder(model_dir, device="cpu", dtype=torch.float32)
    out = {}
    for lang, path in mono.items():
        ext = extract(encoder, tok, pd.read_parquet(path)["text"].tolist(), pooled_layers=[])
        out[lang] = tmp_path / f"means_{lang}.parquet"
        write_means(language_means(ext.sums), out[lang])
    return out


def test_train_and_evaluate_files(tmp_path, tiny_model_dir):
    from langrep.means.representations import read_means
    from langrep.scores import read_scores
    from langrep.transfer import evaluate_task, finetuned_means, train_task

    train = write_ud(tmp_path / "train.parquet", _toy_sentences(24, seed=0))
    dev = write_ud(tmp_path / "dev.parquet", _toy_sentences(6, seed=1))
    tests = {
        "de": write_ud(tmp_path / "de.parquet", _toy_sentences(5, seed=2)),
        "fr": write_ud(tmp_path / "fr.parquet", _toy_sentences(4, seed=3)),
    }
    mono = {
        "en": _write_mono(tmp_path / "mono_en.parquet", ["the girl can help me", "a dog"]),
        "de": _write_mono(tmp_path / "mono_de.parquet", ["der hund ist da", "die katze"]),
        "fr": _write_mono(tmp_path / "mono_fr.parquet", ["la fille est", "qui peut aider"]),
    }
    means = _pretrained_means(tiny_model_dir, mono, tmp_path)
    settings = {**FAST, "max_steps": 4, "eval_every": 2, "dropout": 0.1, "word_pooling": "mean"}
    # read layer 3 (last), layer 3 trains: hidden state F = 2 is the cached frozen bottom
    for name, layer in [("original", None), ("zero_mean-l2", "2"), ("zero_mean-llast", "last")]:
        train_task(
            "parsing",
            tiny_model_dir,
            train,
            dev,
            tmp_path / name / "model.pt",
            settings,
            zero_mean_layer=layer,
            english_means=means["en"] if layer else None,
            device="cpu",
            dtype="float32",
            progress=False,
        )
    zm = torch.load(tmp_path / "zero_mean-l2" / "model.pt", weights_only=True)
    assert zm["meta"]["method"] == "zero_mean" and zm["meta"]["layer"] == 2
    assert torch.load(tmp_path / "zero_mean-llast" / "model.pt", weights_only=True)["meta"]["layer"] == 3
    assert len(json_loads(zm["meta"]["history"])) == 2  # dev evaluated at steps 2 and 4

    out = tmp_path / "scores" / "parsing.csv"
    ckpts = {"2": tmp_path / "zero_mean-l2" / "model.pt", "last": tmp_path / "zero_mean-llast" / "model.pt"}
    common = dict(
        layers=["2", "last"],
        alphas=[0.0, 1.0],
        test_sentences=3,
        bootstrap=200,
        device="cpu",
        dtype="float32",
        progress=False,
    )

    def evaluate(checkpoints=ckpts, task_means=means, **options):
        original = tmp_path / "original" / "model.pt"
        args = (train, dev, tests, task_means, mono, out)
        return evaluate_task("parsing", "tiny", tiny_model_dir, original, checkpoints, *args, **{**common, **options})

    evaluate()
    df = read_scores(out)
    assert set(df.metric) == {"uas", "las"}
    assert (
        df.value.between(0, 100).all()
        and (df.ci_low <= df.value + 1e-9).all()
        and (df.value <= df.ci_high + 1e-9).all()
    )
    assert set(df.read_layer) == {3} and set(df.frozen_layers) == {2} and set(df.word_pooling) == {"mean"}
    # baselines: UAS only, layer-free, on every language and split
    base = df[df.method.isin(["attach_next", "attach_prev"])]
    assert set(base.metric) == {"uas"} and base.layer.isna().all() and set(base.lang) == {"en", "de", "fr"}
    # every toy sentence has heads [2, 4, 4, 0, 4, 4]: attach-next [2, 3, 4, 5, 6, 0] is right on words 1
    # and 3, attach-prev [0, 1, 2, 3, 4, 5] on word 6
    uas = base.query("lang == 'de'").set_index("method").value
    assert (uas["attach_next"], uas["attach_prev"]) == (pytest.approx(100 * 2 / 6), pytest.approx(100 / 6))
    test = df[(df.split == "test") & df.method.isin(["original", "zero_mean", "mds"])]
    # per language, metric and layer: original, zero_mean, mds at alpha 0 and 1
    assert len(test) == 2 * 2 * 2 * 4 and set(test.direction) == {"en-de", "en-fr"} and set(test.layer) == {2, 3}
    assert (test.n_sentences == 3).all()
    dev_rows = df[(df.split == "dev") & df.method.isin(["original", "zero_mean", "mds"])]
    assert set(dev_rows.method) == {"original", "zero_mean"} and set(dev_rows.lang) == {"en"}
    # MDS with alpha = 0 is no shift at all: it reproduces Original, difference 0 with interval [0, 0]
    key = ["lang", "metric", "layer"]
    orig = test[test.method == "original"].set_index(key).value.sort_index()
    mds0 = test[(test.method == "mds") & (test.alpha == 0.0)].set_index(key).sort_index()
    pd.testing.assert_series_equal(orig, mds0.value, check_names=False)
    assert (mds0[["delta", "delta_low", "delta_high"]] == 0).all().all()
    shifted = test[test.method.isin(["zero_mean", "mds"])]
    assert shifted.delta.notna().all() and (shifted.delta_low <= shifted.delta_high).all()
    # the delta is the method's score minus Original's on the same sentences
    pairs = shifted.merge(orig.rename("orig").reset_index(), on=key)
    np.testing.assert_allclose(pairs.delta, pairs.value - pairs.orig, atol=1e-9)
    # MDS means: at the frozen layer 2 the pre-trained ones; at the trained layer 3 the fine-tuned ones
    mds = test[test.method == "mds"]
    assert set(mds[mds.layer == 2].shift_means) == {"pretrained=finetuned (frozen layer)"}
    assert set(mds[mds.layer == 3].shift_means) == {"finetuned"}

    # Fine-tuned means: the same text and token count as the pre-trained ones; at a frozen layer equal to them
    model, tok, _ = load_checkpoint(tmp_path / "original" / "model.pt", tiny_model_dir, dtype="float32")
    ft = finetuned_means(model, tok, mono, [1, 2, 3], {})
    for lang in mono:
        pre = read_means(means[lang])
        assert ft[lang][1] == pre.n_tokens
        np.testing.assert_allclose(ft[lang][0][2], pre.means[2], rtol=1e-4, atol=1e-5)
        assert not np.allclose(ft[lang][0][3], pre.means[3], atol=1e-4)  # layer 3 was fine-tuned
    # means of other text (another token count) are refused
    write_means(LanguageMeans(read_means(means["fr"]).means, 999), tmp_path / "other_fr.parquet")
    with pytest.raises(LangrepError, match="fr.*999.*not the same text"):
        evaluate(task_means={**means, "fr": tmp_path / "other_fr.parquet"})
    # a Zero-mean checkpoint trained at another layer is refused
    with pytest.raises(LangrepError, match="layer 2, expected 1"):
        evaluate(checkpoints={"1": tmp_path / "zero_mean-l2" / "model.pt"}, layers=["1"])
    with pytest.raises(LangrepError, match=r"no pre-trained means for \['fr'\]"):
        evaluate(task_means={k: v for k, v in means.items() if k != "fr"})


def test_pos_evaluation_has_the_majority_baseline(tmp_path, tiny_model_dir):
    from langrep.scores import read_scores
    from langrep.transfer import evaluate_task, train_task

    train = write_ud(tmp_path / "train.parquet", _toy_sentences(24, seed=0))
    dev = write_ud(tmp_path / "dev.parquet", _toy_sentences(6, seed=1))
    tests = {"de": write_ud(tmp_path / "de.parquet", _toy_sentences(5, seed=2))}
    mono = {
        "en": _write_mono(tmp_path / "mono_en.parquet", ["the girl can help me"]),
        "de": _write_mono(tmp_path / "mono_de.parquet", ["der hund ist da"]),
    }
    means = _pretrained_means(tiny_model_dir, mono, tmp_path)
    settings = {**FAST, "max_steps": 2, "read_layer": 2}
    for name, layer in [("original", None), ("zero_mean-l1", "1")]:
        train_task(
            "pos",
            tiny_model_dir,
            train,
            dev,
            tmp_path / name / "model.pt",
            settings,
            zero_mean_layer=layer,
            english_means=means["en"] if layer else None,
            device="cpu",
            progress=False,
        )
    with pytest.raises(LangrepError, match="transfer.pos.layers: layer 3 is above the layer the head reads"):
        train_task(
            "pos",
            tiny_model_dir,
            train,
            dev,
            tmp_path / "x.pt",
            settings,
            zero_mean_layer="3",
            english_means=means["en"],
            device="cpu",
            progress=False,
        )
    df = evaluate_task(
        "pos",
        "tiny",
        tiny_model_dir,
        tmp_path / "original" / "model.pt",
        {"1": tmp_path / "zero_mean-l1" / "model.pt"},
        train,
        dev,
        tests,
        means,
        mono,
        tmp_path / "pos.csv",
        layers=["1"],
        bootstrap=100,
        device="cpu",
        progress=False,
    )
    assert len(read_scores(tmp_path / "pos.csv")) == len(df)
    maj = df[df.method == "majority"]
    # each toy sentence is DET NOUN AUX VERB PRON PUNCT: all tags equally frequent, the alphabetically
    # first (AUX) is the majority tag, right on 1 word in 6 (en dev and de test)
    assert set(maj.baseline) == {"AUX"} and maj.value.tolist() == pytest.approx([100 / 6, 100 / 6])
    assert set(df.method) == {"majority", "original", "zero_mean", "mds"}


def json_loads(s):
    import json

    return json.loads(s)
