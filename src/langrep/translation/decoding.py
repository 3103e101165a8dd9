"""Unsupervised token translation by Mean Difference Shift (paper, Sec. 3, Tables 1/6/7).

A sentence in L_s goes through the encoder; at the output of layer l every token's hidden state
is shifted by ``alpha * (R_t^l - R_s^l)``; the remaining layers and the MLM head run unchanged and
the argmax token of every (non-special) position is the output. The head reads the top layer (the
paper's protocol) or, for a head fitted on an encoder without one, a lower decode layer d
(:mod:`langrep.translation.decode_layer`): then only the layers up to d run.

Two equivalent implementations:
- :func:`translate`: :class:`langrep.means.layer_shift.LayerShift`, a forward hook on the embeddings
  (l = 0) or on ``encoder.layer[l-1]`` (l >= 1); the whole model runs per (layer, alpha). Simple;
  the reference.
- :func:`sweep_outputs`: the sweep. One forward pass per source batch caches the hidden states of
  every layer; for each (target, layer) the shifted states of all alphas are stacked on the batch
  axis and fed through the model's own remaining ``encoder.layer[l:]`` modules. alpha = 0 is the
  unshifted decoding, the same for every layer and target, so it is decoded once.

Metrics (:mod:`langrep.translation.metrics`): BLEU-1 (sacrebleu, unigram, brevity penalty,
corpus level), the convert rate ``#(y in V_t - V_s) / (#y - #(y in V_s & V_t))`` and the share of
output tokens in neither V_s nor V_t (the paper: the model "never decoded tokens not belonging to
L1 and L2"), with V_L the token set of language L's XNLI test text
(:mod:`langrep.translation.data`). Inputs are XNLI test lines
(premise + hypothesis), de-duplicated. The experiment's rows, intervals and samples:
:mod:`langrep.translation.run`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from langrep.batching import length_sorted_batches, pad_tensors, pad_token_id, special_ids, tokenize_ids
from langrep.errors import LangrepError
from langrep.means.layer_shift import LayerShift, check_layer, layer_span, n_hidden_states
from langrep.models import inference
from langrep.settings import TranslationSettings
from langrep.translation.mlm_head import Decoder

# the keyword defaults below: config translation's
DEFAULT = TranslationSettings.defaults()


def _decode_positions(decoder: Decoder, hidden: torch.Tensor, keep: torch.Tensor, specials: set[int]):
    """Argmax token ids at the kept positions of ``hidden`` [B, S, H] -> list of B id lists."""
    ids = decoder.argmax(hidden[keep]).tolist()
    counts = keep.sum(1).tolist()
    out, pos = [], 0
    for c in counts:
        out.append([i for i in ids[pos : pos + c] if i not in specials])
        pos += c
    return out


def _batches(tokenizer, texts, max_length, token_budget, device):
    tokens = tokenize_ids(tokenizer, texts, max_length)
    specials = torch.as_tensor(special_ids(tokenizer), dtype=torch.long)
    for batch in length_sorted_batches(tokens.lengths, token_budget, max_padding=None, shortest_first=True):
        ids, mask = pad_tensors(tokens, batch, pad_token_id(tokenizer))
        keep = mask.bool() & ~torch.isin(ids, specials)
        yield batch, ids.to(device), mask.to(device), keep.to(device)


def _check_read_layer(decoder: Decoder, layers: Sequence[int]) -> int:
    """The layer the decoder's head reads; every shift layer must be at or below it."""
    read = decoder.read_layer
    above = [l for l in layers if l > read]
    if above:
        raise LangrepError(f"MDS at layer(s) {above} lies above the layer the MLM head reads ({read})")
    return read


def translate(
    decoder: Decoder,
    tokenizer,
    texts: Sequence[str],
    *,
    layer: int,
    src_mean,
    tgt_mean,
    alpha: float,
    max_length: int = DEFAULT.max_length,
    token_budget: int = DEFAULT.token_budget,
) -> list[list[int]]:
    """Output token ids per text with MDS at ``layer`` (a forward hook, :class:`LayerShift`); the
    head reads the decoder's layer (the whole model runs; its hidden state there is decoded)."""
    specials = set(special_ids(tokenizer))
    dev = decoder.device
    read = _check_read_layer(decoder, [layer])
    out: list[list[int] | None] = [None] * len(texts)
    shift = LayerShift.mds(layer, src_mean, tgt_mean, alpha)
    with inference(), shift.apply(decoder.encoder):
        for batch, ids, mask, keep in _batches(tokenizer, texts, max_length, token_budget, dev):
            hidden = decoder.encoder(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[read]
            for i, o in zip(batch, _decode_positions(decoder, hidden, keep, specials)):
                out[i] = o
    return out  # type: ignore[return-value]


def sweep_outputs(
    decoder: Decoder,
    tokenizer,
    texts: Sequence[str],
    deltas: Mapping[str, np.ndarray],
    layers: Sequence[int],
    alphas: Sequence[float],
    *,
    max_length: int = DEFAULT.max_length,
    token_budget: int = DEFAULT.token_budget,
    log=None,
    what: str = "",
) -> dict[tuple[str, int, float], list[list[int]]]:
    """Outputs for every (target, layer, alpha); ``deltas[t]`` is R_t - R_s, shape [L+1, H].

    The head reads the decoder's layer d (the top layer, or a fitted head's decode layer): a
    shift at layer l runs the model's own layers l+1..d, and every layer of ``layers`` is <= d.

    ``token_budget`` bounds the padded tokens of a source batch; the stacked alpha batches are
    ``len(alphas)`` times larger. ``log`` gets a progress line after every source batch.
    """
    enc = decoder.encoder
    for layer in layers:
        check_layer(layer, enc, "translation.layers")
    top = _check_read_layer(decoder, layers)
    specials = set(special_ids(tokenizer))
    dev = decoder.device
    dtype = next(enc.parameters()).dtype
    shifts = {t: torch.as_tensor(np.asarray(d), dtype=dtype, device=dev) for t, d in deltas.items()}
    for t, d in shifts.items():
        if d.shape[0] != n_hidden_states(enc):
            raise LangrepError(f"language means for {t!r} have {d.shape[0]} layers, the model {n_hidden_states(enc)}")
    nonzero = [a for a in alphas if a != 0]
    a_vec = torch.as_tensor(nonzero, dtype=dtype, device=dev).view(-1, 1, 1, 1)
    results: dict[tuple[str, int, float], list] = {
        (t, l, a): [None] * len(texts) for t in deltas for l in layers for a in alphas
    }
    t0, done = time.perf_counter(), 0
    batches = _batches(tokenizer, texts, max_length, token_budget, dev)
    with inference():
        for n_batch, (batch, ids, mask, keep) in enumerate(batches, start=1):
            hs = enc(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
            if any(a == 0 for a in alphas):
                base = _decode_positions(decoder, hs[top], keep, specials)
                for key in results:
                    if key[2] == 0:
                        for i, o in zip(batch, base):
                            results[key][i] = o
            if not nonzero:
                continue
            k = len(nonzero)
            ids_k, mask_k, keep_k = ids.repeat(k, 1), mask.repeat(k, 1), keep.repeat(k, 1)
            b = len(batch)
            for t, d in shifts.items():
                for layer in layers:
                    # [K, B, S, H] -> [K*B, S, H]: row k*B + i is sentence i under alpha k.
                    h = (hs[layer].unsqueeze(0) + a_vec * d[layer]).reshape(k * b, *hs[layer].shape[1:])
                    with layer_span(enc, layer, top, h):  # the model's own layers from the shift to the head
                        h = enc(input_ids=ids_k, attention_mask=mask_k).last_hidden_state
                    decoded = _decode_positions(decoder, h, keep_k, specials)
                    for j, a in enumerate(nonzero):
                        for i, o in zip(batch, decoded[j * b : (j + 1) * b]):
                            results[(t, layer, a)][i] = o
            done += len(batch)
            if log is not None:
                spent = time.perf_counter() - t0
                log(
                    f"{what}{done}/{len(texts)} lines decoded ({n_batch} batches, {spent:.0f}s, "
                    f"~{spent * (len(texts) - done) / done:.0f}s to go)"
                )
    return results


# ------------------------------------------------------------------------------ one direction's outputs
def direction_outputs(
    decoder, tokenizer, texts, deltas, *, layer, layers, alphas, n_sweep, max_length, token_budget, log, what
):
    """Outputs at the table ``layer`` for every line, and at the other ``layers`` for the first
    ``n_sweep`` lines (alpha 0, the same at every layer, is reused from the table's decoding)."""
    others = [l for l in layers if l != layer]
    if n_sweep >= len(texts):  # one pass for every layer
        return sweep_outputs(
            decoder,
            tokenizer,
            texts,
            deltas,
            sorted({layer, *others}),
            alphas,
            max_length=max_length,
            token_budget=token_budget,
            log=log,
            what=what,
        )
    outs = sweep_outputs(
        decoder,
        tokenizer,
        texts,
        deltas,
        [layer],
        alphas,
        max_length=max_length,
        token_budget=token_budget,
        log=log,
        what=f"{what}layer {layer}: ",
    )
    if others:
        shifted = [a for a in alphas if a != 0]
        part = (
            sweep_outputs(
                decoder,
                tokenizer,
                texts[:n_sweep],
                deltas,
                others,
                shifted,
                max_length=max_length,
                token_budget=token_budget,
                log=log,
                what=f"{what}layer sweep: ",
            )
            if shifted
            else {}
        )
        outs.update(part)
        if 0 in alphas:
            for t in deltas:
                for l in others:
                    outs[(t, l, 0.0)] = outs[(t, layer, 0.0)][:n_sweep]
    return outs
