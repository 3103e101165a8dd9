"""Layer numbering, and a shift of the hidden states at one layer through a forward hook.

Numbering follows ``output_hidden_states``: hidden state 0 is the embedding output, hidden state
l >= 1 the output of ``encoder.layer[l - 1]``. A model of L transformer layers has
:func:`n_layers` = L and :func:`n_hidden_states` = L + 1 (the rows of a language-means file), and
its hidden states are numbered 0..L.

A hook replaces the output of the module that produces hidden state l, so every layer above l (and
the task or MLM head) sees the shifted states while the layers below l are untouched. The model
code is not copied: the hook wraps whatever module the checkpoint defines (a BertLayer returns a
tensor in transformers 5.x and a tuple in 4.x; both are handled). Token translation and transfer
both shift this way (:class:`LayerShift`):

* Zero-mean (paper Sec. 5.1): ``h - R_L^l``;
* Mean Difference Shift (Secs. 3 and 5.2): ``h + alpha * (R_tgt^l - R_src^l)``;

their arithmetic is :func:`~langrep.means.representations.zero_mean` and
:func:`~langrep.means.representations.mean_difference_shift`.

:func:`layer_span` runs only a slice ``encoder.layer[start:stop]`` inside the model's own forward
pass, from a given hidden state ``start``: the translation sweep decodes shifted states through the
layers above the shift, and transfer caches a frozen bottom this way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from torch import nn

from langrep.errors import LangrepError
from langrep.means.representations import mean_difference_shift, zero_mean


def base_encoder(model):
    """The transformer (``BertModel``-like) inside a task model or a transformers wrapper."""
    enc = getattr(model, "encoder_model", None) or model
    return getattr(enc, "base_model", enc)


def n_layers(model) -> int:
    """L, the number of transformer layers (``config.num_hidden_layers``)."""
    return int(base_encoder(model).config.num_hidden_layers)


def n_hidden_states(model) -> int:
    """L + 1: the embedding output and the output of each transformer layer."""
    return n_layers(model) + 1


def encoder_layers(model):
    """The ``encoder.layer`` module list of the transformer inside ``model``."""
    enc = base_encoder(model)
    try:
        return enc.encoder.layer
    except AttributeError:
        raise LangrepError(f"{type(enc).__name__} has no encoder.layer list (not a BERT-like encoder)") from None


def check_layer(layer: int, model, key: str | None = None) -> int:
    """``layer`` if the model has that hidden state (0..L); else a LangrepError naming ``key``."""
    n = n_layers(model)
    if not 0 <= layer <= n:
        where = f"{key}: " if key else ""
        raise LangrepError(f"{where}layer {layer} is out of range, the model has layers 0..{n}")
    return layer


def resolve_layer(layer, model, key: str = "transfer layer") -> int:
    """An int layer, or ``"last"``; checked against the model's depth (config key named on error)."""
    if layer == "last":
        return n_layers(model)
    try:
        value = int(layer)
    except (TypeError, ValueError):
        raise LangrepError(f"{key}: expected an integer layer or 'last', got {layer!r}") from None
    return check_layer(value, model, key)


def layer_module(model, layer: int):
    """The module whose output is hidden state ``layer``."""
    check_layer(layer, model)
    enc = base_encoder(model)
    if layer > 0:
        return encoder_layers(model)[layer - 1]
    try:
        return enc.embeddings
    except AttributeError:
        raise LangrepError(f"{type(enc).__name__} has no embeddings module to hook") from None


def map_hidden(output, fn: Callable):
    """A layer's output with its hidden states ``h`` replaced by ``fn(h)``."""
    if isinstance(output, tuple):
        return (fn(output[0]),) + tuple(output[1:])
    if hasattr(output, "last_hidden_state"):  # a ModelOutput, should a wrapper return one
        output.last_hidden_state = fn(output.last_hidden_state)
        return output
    return fn(output)


@contextlib.contextmanager
def shift_at_layer(model, layer: int, fn: Callable) -> Iterator[None]:
    """Within the block, hidden state ``layer`` is replaced by ``fn(h)`` (h: (B, T, H))."""

    def hook(_module, _inputs, output):
        return map_hidden(output, fn)

    # prepend: run before transformers 5.x's own output-capturing hook, so that
    # output_hidden_states reports the shifted state that actually flows to the layers above.
    handle = layer_module(model, layer).register_forward_hook(hook, prepend=True)
    try:
        yield
    finally:
        handle.remove()


@contextlib.contextmanager
def layer_span(encoder, start: int, stop: int, states=None) -> Iterator[None]:
    """Within the block, a forward pass of ``encoder`` takes hidden state ``start`` and returns
    hidden state ``stop`` as ``last_hidden_state``: only ``encoder.layer[start:stop]`` run.
    ``states`` (B, T, H) is hidden state ``start``, fed in place of the embeddings' output
    (required when ``start`` > 0; the embeddings still run, a lookup, and are discarded)."""
    base = base_encoder(encoder)
    layers = encoder_layers(base)
    if not 0 <= start <= stop <= len(layers):
        raise LangrepError(f"layer span {start}..{stop} is outside the model's layers 0..{len(layers)}")
    if start > 0 and states is None:
        raise LangrepError(f"starting at hidden state {start} needs that state as input")
    handle = base.embeddings.register_forward_hook(lambda _m, _i, _o: states) if states is not None else None
    base.encoder.layer = nn.ModuleList(list(layers)[start:stop])
    try:
        yield
    finally:
        base.encoder.layer = layers
        if handle is not None:
            handle.remove()


@dataclass(frozen=True, eq=False)
class LayerShift:
    """``h + offset`` at hidden state ``layer``: Zero-mean and MDS both add one vector to every token state."""

    layer: int
    offset: np.ndarray  # (H,)

    @classmethod
    def zero_mean(cls, layer: int, mean) -> LayerShift:
        """Zero-mean: ``h - R_L`` (``mean``: R_L^layer)."""
        mean = np.asarray(mean, dtype=np.float64)
        return cls(layer, zero_mean(np.zeros_like(mean), mean))

    @classmethod
    def mds(cls, layer: int, src_mean, tgt_mean, alpha: float = 1.0) -> LayerShift:
        """MDS from the source language towards the target: ``h + alpha (R_tgt - R_src)``."""
        src_mean = np.asarray(src_mean, dtype=np.float64)
        return cls(layer, mean_difference_shift(np.zeros_like(src_mean), src_mean, tgt_mean, alpha))

    def apply(self, model):
        """A context in which ``model`` adds the offset to hidden state ``layer`` (forward hook)."""
        import torch

        def add(h):
            return h + torch.as_tensor(self.offset, dtype=h.dtype, device=h.device)

        return shift_at_layer(model, self.layer, add)
