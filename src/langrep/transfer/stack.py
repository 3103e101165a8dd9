"""The encoder of a task model in two parts: a frozen bottom whose output can be cached, and the
layers above it, up to the layer the task head reads.

Layer numbering follows ``output_hidden_states`` (0 = embedding output, l = output of
``encoder.layer[l - 1]``). A task model reads hidden state ``read_layer`` (k). With
``train_top_layers`` = T, layers k-T+1..k train and hidden state F = k - T (the embeddings and
layers 1..F) is frozen: it is computed once per sentence, in the frozen part's dtype (bf16 where
the CPU or GPU has it), and the trainable layers run on it. With ``train_top_layers`` null every
layer trains (the paper's full fine-tuning) and nothing is cached.

Only the model's own modules run: :func:`~langrep.means.layer_shift.layer_span` makes the encoder's forward
pass run a slice of its layer list, and feeds a cached hidden state in place of the embeddings'
output through a forward hook, so masks, attention kernels and dropout stay transformers' own.

A shift ``h + v`` at hidden state l (Zero-mean, MDS; see :mod:`langrep.means.layer_shift`) acts
wherever layer l runs. Relative to the cache: l < F is applied while the cache is computed (the
cache then belongs to that shift); l = F is added to the cached states; l > F runs as a hook in the
trainable layers. All three give the same states as one uncached forward pass with the hook.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import torch
from torch import nn

from langrep.batching import length_sorted_batches
from langrep.errors import LangrepError
from langrep.means.layer_shift import (
    LayerShift,
    base_encoder,
    encoder_layers,
    layer_module,
    layer_span,
    map_hidden,
    n_layers,
)
from langrep.models import inference


class EncoderReader(nn.Module):
    """Base of the task models: the encoder, the hidden state the head reads (``read_layer``) and
    the frozen bottom (``frozen_layers`` = F, or None when every layer trains)."""

    def __init__(self, encoder, read_layer: int | None = None, frozen_layers: int | None = None):
        super().__init__()
        self.encoder_model = encoder
        n = n_layers(self)
        self.read_layer = n if read_layer is None else int(read_layer)
        if not 0 <= self.read_layer <= n:
            raise LangrepError(f"read layer {self.read_layer} is out of range, the model has layers 0..{n}")
        if frozen_layers is not None and not 0 <= frozen_layers <= self.read_layer:
            raise LangrepError(f"frozen layers {frozen_layers} must lie in 0..{self.read_layer} (the read layer)")
        self.frozen_layers = frozen_layers
        self.autocast_dtype = None  # bf16/fp16: the trainable layers run under autocast (freeze_bottom)

    def prefix(self, input_ids, attention_mask):
        """Hidden state F (B, T, H) of the frozen bottom, without gradients."""
        if self.frozen_layers is None:
            raise LangrepError("the whole encoder trains: there is no frozen bottom to cache")
        with torch.no_grad(), layer_span(self.encoder_model, 0, self.frozen_layers):
            return self.encoder_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    def read(self, input_ids, attention_mask, prefix=None):
        """Hidden state ``read_layer`` (B, T, H), float32. ``prefix``: hidden state F of these
        sentences (e.g. cached); computed here when not given."""
        start = 0
        if self.frozen_layers is not None:
            if prefix is None:
                prefix = self.prefix(input_ids, attention_mask)
            start, prefix = self.frozen_layers, prefix.float()
            if start == self.read_layer:
                return prefix
        autocast = torch.autocast(
            input_ids.device.type, dtype=self.autocast_dtype or torch.bfloat16, enabled=self.autocast_dtype is not None
        )
        with autocast, layer_span(self.encoder_model, start, self.read_layer, prefix):
            return self.encoder_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state.float()


def freeze_bottom(model: EncoderReader, frozen_dtype=None) -> None:
    """Freeze the embeddings and layers 1..F (``model.frozen_layers``) and the layers above the read
    layer; cast the frozen bottom to ``frozen_dtype`` (bf16 for fast cached passes). The trainable
    layers keep float32 parameters and run under autocast to ``frozen_dtype`` (mixed precision).
    With ``frozen_layers`` None every layer up to the read layer trains."""
    enc, f = model.encoder_model, model.frozen_layers
    base, layers = base_encoder(enc), encoder_layers(enc)
    model.autocast_dtype = frozen_dtype if frozen_dtype in (torch.bfloat16, torch.float16) else None
    for p in enc.parameters():
        p.requires_grad = f is None
    for layer in layers[model.read_layer :]:
        for p in layer.parameters():
            p.requires_grad = False
    if f is None:
        return
    for layer in layers[f : model.read_layer]:
        for p in layer.parameters():
            p.requires_grad = True
    if frozen_dtype is not None and frozen_dtype != torch.float32:
        base.embeddings.to(frozen_dtype)
        for layer in layers[:f]:
            layer.to(frozen_dtype)
        # hidden state F enters the float32 layers as float32, in any forward pass of the encoder
        layer_module(model, f).register_forward_hook(lambda _m, _i, out: map_hidden(out, lambda h: h.float()))


def split_shift(shift: LayerShift | None, frozen_layers: int | None):
    """Where a shift acts relative to the cached hidden state F: ``(while caching, added to the
    cache, as a hook above)``; at most one is not None."""
    if shift is None:
        return None, None, None
    if frozen_layers is None or shift.layer > frozen_layers:
        return None, None, shift
    if shift.layer == frozen_layers:
        return None, shift, None
    return shift, None, None


class PrefixCache:
    """Hidden state F of every sentence of a corpus, computed once per shift below F (length-sorted
    batches; the rows are kept unpadded)."""

    def __init__(self, model: EncoderReader, encoded: Sequence, pad_id: int, token_budget: int):
        self.model, self.encoded, self.pad_id, self.token_budget = model, list(encoded), pad_id, token_budget
        self.dtype = base_encoder(model).embeddings.word_embeddings.weight.dtype
        self._plain: list | None = None

    def states(self, below: LayerShift | None = None) -> list:
        """Per sentence (T_i, H); the unshifted ones are kept, those under a shift below F are not."""
        if below is None and self._plain is not None:
            return self._plain
        from langrep.transfer.alignment import collate

        out: list = [None] * len(self.encoded)
        device = next(self.model.parameters()).device
        hook = below.apply(self.model) if below is not None else contextlib.nullcontext()
        with inference(), hook:
            for idx in length_sorted_batches([len(e.input_ids) for e in self.encoded], self.token_budget):
                ids, attn, _, _ = collate([self.encoded[i] for i in idx], self.pad_id)
                h = self.model.prefix(ids.to(device), attn.to(device))
                for row, i in enumerate(idx):  # stored in the frozen bottom's dtype: lossless
                    out[i] = h[row, : len(self.encoded[i].input_ids)].to(dtype=self.dtype, copy=True)
        if below is None:
            self._plain = out
        return out

    def batch(self, states: list, idx, width: int, added: LayerShift | None = None):
        """(B, width, H) float32 of the sentences ``idx``, zero-padded, plus ``added``'s offset."""
        first = states[idx[0]]
        out = torch.zeros((len(idx), width, first.size(-1)), dtype=torch.float32, device=first.device)
        for row, i in enumerate(idx):
            out[row, : states[i].size(0)] = states[i]
        if added is not None:
            out += torch.as_tensor(added.offset, dtype=torch.float32, device=out.device)
        return out
