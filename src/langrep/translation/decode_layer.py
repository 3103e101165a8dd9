"""The layer a fitted MLM head decodes: the reconstruction curve, and the layer chosen from it.

A head fitted on a frozen encoder reads one hidden state. The paper decodes the top layer with
mBERT's own head (the ``top`` protocol). An encoder tuned for sentence embeddings, such as
multilingual-e5-small, loses much of token identity there: a head reading its last layer gives back
about two thirds of held-out tokens, so at alpha 0 the "translation" is already a third noise and
BLEU-1 and the convert rate mix the shift's effect with the head's failure to read the layer.

The head stage therefore fits a probe head at every layer 0..L (``translation.head.curve_steps``
optimization steps, on one forward pass's cached states) and measures each on the held-out
sentences: the reconstruction curve, per layer and language. ``translation.decode_layer: auto``
picks the highest layer where every language reconstructs at least
``translation.head.decode_reconstruction`` percent (:func:`choose_decode_layer`); the full head is
then fitted there, and translation shifts at layers up to it, runs the model's own layers up to it
and decodes there (:func:`langrep.translation.decoding.sweep_outputs`). A pretrained head reads the
top layer only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from langrep.errors import LangrepError
from langrep.translation.mlm_head_fitting import FitPositions, fit_head
from langrep.translation.mlm_head_quality import HeldoutPositions, heldout_quality

AUTO, TOP = "auto", "top"


def reconstruction_curve(
    positions: FitPositions,
    held: HeldoutPositions,
    layers: Sequence[int],
    encoder,
    tokenizer,
    *,
    fit: Mapping,
    log=None,
) -> list[dict]:
    """One probe head per layer of ``layers`` (the layers ``positions`` and ``held`` hold, in
    order), fitted with the keywords ``fit`` of :func:`~langrep.translation.mlm_head_fitting.fit_head`
    (``steps``: the curve's), and its held-out quality: rows ``{layer, lang, n_tokens,
    reconstruction, n_masked, masked_accuracy}``."""
    rows = []
    for i, layer in enumerate(layers):
        probe = fit_head(positions, encoder, tokenizer, layer_index=i, **fit)
        quality = heldout_quality(probe.head, held, layer_index=i)
        for lang, q in quality.items():
            rows.append(
                {
                    "layer": int(layer),
                    "lang": lang,
                    "n_tokens": q["n_tokens"],
                    "reconstruction": q["reconstruction"],
                    "n_masked": q["n_masked"],
                    "masked_accuracy": q["masked_accuracy"],
                }
            )
        if log:
            worst = min(quality.values(), key=lambda q: q["reconstruction"])
            log(
                f"curve layer {layer}: reconstruction {min(q['reconstruction'] for q in quality.values()):.1f}-"
                f"{max(q['reconstruction'] for q in quality.values()):.1f}% over languages "
                f"(lowest: {[k for k, v in quality.items() if v is worst][0]})"
            )
    return rows


def min_reconstruction_by_layer(curve: Sequence[Mapping]) -> dict[int, float]:
    """The lowest reconstruction over languages at each layer of a curve."""
    out: dict[int, float] = {}
    for row in curve:
        layer = int(row["layer"])
        out[layer] = min(out.get(layer, float("inf")), float(row["reconstruction"]))
    return out


def choose_decode_layer(requested, curve: Sequence[Mapping], n_layers: int, threshold: float) -> tuple[int, str]:
    """(the decode layer, why): ``requested`` is ``top`` (the top layer ``n_layers``), a layer
    number, or ``auto``: the highest layer of ``curve`` where every language reconstructs at least
    ``threshold`` percent (none does: the layer with the highest lowest reconstruction)."""
    if requested == TOP:
        return n_layers, "top: the paper's protocol"
    if requested != AUTO:
        layer = _layer_number(requested, n_layers)
        return layer, f"translation.decode_layer: {layer}"
    lowest = min_reconstruction_by_layer(curve)
    if not lowest:
        raise LangrepError("translation.decode_layer: auto needs a reconstruction curve (no layer was measured)")
    passing = [layer for layer, value in lowest.items() if value >= threshold]
    if passing:
        return max(passing), f"auto: the highest layer where every language reconstructs >= {threshold:g}%"
    best = max(lowest, key=lambda layer: (lowest[layer], layer))
    return best, (
        f"auto: no layer reaches {threshold:g}% in every language; the layer with the highest lowest "
        f"reconstruction ({lowest[best]:.1f}%)"
    )


def _layer_number(value, n_layers: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LangrepError(f"translation.decode_layer: expected auto, top or a layer number, got {value!r}")
    if not 0 <= value <= n_layers:
        raise LangrepError(
            f"translation.decode_layer: layer {value} is out of range, the model has layers 0..{n_layers}"
        )
    return value
