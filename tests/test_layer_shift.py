"""Layer numbering and the shift hooks of langrep.means.layer_shift (used by translation and transfer),
on tiny random BERTs built in code (tests/conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import build_tiny_bert
from translation_common import EN, one_thread  # noqa: F401 (one_thread: an autouse fixture)

from langrep.errors import LangrepError
from langrep.means.layer_shift import (
    LayerShift,
    encoder_layers,
    layer_module,
    n_hidden_states,
    n_layers,
    resolve_layer,
    shift_at_layer,
)


@pytest.fixture()
def bert(tiny_tokenizer):
    return build_tiny_bert(len(tiny_tokenizer), layers=3, hidden=32, seed=1)


@pytest.fixture(scope="module")
def mlm(tiny_tokenizer):
    return build_tiny_bert(len(tiny_tokenizer), masked_lm=True, seed=1)


def _batch(tok, texts=("the girl can help me", "der hund ist da")):
    return tok(list(texts), return_tensors="pt", padding=True)


def _states(model, batch):
    with torch.no_grad():
        return model(**batch, output_hidden_states=True).hidden_states


# ------------------------------------------------------------------------------------ numbering
def test_layer_counts_match_the_hidden_states(mlm, tiny_tokenizer):
    """n_layers = L transformer layers, n_hidden_states = L + 1 = what output_hidden_states returns,
    for a bare encoder, a masked-LM wrapper and a task model around either."""
    from langrep.transfer import Tagger

    for layers in (2, 3):
        enc = build_tiny_bert(len(tiny_tokenizer), layers=layers, seed=0)
        assert len(_states(enc, _batch(tiny_tokenizer))) == layers + 1
        for model in (enc, Tagger(enc, 5, 0.0)):
            assert (n_layers(model), n_hidden_states(model)) == (layers, layers + 1)
            assert len(encoder_layers(model)) == layers
    assert (n_layers(mlm), n_hidden_states(mlm)) == (3, 4)
    assert encoder_layers(mlm) is mlm.bert.encoder.layer
    assert layer_module(mlm, 0) is mlm.bert.embeddings and layer_module(mlm, 3) is mlm.bert.encoder.layer[2]
    with pytest.raises(LangrepError, match="no encoder.layer"):
        encoder_layers(torch.nn.Linear(2, 2))


def test_resolve_layer(bert):
    assert resolve_layer("last", bert) == 3 and resolve_layer(0, bert) == 0
    with pytest.raises(LangrepError, match="transfer.pos.layers"):
        resolve_layer(4, bert, "transfer.pos.layers")
    with pytest.raises(LangrepError, match="integer"):
        resolve_layer("top", bert)


# ------------------------------------------------------------------------------------------ hooks
@pytest.mark.parametrize("layer", [0, 1, 2, 3])
def test_hook_changes_only_layers_at_and_above(mlm, tiny_tokenizer, layer):
    enc = mlm.bert
    batch = _batch(tiny_tokenizer, EN[:3])
    seen = {}

    # Record layer outputs with hooks of our own, registered after the MDS hook (they see its result).
    def rec(i):
        return lambda m, inp, out: seen.__setitem__(i, (out[0] if isinstance(out, tuple) else out).clone())

    mods = [enc.embeddings, *enc.encoder.layer]
    with torch.inference_mode():
        handles = [m.register_forward_hook(rec(i)) for i, m in enumerate(mods)]
        enc(**batch)
        base = dict(seen)
        for h in handles:
            h.remove()
        shift = torch.linspace(-1, 1, enc.config.hidden_size)
        with LayerShift(layer, shift.numpy()).apply(enc):
            handles = [m.register_forward_hook(rec(i)) for i, m in enumerate(mods)]
            enc(**batch)
            for h in handles:
                h.remove()
    for i in range(len(mods)):
        if i < layer:
            torch.testing.assert_close(seen[i], base[i], rtol=0, atol=0)
        elif i == layer:
            torch.testing.assert_close(seen[i], base[i] + shift)
        else:
            assert (seen[i] - base[i]).abs().max() > 1e-3, f"layer {i} unchanged by a shift at layer {layer}"
    # the hook is removed on exit
    with torch.inference_mode():
        torch.testing.assert_close(enc(**batch).last_hidden_state, base[len(mods) - 1])


def test_hook_bad_layer(mlm):
    with pytest.raises(LangrepError, match="out of range"):
        with LayerShift(4, np.zeros(32)).apply(mlm.bert):
            pass


@pytest.mark.parametrize("layer", [0, 2, 3])
def test_zero_mean_hook_output_is_h_minus_mean(bert, tiny_tokenizer, layer):
    batch = _batch(tiny_tokenizer)
    plain = _states(bert, batch)
    mean = np.random.default_rng(0).normal(size=32)
    expect = plain[layer] - torch.tensor(mean, dtype=torch.float32)
    # what actually flows on: the input of the next layer (or the model's last_hidden_state)
    flowing = {}
    probe = (
        bert.encoder.layer[layer].register_forward_pre_hook(lambda m, args: flowing.setdefault("h", args[0]))
        if layer < 3
        else None
    )
    with LayerShift.zero_mean(layer, mean).apply(bert):
        with torch.no_grad():
            out = bert(**batch, output_hidden_states=True)
    if probe is not None:
        probe.remove()
    torch.testing.assert_close(flowing.get("h", out.last_hidden_state), expect)
    # output_hidden_states reports the shifted state too (the hook runs before transformers' capture)
    torch.testing.assert_close(out.hidden_states[layer], expect)
    for below in range(layer):
        torch.testing.assert_close(out.hidden_states[below], plain[below])
    if layer < 3:  # the layers above see the shifted states
        assert not torch.allclose(out.hidden_states[layer + 1], plain[layer + 1], atol=1e-3)
    # the hook is gone after the block
    torch.testing.assert_close(_states(bert, batch)[layer], plain[layer])


def test_mds_hook_is_h_plus_alpha_mean_difference(bert, tiny_tokenizer):
    batch = _batch(tiny_tokenizer)
    plain = _states(bert, batch)
    rng = np.random.default_rng(1)
    r_en, r_tgt = rng.normal(size=32), rng.normal(size=32)
    layer, alpha = 2, 0.5
    flowing = {}
    probe = bert.encoder.layer[layer].register_forward_pre_hook(lambda m, args: flowing.setdefault("h", args[0]))
    with LayerShift.mds(layer, r_tgt, r_en, alpha).apply(bert):
        shifted = _states(bert, batch)
    probe.remove()
    expect = plain[layer] + torch.tensor(alpha * (r_en - r_tgt), dtype=torch.float32)
    torch.testing.assert_close(flowing["h"], expect)
    torch.testing.assert_close(shifted[layer], expect)
    torch.testing.assert_close(shifted[0], plain[0])
    torch.testing.assert_close(shifted[1], plain[1])


def test_hook_handles_tuple_outputs(bert, tiny_tokenizer):
    # transformers 4.x layers return tuples: wrap a layer so it does, and check the shift still applies
    layer = bert.encoder.layer[0]
    original_forward = layer.forward
    layer.forward = lambda *a, **k: (original_forward(*a, **k), "extra")
    try:
        seen = {}
        probe = layer.register_forward_hook(lambda m, i, o: seen.setdefault("out", o), prepend=False)
        with shift_at_layer(bert, 1, lambda h: h * 0 + 7.0):
            bert.encoder.layer[0](torch.zeros(1, 2, 32))
        probe.remove()
    finally:
        layer.forward = original_forward
    out = seen["out"]
    assert isinstance(out, tuple) and out[1] == "extra" and torch.all(out[0] == 7.0)
