"""Token translation by MDS: the fast sweep vs the hook, metrics, head fitting, the run."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import build_tiny_bert
from translation_common import DE, EN, ZH, one_thread  # noqa: F401 (one_thread: an autouse fixture)

from langrep.errors import InputFormatError, LangrepError
from langrep.means.representations import LanguageMeans, write_means
from langrep.scores import read_scores
from langrep.translation.data import prepare_vocab
from langrep.translation.decoding import sweep_outputs, translate
from langrep.translation.metrics import bleu1, convert_rate, neither_share
from langrep.translation.mlm_head import Decoder, save_head, split_masked_lm, write_pretrained_marker
from langrep.translation.mlm_head_fitting import fit_mlm_head
from langrep.translation.run import gather_translation, run_translation, run_translation_direction


@pytest.fixture(scope="module")
def mlm(tiny_tokenizer):
    return build_tiny_bert(len(tiny_tokenizer), masked_lm=True, seed=1)


def _decoder(mlm):
    base, head = split_masked_lm(mlm)
    return Decoder(base, head, "pretrained")


def test_alpha_zero_is_plain_decoding(mlm, tiny_tokenizer):
    rng = np.random.default_rng(0)
    src, tgt = rng.normal(size=32), rng.normal(size=32)
    out = translate(_decoder(mlm), tiny_tokenizer, EN, layer=2, src_mean=src, tgt_mean=tgt, alpha=0.0)
    # Independent: the full BertForMaskedLM forward, argmax, special positions dropped.
    specials = set(tiny_tokenizer.all_special_ids)
    for text, got in zip(EN, out):
        ids = tiny_tokenizer(text, return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            pred = mlm(input_ids=ids).logits[0].argmax(-1).tolist()
        want = [p for p, i in zip(pred, ids[0].tolist()) if i not in specials and p not in specials]
        assert got == want
    shifted = translate(_decoder(mlm), tiny_tokenizer, EN, layer=2, src_mean=src, tgt_mean=tgt, alpha=30.0)
    assert shifted != out


def test_sweep_equals_hook_for_every_layer_and_alpha(mlm, tiny_tokenizer):
    rng = np.random.default_rng(1)
    means = {lang: rng.normal(size=(4, 32)) for lang in ("en", "de", "zh")}
    deltas = {t: means[t] - means["en"] for t in ("de", "zh")}
    alphas = [-1.0, 0.0, 2.0, 5.0]
    dec = _decoder(mlm)
    # token_budget 20 forces several length-sorted batches with padding
    got = sweep_outputs(dec, tiny_tokenizer, EN, deltas, [0, 1, 2, 3], alphas, token_budget=20)
    n_changed = 0
    for t in deltas:
        for layer in range(4):
            for a in alphas:
                ref = translate(
                    dec, tiny_tokenizer, EN, layer=layer, src_mean=means["en"][layer], tgt_mean=means[t][layer], alpha=a
                )
                assert got[(t, layer, a)] == ref, (t, layer, a)
                n_changed += ref != got[(t, layer, 0.0)]
    assert n_changed > 0  # the shifts do change outputs, so the equality is not vacuous


def test_sweep_bad_means(mlm, tiny_tokenizer):
    with pytest.raises(LangrepError, match="layers"):
        sweep_outputs(_decoder(mlm), tiny_tokenizer, EN, {"de": np.zeros((3, 32))}, [1], [1.0])
    with pytest.raises(LangrepError, match="out of range"):
        sweep_outputs(_decoder(mlm), tiny_tokenizer, EN, {"de": np.zeros((4, 32))}, [5], [1.0])


# --------------------------------------------------------------------------------------- metrics
def test_convert_rate_by_hand():
    v_s, v_t = {1, 2, 3}, {3, 4, 5}
    # 6 tokens; 3 is shared (excluded); 4, 4, 5 converted; 1 source-only; 9 in neither (counts below)
    assert convert_rate([[1, 4, 4, 3], [5, 9]], v_s, v_t) == pytest.approx(100 * 3 / 5)
    assert convert_rate([[1, 2]], v_s, v_t) == 0.0
    assert convert_rate([[4], [5]], v_s, v_t) == 100.0
    assert math.isnan(convert_rate([[3, 3]], v_s, v_t))


def test_neither_share_by_hand():
    v_s, v_t = {1, 2, 3}, {3, 4, 5}
    # 6 tokens, of which 9 and 7 are in neither set
    assert neither_share([[1, 4, 9, 3], [5, 7]], v_s, v_t) == pytest.approx(100 * 2 / 6)
    assert neither_share([[1, 3, 5]], v_s, v_t) == 0.0
    assert math.isnan(neither_share([[], []], v_s, v_t))


def test_bleu1_by_hand():
    # 5 matching unigrams of 5; brevity penalty exp(1 - 6/5)
    assert bleu1(["the cat sat on mat"], ["the cat sat on the mat"]) == pytest.approx(100 * math.exp(-0.2), abs=1e-6)
    # clipping: "the" counts once; no brevity penalty (3 > 2)
    assert bleu1(["the the the"], ["the cat"]) == pytest.approx(100 / 3, abs=1e-6)
    # corpus level: (5 + 1) / (5 + 3) matches, 8 hypothesis vs 8 reference tokens
    assert bleu1(["the cat sat on mat", "the the the"], ["the cat sat on the mat", "the cat"]) == pytest.approx(75.0)
    # Chinese: sacrebleu's zh tokenizer splits CJK characters
    assert bleu1(["我是"], ["我是人"], tokenize="zh") == pytest.approx(100 * math.exp(1 - 3 / 2), abs=1e-6)
    with pytest.raises(LangrepError):
        bleu1(["a"], ["a", "b"])


# ----------------------------------------------------------------------------------------- the run
def _corpora(tmp_path, texts_by_lang, hidden, n_layers, seed=0):
    """XNLI-like corpora (hypothesis: a word of the language, cycling), random means."""
    rng = np.random.default_rng(seed)
    xnli, means = {}, {}
    for lang, texts in texts_by_lang.items():
        words = HYPOTHESES[lang]
        xnli[lang] = tmp_path / f"xnli_{lang}.parquet"
        pd.DataFrame(
            {
                "id": [str(i) for i in range(len(texts))],
                "lang": lang,
                "text": texts,
                "hypothesis": [words[i % len(words)] for i in range(len(texts))],
            }
        ).to_parquet(xnli[lang])
        means[lang] = tmp_path / f"means_{lang}.parquet"
        write_means(LanguageMeans(rng.normal(size=(n_layers + 1, hidden)), 100), means[lang])
    return xnli, means


HYPOTHESES = {"en": ["girl", "house", "dog"], "de": ["mädchen", "haus", "hund"], "zh": ["女孩", "房子", "狗"]}


@pytest.mark.parametrize("kind", ["pretrained", "fitted"])
def test_run_writes_valid_tables(tmp_path, tiny_tokenizer, tiny_model_dir, kind):
    # 7 lines per language; English line 6 ("the girl can help me" + "girl") repeats line 0 and is
    # dropped (its German and Chinese lines differ from their line 0, so those directions keep 7)
    texts = {"en": EN + EN[1:2] + EN[0:1], "de": DE + DE[1:2] + DE[1:2], "zh": ZH + ZH[2:3] + ZH[2:3]}
    xnli, means = _corpora(tmp_path, texts, hidden=32, n_layers=3)
    head_dir = tmp_path / "head"
    if kind == "pretrained":
        model_dir = tiny_model_dir
        write_pretrained_marker(head_dir)
    else:
        model_dir = tmp_path / "encoder"
        enc = build_tiny_bert(len(tiny_tokenizer), seed=3)
        enc.save_pretrained(model_dir)
        tiny_tokenizer.save_pretrained(model_dir)
        fit = fit_mlm_head(
            enc, tiny_tokenizer, {k: v * 2 for k, v in texts.items()}, steps=20, batch_size=32, negatives=16, width=16
        )
        save_head(fit.head, fit.stats, head_dir)
    out = tmp_path / "out"
    sets = prepare_vocab(
        model="tiny",
        model_dir=model_dir,
        xnli_paths=xnli,
        source="en",
        sets_out=out / "vocab.parquet",
        table_out=out / "vocab.csv",
    )
    settings = {
        "source": "en",
        "targets": ["de", "zh"],
        "alphas": [-1, 0, 1, 3],
        "layer": 1,
        "layers": [0, 2, 3],
        "n_sentences": None,
        "sweep_sentences": 2,
        "bleu_tokenize": {"default": "13a", "zh": "zh"},
        "n_samples": 2,
        "device": "cpu",
    }
    info = run_translation(
        settings,
        model="tiny",
        model_dir=model_dir,
        head_dir=head_dir,
        xnli_paths=xnli,
        vocab_path=out / "vocab.parquet",
        means_paths=means,
        scores_out=out / "scores.csv",
        samples_out=out / "samples.csv",
        log=None,
    )
    assert info["head"] == kind and info["n_directions"] == 4
    # the pipeline's way: one job per direction, joined in table order; the same bytes
    inputs = dict(model="tiny", model_dir=model_dir, head_dir=head_dir, vocab_path=out / "vocab.parquet", log=None)
    directions = ["en-de", "en-zh", "de-en", "zh-en"]
    parts = tmp_path / "directions"
    for d in directions:
        s, t = d.split("-")
        run_translation_direction(
            settings,
            direction=d,
            xnli_paths={s: xnli[s], t: xnli[t]},
            means_paths={s: means[s], t: means[t]},
            rows_out=parts / f"{d}.rows.parquet",
            samples_out=parts / f"{d}.samples.parquet",
            **inputs,
        )
    gather_translation(
        [parts / f"{d}.rows.parquet" for d in directions],
        [parts / f"{d}.samples.parquet" for d in directions],
        scores_out=parts / "scores.csv",
        samples_out=parts / "samples.csv",
    )
    for name in ("scores.csv", "samples.csv"):
        assert (parts / name).read_bytes() == (out / name).read_bytes(), name
    with pytest.raises(LangrepError, match="direction 'de-zh' is not in the config's"):
        run_translation_direction(
            settings,
            direction="de-zh",
            xnli_paths=xnli,
            means_paths=means,
            rows_out=parts / "x",
            samples_out=parts / "y",
            **inputs,
        )
    sc = read_scores(out / "scores.csv")
    assert len(sc) == 4 * 4 * 4 * 3  # directions x layers (sweep + table layer) x alphas x metrics
    assert set(sc["lang"]) == {"en-de", "en-zh", "de-en", "zh-en"}
    assert (sc["lang"] == sc["direction"]).all()
    assert set(sc["layer"]) == {0, 1, 2, 3}
    assert set(sc["task"]) == {"translation"} and set(sc["method"]) == {"mds"} and set(sc["split"]) == {"test"}
    assert set(sc["metric"]) == {"bleu1", "convert_rate", "neither_share"} and set(sc["head"]) == {kind}
    assert set(sc["alpha"]) == {-1.0, 0.0, 1.0, 3.0}
    # every distinct line at the table layer (en 6 of 7, de 7), the first 2 at the other layers
    n = sc.groupby(["lang", "layer"])["n_sentences"].unique()
    assert n[("en-de", 1)].tolist() == [6] and n[("de-en", 1)].tolist() == [7] and n[("en-zh", 0)].tolist() == [2]
    for metric in ("bleu1", "convert_rate", "neither_share"):
        assert sc[sc.metric == metric]["value"].dropna().between(0, 100).all(), metric
    # alpha 0 is the unshifted decoding of the same first lines at every sweep layer
    zero = sc[(sc.alpha == 0) & (sc.metric == "bleu1") & (sc.lang == "en-de") & (sc.layer != 1)]["value"]
    assert zero.nunique() == 1
    # the token sets: sizes computed independently here from the joined lines
    voc = read_scores(out / "vocab.csv")
    special = set(tiny_tokenizer.all_special_ids)
    for lang in texts:
        lines = pd.read_parquet(xnli[lang]).pipe(lambda d: d["text"] + " " + d["hypothesis"])
        want = {i for t in lines for i in tiny_tokenizer(t)["input_ids"] if i not in special}
        assert sets[lang] == want
        row = voc[voc.lang == lang].set_index("metric")["value"]
        assert row["vocab_size"] == len(want)
    assert voc[voc.lang == "de"].set_index("metric")["value"]["overlap_with_en"] == len(sets["de"] & sets["en"])
    smp = pd.read_csv(out / "samples.csv")
    assert len(smp) == 4 * 4 * 2  # directions x alphas x samples
    assert set(smp["layer"]) == {1}
    row = smp[(smp.src == "en") & (smp.tgt == "zh")].iloc[0]
    assert row["input"] == EN[0] + " girl" and row["reference"] == ZH[0] + " 女孩"
    assert smp[(smp.src == "en") & (smp.tgt == "zh") & (smp.alpha == 1)]["input"].nunique() == 2  # distinct lines


def test_run_rejects_non_parallel_corpora(tmp_path, tiny_model_dir, tiny_tokenizer):
    xnli, means = _corpora(tmp_path, {"en": EN, "de": DE[:2]}, hidden=32, n_layers=3)
    write_pretrained_marker(tmp_path / "head")
    prepare_vocab(
        model="tiny",
        model_dir=tiny_model_dir,
        xnli_paths=xnli,
        source="en",
        sets_out=tmp_path / "v.parquet",
        table_out=tmp_path / "v.csv",
    )
    with pytest.raises(InputFormatError, match="xnli_de.parquet"):
        run_translation(
            {"source": "en", "targets": ["de"], "n_sentences": 4, "layer": 1, "device": "cpu"},
            model="tiny",
            model_dir=tiny_model_dir,
            head_dir=tmp_path / "head",
            xnli_paths=xnli,
            vocab_path=tmp_path / "v.parquet",
            means_paths=means,
            scores_out=tmp_path / "s.csv",
            samples_out=tmp_path / "x.csv",
            log=None,
        )
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize(
    "config, message",
    [
        ({"n_sentence": 3, "head": {}}, r"config key translation.n_sentence: unknown; known: alphas, "),
        ({"head": {"stepz": 3}}, r"config key translation.head.stepz: unknown; known: batch_size, "),
    ],
)
def test_config_keys_are_checked(tmp_path, config, message):
    with pytest.raises(LangrepError, match=message):
        run_translation(
            config,
            model="m",
            model_dir=tmp_path,
            head_dir=tmp_path,
            xnli_paths={},
            vocab_path=tmp_path,
            means_paths={},
            scores_out=tmp_path / "s.csv",
            samples_out=tmp_path / "x.csv",
        )


def test_config_files_give_the_library_every_translation_key():
    # The config files' translation sections build the settings the library reads, unchanged.
    import dataclasses
    import inspect
    from pathlib import Path

    import yaml

    from langrep.settings import HeadSettings, TranslationSettings
    from langrep.translation.mlm_head_preparation import prepare_head

    root = Path(__file__).resolve().parents[1]
    for name in ("config.yaml", "paper.yaml"):
        cfg = yaml.safe_load((root / "config" / name).read_text())["translation"]
        got = dataclasses.asdict(TranslationSettings.from_config(cfg))
        assert {k: got[k] for k in cfg if k != "head"} == {k: v for k, v in cfg.items() if k != "head"}
        assert {k: got["head"][k] for k in cfg["head"]} == cfg["head"]
    # every head key is read by prepare_head (its docstring lists them)
    head_keys = {f.name for f in dataclasses.fields(HeadSettings)}
    doc = inspect.getdoc(prepare_head)
    assert all(k in doc for k in head_keys), head_keys
