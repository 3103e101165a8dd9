"""The decode layer of a fitted MLM head: the reconstruction curve, the layer chosen from it, and
translation decoded there (MDS at layers up to it, the model's own layers up to it, the head there)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import build_tiny_bert
from test_translation import _corpora
from translation_common import DE, EN, ZH, one_thread  # noqa: F401 (one_thread: an autouse fixture)

from langrep.errors import LangrepError
from langrep.means.layer_shift import LayerShift
from langrep.scores import read_scores
from langrep.translation.data import prepare_vocab
from langrep.translation.decode_layer import choose_decode_layer, min_reconstruction_by_layer
from langrep.translation.decoding import sweep_outputs
from langrep.translation.mlm_head import DECODE_HEAD_FILE, Decoder, FittedMLMHead, load_head
from langrep.translation.mlm_head_preparation import prepare_head
from langrep.translation.run import run_translation

HEAD = dict(sentences_per_lang=12, heldout_per_lang=4, steps=40, batch_size=64, negatives=16, width=32, lr=1e-2)


def _curve(values: dict[int, dict[str, float]]) -> list[dict]:
    return [{"layer": l, "lang": lang, "reconstruction": v} for l, per in values.items() for lang, v in per.items()]


def test_choose_decode_layer_by_hand():
    curve = _curve(
        {
            0: {"en": 100.0, "de": 99.0},
            1: {"en": 98.0, "de": 96.0},
            2: {"en": 97.0, "de": 94.9},  # one language below 95: not this one
            3: {"en": 80.0, "de": 70.0},
        }
    )
    assert min_reconstruction_by_layer(curve) == {0: 99.0, 1: 96.0, 2: 94.9, 3: 70.0}
    assert choose_decode_layer("auto", curve, 3, 95.0)[0] == 1
    assert choose_decode_layer("auto", curve, 3, 94.9)[0] == 2  # at the threshold counts
    assert choose_decode_layer("auto", curve, 3, 50.0)[0] == 3
    layer, why = choose_decode_layer("auto", curve, 3, 99.5)  # no layer: the highest lowest one
    assert layer == 0 and "no layer reaches 99.5%" in why
    assert choose_decode_layer("top", curve, 3, 95.0)[0] == 3
    assert choose_decode_layer(2, [], 3, 95.0)[0] == 2
    with pytest.raises(LangrepError, match="out of range"):
        choose_decode_layer(4, curve, 3, 95.0)
    with pytest.raises(LangrepError, match="expected auto, top or a layer number"):
        choose_decode_layer("bottom", curve, 3, 95.0)


@pytest.fixture(scope="module")
def encoder(tiny_tokenizer):
    enc = build_tiny_bert(len(tiny_tokenizer), seed=5)
    for p in enc.parameters():
        p.requires_grad_(False)
    return enc.eval()


def _reference(encoder, head, tokenizer, texts, layer, read, delta):
    """Independently: the whole model with a forward hook shifting hidden state ``layer``, the
    head's argmax at hidden state ``read``, special tokens dropped."""
    specials = set(tokenizer.all_special_ids)
    out = []
    with torch.inference_mode(), LayerShift(layer, delta).apply(encoder):
        for text in texts:
            ids = tokenizer(text, return_tensors="pt")["input_ids"]
            hidden = encoder(input_ids=ids, output_hidden_states=True).hidden_states[read][0]
            pred = head(hidden).argmax(-1).tolist()
            out.append([p for p, i in zip(pred, ids[0].tolist()) if i not in specials and p not in specials])
    return out


def test_sweep_decodes_at_the_decode_layer(encoder, tiny_tokenizer):
    torch.manual_seed(1)  # a head whose argmax differs between layers 2 and 3 (checked below)
    head = FittedMLMHead(encoder.get_input_embeddings().weight, len(tiny_tokenizer), width=16).eval()
    rng = np.random.default_rng(2)
    means = {lang: rng.normal(size=(4, 32)) for lang in ("en", "de")}
    delta = means["de"] - means["en"]
    alphas = [0.0, 1.0, 4.0]
    at_two = Decoder(encoder, head, "fitted", layer=2, protocol="decode_layer")
    got = sweep_outputs(at_two, tiny_tokenizer, EN, {"de": delta}, [0, 1, 2], alphas, token_budget=20)
    n_changed = 0
    for layer in (0, 1, 2):
        for a in alphas:
            want = _reference(encoder, head, tiny_tokenizer, EN, layer, 2, a * delta[layer])
            assert got[("de", layer, a)] == want, (layer, a)
            n_changed += want != got[("de", layer, 0.0)]
    assert n_changed > 0  # the shifts change the outputs
    # reading layer 2 is not reading the top layer (3): the comparison above is not vacuous
    at_top = sweep_outputs(Decoder(encoder, head, "fitted"), tiny_tokenizer, EN, {"de": delta}, [1], [0.0])
    assert at_top[("de", 1, 0.0)] != got[("de", 1, 0.0)]
    with pytest.raises(LangrepError, match=r"layer\(s\) \[3\] lies above the layer the MLM head reads \(2\)"):
        sweep_outputs(at_two, tiny_tokenizer, EN, {"de": delta}, [1, 3], alphas)


def _model_and_mono(tmp_path, tokenizer):
    model_dir = tmp_path / "encoder"
    build_tiny_bert(len(tokenizer), seed=6).save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    mono = {}
    for lang, texts in (("en", EN * 4), ("de", DE * 4), ("zh", ZH * 4)):
        mono[lang] = tmp_path / f"{lang}.parquet"
        pd.DataFrame({"id": [str(i) for i in range(len(texts))], "lang": lang, "text": texts}).to_parquet(mono[lang])
    return model_dir, mono


def _heldout_reconstruction(model_dir, head_dir, file, layer, texts, tokenizer):
    """Independently: a saved head's share of held-out tokens given back at hidden state ``layer``."""
    from transformers import AutoModel

    enc = AutoModel.from_pretrained(model_dir).eval()
    head = load_head(head_dir, enc, file)
    specials = torch.tensor(tokenizer.all_special_ids)
    hits = total = 0
    with torch.inference_mode():
        for text in texts:
            ids = tokenizer(text, return_tensors="pt")["input_ids"]
            pred = head(enc(input_ids=ids, output_hidden_states=True).hidden_states[layer][0]).argmax(-1)
            keep = ~torch.isin(ids[0], specials)
            hits += int((pred[keep] == ids[0][keep]).sum())
            total += int(keep.sum())
    return 100 * hits / total


def test_prepare_head_writes_the_curve_and_the_decode_head(tmp_path, tiny_tokenizer):
    model_dir, mono = _model_and_mono(tmp_path, tiny_tokenizer)
    settings = {**HEAD, "curve_steps": 15, "curve_sentences": 2, "decode_reconstruction": 95}
    out = tmp_path / "head"
    assert prepare_head(model_dir, mono, out, settings, decode_layer=1) == "fitted"
    rec = json.loads((out / "head.json").read_text())
    assert rec["layer"] == 3 and rec["decode_layer"] == 1 and rec["curve_steps"] == 15
    # the curve: every layer 0..3 and language, measured on the first 2 held-out sentences of each
    curve = pd.DataFrame(rec["curve"])
    assert sorted(zip(curve["layer"], curve["lang"])) == sorted((l, g) for l in range(4) for g in ("en", "de", "zh"))
    n_en = sum(len(tiny_tokenizer(t, add_special_tokens=False)["input_ids"]) for t in EN[1:3])  # held out: EN[1:5]
    assert set(curve[curve.lang == "en"]["n_tokens"]) == {n_en}
    assert curve["reconstruction"].between(0, 100).all()
    # the decode head: its own file, fitted on layer 1, its quality measured there (checked independently)
    dec = rec["decode_head"]
    assert dec["layer"] == 1 and dec["file"] == DECODE_HEAD_FILE and (out / DECODE_HEAD_FILE).is_file()
    for lang, texts in (("de", DE), ("zh", ZH)):
        held = (texts * 4)[-4:]
        got = _heldout_reconstruction(model_dir, out, DECODE_HEAD_FILE, 1, held, tiny_tokenizer)
        assert dec["heldout"][lang]["reconstruction"] == pytest.approx(got)
        top = _heldout_reconstruction(model_dir, out, "head.safetensors", 3, held, tiny_tokenizer)
        assert rec["heldout"][lang]["reconstruction"] == pytest.approx(top)
    # auto: the choice follows the recorded curve; a threshold every layer meets is the top layer
    auto = tmp_path / "auto"
    prepare_head(model_dir, mono, auto, {**settings, "decode_reconstruction": 0}, decode_layer="auto")
    rec = json.loads((auto / "head.json").read_text())
    assert rec["decode_layer"] == 3 and rec["decode_head"] is None and not (auto / DECODE_HEAD_FILE).exists()
    strict = tmp_path / "strict"
    prepare_head(model_dir, mono, strict, {**settings, "decode_reconstruction": 100.5}, decode_layer="auto")
    rec = json.loads((strict / "head.json").read_text())
    lowest = min_reconstruction_by_layer(rec["curve"])
    assert rec["decode_layer"] == max(lowest, key=lambda l: (lowest[l], l))
    assert "no layer reaches" in rec["decode_layer_choice"]


def test_a_pretrained_head_reads_the_top_layer_only(tmp_path, tiny_model_dir):
    with pytest.raises(LangrepError, match=r"translation.decode_layer: 1: .* has its own MLM head"):
        prepare_head(tiny_model_dir, {}, tmp_path / "a", {}, decode_layer=1)
    assert prepare_head(tiny_model_dir, {}, tmp_path / "b", {}, decode_layer="auto") == "pretrained"
    assert prepare_head(tiny_model_dir, {}, tmp_path / "c", {}, decode_layer=3) == "pretrained"  # the top itself
    with pytest.raises(LangrepError, match="translation.decode_layer: layer 9 is out of range"):
        prepare_head(tiny_model_dir, {}, tmp_path / "d", {}, decode_layer=9)


def test_translation_scores_both_protocols(tmp_path, tiny_tokenizer):
    model_dir, mono = _model_and_mono(tmp_path, tiny_tokenizer)
    settings_head = {**HEAD, "curve_steps": 5, "curve_sentences": 1}
    both, top_only = tmp_path / "both", tmp_path / "top"
    prepare_head(model_dir, mono, both, settings_head, decode_layer=2)
    prepare_head(model_dir, mono, top_only, settings_head, decode_layer="top")
    texts = {"en": EN, "de": DE}
    xnli, means = _corpora(tmp_path, texts, hidden=32, n_layers=3)
    prepare_vocab(
        model="tiny", model_dir=model_dir, xnli_paths=xnli, source="en",
        sets_out=tmp_path / "vocab.parquet", table_out=tmp_path / "vocab.csv",
    )  # fmt: skip
    settings = {
        "source": "en", "targets": ["de"], "alphas": [0, 1, 3], "layer": 3, "layers": [0, 1, 3],
        "n_sentences": None, "sweep_sentences": 2, "n_samples": 1, "device": "cpu",
    }  # fmt: skip
    tables = {}
    for name, head_dir in (("both", both), ("top", top_only)):
        run_translation(
            settings, model="tiny", model_dir=model_dir, head_dir=head_dir, xnli_paths=xnli,
            vocab_path=tmp_path / "vocab.parquet", means_paths=means, log=None,
            scores_out=tmp_path / f"{name}.csv", samples_out=tmp_path / f"{name}_samples.csv",
        )  # fmt: skip
        tables[name] = read_scores(tmp_path / f"{name}.csv")
    sc = tables["both"]
    assert set(sc["protocol"]) == {"top", "decode_layer"}
    top, low = sc[sc.protocol == "top"], sc[sc.protocol == "decode_layer"]
    # the paper's protocol is untouched by the second one: the same rows as a run without it
    pd.testing.assert_frame_equal(top.reset_index(drop=True), tables["top"])
    assert set(top["decode_layer"]) == {3} and set(low["decode_layer"]) == {2}
    # at the decode layer: the sweep's layers up to it, Table 1 at min(layer 3, decode layer 2)
    assert set(low["layer"]) == {0, 1, 2}
    assert set(low[low.n_sentences == len(EN)]["layer"]) == {2}
    rec = json.loads((both / "head.json").read_text())
    assert set(low["head_reconstruction"]) == {rec["decode_head"]["heldout_reconstruction"]}
    assert set(top["head_reconstruction"]) == {rec["heldout_reconstruction"]}
    # every row of either protocol carries its interval; the deltas pair rows of the same protocol
    assert sc["ci_low"].notna().all() and (sc["ci_low"] <= sc["value"] + 1e-9).all()
    samples = pd.read_csv(tmp_path / "both_samples.csv")
    assert set(zip(samples["protocol"], samples["layer"])) == {("top", 3), ("decode_layer", 2)}
