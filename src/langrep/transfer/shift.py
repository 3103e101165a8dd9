"""Zero-mean and MDS applied inside the encoder, at the output of layer l, with forward hooks.

Layer numbering follows ``output_hidden_states``: l = 0 is the embedding output, l >= 1 the output
of ``encoder.layer[l - 1]``. A hook replaces that output, so every layer above l (and the task head)
sees the shifted states while the layers below l are untouched. The model code is not copied: the
hook wraps whatever module the checkpoint defines (a BertLayer returns a tensor in transformers 5.x
and a tuple in 4.x; both are handled).

* Zero-mean (paper Sec. 5.1): ``h - R_L^l`` with L the language of the batch (English during
  fine-tuning, the target language at test), means from the pre-trained model.
* MDS at test: ``h + alpha * (R_en^l - R_tgt^l)`` moves target-language states into the English
  space the task head was trained on, means from the fine-tuned model.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from langrep.errors import LangrepError
from langrep.means import mean_difference_shift, zero_mean


def base_encoder(model):
    """The transformer (``BertModel``-like) inside a task model or a transformers wrapper."""
    enc = getattr(model, "encoder_model", None) or model
    return getattr(enc, "base_model", enc)


def num_layers(model) -> int:
    return int(base_encoder(model).config.num_hidden_layers)


def resolve_layer(layer, model, key: str = "transfer layer") -> int:
    """An int layer, or ``"last"``; checked against the model's depth (config key named on error)."""
    n = num_layers(model)
    if layer == "last":
        return n
    try:
        value = int(layer)
    except (TypeError, ValueError):
        raise LangrepError(f"{key}: expected an integer layer or 'last', got {layer!r}") from None
    if not 0 <= value <= n:
        raise LangrepError(f"{key}: layer {value} is out of range, the model has layers 0..{n}")
    return value


def layer_module(model, layer: int):
    """The module whose output is hidden state ``layer``."""
    enc = base_encoder(model)
    n = num_layers(model)
    if not 0 <= layer <= n:
        raise LangrepError(f"layer {layer} is out of range, the model has layers 0..{n}")
    try:
        return enc.embeddings if layer == 0 else enc.encoder.layer[layer - 1]
    except AttributeError:
        raise LangrepError(f"{type(enc).__name__} has no embeddings / encoder.layer modules to hook") from None


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


@dataclass(frozen=True, eq=False)
class LayerShift:
    """``h + offset`` at hidden state ``layer``: both methods add one vector to every token state."""

    layer: int
    offset: np.ndarray  # (H,)

    @classmethod
    def zero_mean(cls, layer: int, mean) -> "LayerShift":
        """Zero-mean: ``h - R_L`` (``mean``: R_L^layer)."""
        mean = np.asarray(mean, dtype=np.float64)
        return cls(layer, zero_mean(np.zeros_like(mean), mean))

    @classmethod
    def mds(cls, layer: int, lang_mean, english_mean, alpha: float = 1.0) -> "LayerShift":
        """MDS towards English: ``h + alpha (R_en - R_L)``."""
        lang_mean = np.asarray(lang_mean, dtype=np.float64)
        return cls(layer, mean_difference_shift(np.zeros_like(lang_mean), lang_mean, english_mean, alpha))

    def apply(self, model):
        """A context in which ``model`` adds the offset to hidden state ``layer`` (forward hook)."""
        import torch

        def add(h):
            return h + torch.as_tensor(self.offset, dtype=h.dtype, device=h.device)

        return shift_at_layer(model, self.layer, add)


def zero_mean_at(model, layer: int, mean):
    """Zero-mean at ``layer``: ``h - mean`` (``mean``: R_L^layer, shape (H,))."""
    return LayerShift.zero_mean(layer, mean).apply(model)


def mds_at(model, layer: int, lang_mean, english_mean, alpha: float = 1.0):
    """MDS at ``layer`` towards English: ``h + alpha * (R_en - R_lang)``."""
    return LayerShift.mds(layer, lang_mean, english_mean, alpha).apply(model)
