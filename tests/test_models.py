import json

import pytest
import torch

from langrep.errors import LangrepError
from langrep.models import NoMLMHeadError, load_encoder, load_masked_lm, materialize_model, resolve_dtype

from conftest import build_tiny_bert


def test_materialize_keeps_the_mlm_head_and_loads_offline(tmp_path, tiny_model_dir, tiny_tokenizer):
    out = materialize_model(str(tiny_model_dir), tmp_path / "m")
    record = json.loads((out / "langrep_source.json").read_text())
    assert record["source"] == str(tiny_model_dir) and record["mlm_head"] is True
    mlm, tok = load_masked_lm(out)
    enc, _ = load_encoder(out)
    ids = torch.tensor([tok("the girl can help me")["input_ids"]])
    with torch.no_grad():
        h_mlm = mlm.bert(input_ids=ids).last_hidden_state
        h_enc = enc(input_ids=ids).last_hidden_state
    torch.testing.assert_close(h_mlm, h_enc)  # the encoder inside the MLM model is the same encoder
    reference = build_tiny_bert(len(tiny_tokenizer), masked_lm=True)
    with torch.no_grad():
        torch.testing.assert_close(mlm(input_ids=ids).logits, reference(input_ids=ids).logits)


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
    assert resolve_dtype("auto", "cpu") == torch.float32
