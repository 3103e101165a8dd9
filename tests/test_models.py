import json
import shutil
from pathlib import Path

import pytest
import torch
from conftest import build_tiny_bert

from langrep.errors import LangrepError
from langrep.models import (
    NoMLMHeadError,
    load_encoder,
    load_masked_lm,
    materialize_model,
    resolve_device,
    resolve_dtype,
)


def test_materialize_keeps_the_mlm_head_and_loads_offline(tmp_path, tiny_model_dir, tiny_tokenizer):
    out = materialize_model(str(tiny_model_dir), tmp_path / "m")
    record = json.loads((out / "langrep_source.json").read_text())
    assert record["source"] == str(tiny_model_dir) and record["mlm_head"] is True
    mlm, tok = load_masked_lm(out, dtype="float32")  # exact comparisons below
    enc, _ = load_encoder(out, dtype="float32")
    ids = torch.tensor([tok("the girl can help me")["input_ids"]])
    with torch.no_grad():
        h_mlm = mlm.bert(input_ids=ids).last_hidden_state
        h_enc = enc(input_ids=ids).last_hidden_state
    torch.testing.assert_close(h_mlm, h_enc)  # the encoder inside the MLM model is the same encoder
    reference = build_tiny_bert(len(tiny_tokenizer), masked_lm=True)
    with torch.no_grad():
        torch.testing.assert_close(mlm(input_ids=ids).logits, reference(input_ids=ids).logits)


def test_materialized_tokenizer_lists_its_added_tokens_and_loads_as_before(tmp_path, tiny_model_dir, monkeypatch):
    from transformers import AutoTokenizer

    out = materialize_model(str(tiny_model_dir), tmp_path / "m")
    cfg = json.loads((out / "tokenizer_config.json").read_text())
    added = json.loads((out / "tokenizer.json").read_text())["added_tokens"]
    assert [t["content"] for t in added] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert cfg["added_tokens_decoder"] == {str(t["id"]): {k: v for k, v in t.items() if k != "id"} for t in added}
    # the same folder as transformers 5 saves it: no added_tokens_decoder in tokenizer_config.json
    legacy = tmp_path / "legacy"
    shutil.copytree(out, legacy)
    del cfg["added_tokens_decoder"]
    (legacy / "tokenizer_config.json").write_text(json.dumps(cfg))
    parsed, real_load = [], json.load
    monkeypatch.setattr(json, "load", lambda f, *a, **k: parsed.append(Path(f.name).name) or real_load(f, *a, **k))
    new = AutoTokenizer.from_pretrained(out)
    assert "tokenizer.json" not in parsed  # the point: no second parse of the whole vocabulary
    old = AutoTokenizer.from_pretrained(legacy)
    assert "tokenizer.json" in parsed  # the spy sees that parse where the list is missing
    texts = ["the girl can help me", "[MASK] girl [SEP] zzq", "Ünïcode ☃ and [PAD] pieces", ""]
    assert new(texts)["input_ids"] == old(texts)["input_ids"]
    assert new("a pair", "of texts")["input_ids"] == old("a pair", "of texts")["input_ids"]
    assert (new.all_special_ids, new.mask_token_id, len(new)) == (old.all_special_ids, old.mask_token_id, len(old))
    ids = old(texts)["input_ids"][1]
    assert new.decode(ids, skip_special_tokens=True) == old.decode(ids, skip_special_tokens=True)


def test_an_encoder_without_head_says_so(tmp_path, tiny_tokenizer):
    src = tmp_path / "enc"
    build_tiny_bert(len(tiny_tokenizer)).save_pretrained(src)
    tiny_tokenizer.save_pretrained(src)
    out = materialize_model(str(src), tmp_path / "m")
    assert json.loads((out / "langrep_source.json").read_text())["mlm_head"] is False
    load_encoder(out)
    with pytest.raises(NoMLMHeadError, match="no masked-LM head"):
        load_masked_lm(out)


def test_bad_model_folder_and_dtype(tmp_path):
    with pytest.raises(LangrepError, match="config.json"):
        load_encoder(tmp_path)
    with pytest.raises(LangrepError, match="extraction.dtype"):
        resolve_dtype("float8", "cpu")


@pytest.mark.parametrize(
    "flags, native",
    [
        ("fpu sse avx512f avx512_bf16 amx_tile", True),
        ("fpu sse avx512f amx_bf16", True),
        ("fpu sse avx2 avx512f avx512bw", False),
    ],
)
def test_auto_dtype_is_bf16_only_on_cpus_with_native_bf16(tmp_path, monkeypatch, flags, native):
    import langrep.models as models

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n")
    assert models.cpu_has_native_bf16(str(cpuinfo)) is native
    assert models.cpu_has_native_bf16(str(tmp_path / "missing")) is False
    monkeypatch.setattr(models, "cpu_has_native_bf16", lambda: native)
    assert resolve_dtype("auto", "cpu") == (torch.bfloat16 if native else torch.float32)
    assert resolve_dtype(None, "cpu") == resolve_dtype("auto", "cpu")
    assert resolve_dtype("float32", "cpu") == torch.float32


def test_model_sources_that_cannot_work_fail_at_once_with_one_error(tmp_path, monkeypatch):
    import time

    from huggingface_hub import constants

    with pytest.raises(LangrepError, match="no transformers model folder there"):
        materialize_model(str(tmp_path / "no-such-folder"), tmp_path / "m1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(LangrepError, match="not in the local Hugging Face cache and HF_HUB_OFFLINE"):
        materialize_model("someone/no-such-model-here", tmp_path / "m2")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens: refused at once
    t0 = time.monotonic()
    with pytest.raises(LangrepError, match="cannot reach http://127.0.0.1:9"):
        materialize_model("someone/no-such-model-here", tmp_path / "m3")
    assert time.monotonic() - t0 < 10
    assert not any(tmp_path.glob("m*")), "a failed materialization leaves no folder"


# ---------------------------------------------------------------------------------------------
# random:<model key>: a control with another model's architecture and tokenizer, seeded weights


def _weights(folder):
    from safetensors.torch import load_file

    return load_file(folder / "model.safetensors")


def test_random_source_is_deterministic_for_a_seed(tmp_path, tiny_model_dir, tiny_tokenizer):
    models = tmp_path / "models"
    base = models / "tiny"
    materialize_model(str(tiny_model_dir), base)
    before = torch.get_rng_state()
    a = materialize_model("random:tiny", models / "a", seed=0)  # base folder: "tiny" beside the output
    assert torch.equal(torch.get_rng_state(), before)  # the caller's random state is untouched
    b = materialize_model("random:tiny", models / "b", base_dir=base, seed=0)
    c = materialize_model("random:tiny", models / "c", base_dir=base, seed=1)
    wa, wb, wc, w_base = _weights(a), _weights(b), _weights(c), _weights(base)
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    emb = "embeddings.word_embeddings.weight"
    assert not torch.equal(wa[emb], wc[emb])  # another seed, other weights
    assert not torch.equal(wa[emb], w_base[f"bert.{emb}"])  # not the pretrained ones
    assert wa[emb].std().item() == pytest.approx(0.02, rel=0.1)  # BERT's initializer_range
    assert not any(k.startswith("cls.") for k in wa)  # no MLM head

    record = json.loads((a / "langrep_source.json").read_text())
    assert record["source"] == "random:tiny" and record["seed"] == 0 and record["mlm_head"] is False
    assert record["base_source"] == str(tiny_model_dir)
    cfg_a, cfg_base = (json.loads((d / "config.json").read_text()) for d in (a, base))
    for key in ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size", "model_type"):
        assert cfg_a[key] == cfg_base[key]
    for f in base.iterdir():  # the tokenizer, byte for byte
        if f.name.startswith("tokenizer") or f.name == "special_tokens_map.json":
            assert (a / f.name).read_bytes() == f.read_bytes()

    enc, tok = load_encoder(a, dtype="float32")
    assert tok("the girl can help me")["input_ids"] == tiny_tokenizer("the girl can help me")["input_ids"]
    with pytest.raises(NoMLMHeadError):
        load_masked_lm(a)


def test_random_source_needs_the_base_folder(tmp_path):
    with pytest.raises(LangrepError, match="not a model folder"):
        materialize_model("random:absent", tmp_path / "models" / "ctl")
    assert not (tmp_path / "models" / "ctl").exists()


def test_device_resolution_names_the_config_key(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == resolve_device(None) == "cpu" and resolve_device("cpu") == "cpu"
    with pytest.raises(LangrepError, match=r"retrieval.device: unknown device 'gpu'"):
        resolve_device("gpu", "retrieval.device")
    with pytest.raises(LangrepError, match=r"transfer.device is 'cuda:1' but no CUDA device"):
        resolve_device("cuda:1", "transfer.device")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda" and resolve_device("cuda:1") == "cuda:1"
