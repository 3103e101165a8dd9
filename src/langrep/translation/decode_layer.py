"""The layer a fitted MLM head decodes: the reconstruction curve, and the layer chosen from it.

A head fitted on a frozen encoder reads one hidden state. The paper decodes the top layer with
mBERT's own head (the ``top`` protocol). An encoder tuned for sentence embeddings, such as
multilingual-e5-small, loses much of token identity there: a head reading its last layer gives back
about two thirds of held-out tokens, so at alpha 0 the "translation" is already a third noise and
BLEU-1 and the convert rate mix the shift's effect with the head's failure to read the layer.

The head stage therefore measures a probe head at every layer, from the top down, on one forward
pass's cached states: at the top the fitted head itself, below it the probe of the layer above
fitted ``translation.head.curve_steps`` more steps on the layer's states (a warm start: adjacent
layers' states are alike), each measured on the first ``translation.head.curve_sentences`` held-out
sentences of every language: the reconstruction curve, per layer and language.
``translation.decode_layer: auto`` picks the highest layer where every language reconstructs at
least ``translation.head.decode_reconstruction`` percent (:func:`choose_decode_layer`); that
layer's probe is the decode head, measured again on every held-out sentence, and translation
shifts at layers up to it, runs the model's own layers up to it and decodes there
(:func:`langrep.translation.decoding.sweep_outputs`). A pretrained head reads the top layer only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from langrep.errors import LangrepError
from langrep.translation.mlm_head import FittedMLMHead
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
    top_head: FittedMLMHead,
    fit: Mapping,
    log=None,
) -> tuple[list[dict], dict[int, dict]]:
    """The probe heads of the curve and their held-out quality, from the top layer down.

    ``layers``: the layers ``positions`` and ``held`` hold, in order, the last one the top layer,
    whose probe is ``top_head`` (the fitted top head itself). The probe of every layer below starts
    from the probe of the layer above (adjacent layers' states are alike, so a few steps adapt
    it) and is fitted on its layer's states with the keywords ``fit`` of
    :func:`~langrep.translation.mlm_head_fitting.fit_head` (``steps``: the curve's). Returns the
    rows ``{layer, lang, n_tokens, reconstruction, n_masked, masked_accuracy}`` (top layer first)
    and each probe's weights by layer (a state dict: the tied embeddings are not in it)."""
    rows, weights = [], {}
    probe = top_head
    for i in reversed(range(len(layers))):
        layer = int(layers[i])
        if i < len(layers) - 1:
            probe = fit_head(
                positions, encoder, tokenizer, layer_index=i, init=probe, train_accuracy=False, **fit
            ).head  # a probe's fitting statistics are not kept: no seconds spent measuring them
        quality = heldout_quality(probe, held, layer_index=i)
        weights[layer] = {k: v.detach().clone() for k, v in probe.state_dict().items()}
        rows.extend({"layer": layer, "lang": lang, **_curve_cells(q)} for lang, q in quality.items())
        if log:
            rec = {lang: q["reconstruction"] for lang, q in quality.items()}
            low = min(rec, key=rec.get)
            log(f"curve layer {layer}: reconstruction {rec[low]:.1f}-{max(rec.values()):.1f}% (lowest: {low})")
    return rows, weights


def _curve_cells(q: Mapping) -> dict:
    keys = ("n_tokens", "reconstruction", "n_masked", "masked_accuracy")
    return {k: q[k] for k in keys}


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
