"""Preparing the MLM head a translation run decodes with (the mlm_head rule): the model's own
when it has one, else a head fitted on its frozen encoder (:mod:`langrep.translation.mlm_head_fitting`), saved
with its held-out quality per language."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path

from langrep.artifacts import read_frame
from langrep.errors import InputFormatError, LangrepError
from langrep.means.layer_shift import n_layers
from langrep.models.limits import check_job
from langrep.settings import HeadSettings, TranslationSettings
from langrep.translation.decode_layer import AUTO, TOP, choose_decode_layer, reconstruction_curve
from langrep.translation.mlm_head import (
    DECODE_HEAD_FILE,
    PRETRAINED_MARKER,
    FittedMLMHead,
    corpus_vocab,
    input_embeddings,
    save_head,
    write_pretrained_marker,
)
from langrep.translation.mlm_head_fitting import fit_head, training_positions
from langrep.translation.mlm_head_quality import heldout_positions, heldout_quality, split_heldout


def prepare_head(
    model_dir,
    mono_paths: Mapping[str, str],
    out_dir,
    settings: HeadSettings | Mapping | None = None,
    device: str | None = TranslationSettings.defaults().device,
    log=None,
    decode_layer: str | int = TranslationSettings.defaults().decode_layer,
) -> str:
    """The ``mlm_head`` rule: record ``pretrained`` when the model has an MLM head, else fit a head on
    the mono corpora (``mono_paths``: language -> Parquet), report its held-out quality, save it.

    A fitted head comes with the reconstruction curve (a probe per layer) and, when the decode
    layer is below the top, a second head fitted on that layer (``head_decode.safetensors``; see
    :mod:`langrep.translation.decode_layer`). ``settings`` (config ``translation.head``,
    :class:`~langrep.settings.HeadSettings`): sentences_per_lang, heldout_per_lang, steps,
    batch_size, negatives, width, lr, mask_prob, max_length, token_budget, seed, curve_steps,
    curve_sentences, decode_reconstruction. ``device``: config ``translation.device``; ``decode_layer``: config
    ``translation.decode_layer`` (``auto``, ``top`` or a layer number).
    """

    from langrep.models import NoMLMHeadError, load_encoder, load_masked_lm, resolve_device

    s = HeadSettings.from_config(settings)
    if decode_layer not in (AUTO, TOP):
        check_job({"translation.decode_layer": [decode_layer]}, model_dir, Path(model_dir).name)
    try:
        mlm, _ = load_masked_lm(model_dir, device="cpu")
    except NoMLMHeadError as exc:
        if log:
            log(f"{exc}; fitting a head on the frozen encoder")
    else:
        _check_pretrained_decode_layer(decode_layer, n_layers(mlm), model_dir)
        write_pretrained_marker(out_dir)
        return PRETRAINED_MARKER
    fit_texts, held_texts = _fit_and_heldout_texts(mono_paths, s.sentences_per_lang, s.heldout_per_lang)
    check_job({"translation.head.max_length": s.max_length}, model_dir, Path(model_dir).name)
    t0, c0 = time.perf_counter(), time.process_time()
    encoder, tokenizer = load_encoder(model_dir, device=resolve_device(device))
    for p in encoder.parameters():
        p.requires_grad_(False)
    top = n_layers(encoder)
    common = dict(mask_prob=float(s.mask_prob), max_length=s.max_length, token_budget=s.token_budget)
    layers = list(range(top + 1))
    positions = training_positions(encoder, tokenizer, fit_texts, seed=s.seed, layers=layers, **common)
    held = heldout_positions(encoder, tokenizer, held_texts, layers=layers, **common)
    fit = dict(
        steps=s.steps, batch_size=s.batch_size, negatives=s.negatives, width=s.width, lr=float(s.lr),
        mask_prob=common["mask_prob"], seed=s.seed, log=log,
    )  # fmt: skip
    top_fit = fit_head(positions, encoder, tokenizer, layer_index=top, **fit)  # layers 0..L: index = layer
    curve, probes = reconstruction_curve(
        positions, held.first_sentences(s.curve_sentences), layers, encoder, tokenizer,
        top_head=top_fit.head, fit={**fit, "steps": s.curve_steps, "log": None}, log=log,
    )  # fmt: skip
    chosen, why = choose_decode_layer(decode_layer, curve, top, float(s.decode_reconstruction))
    fit_vocab = corpus_vocab(tokenizer, [t for v in fit_texts.values() for t in v], common["max_length"])
    decode_head = top_fit.head
    if chosen != top:
        decode_head = FittedMLMHead(
            input_embeddings(encoder), top_fit.head.vocab_size, s.width, top_fit.head.layer_norm.eps
        )
        decode_head.load_state_dict(probes[chosen])
    heads = {
        layer: (head, _quality_stats(heldout_quality(head.eval(), held, layer_index=layer, fit_vocab=fit_vocab)))
        for layer, head in dict.fromkeys([(top, top_fit.head), (chosen, decode_head)])
    }
    if log:
        for layer, (_, quality) in heads.items():
            _log_quality(log, layer, quality["heldout"])
    stats = _head_stats(top_fit.stats, heads, chosen, why, curve, encoder, tokenizer, s, t0, c0)
    if chosen != top:
        save_head(decode_head, None, out_dir, file=DECODE_HEAD_FILE)
    save_head(top_fit.head, stats, out_dir)
    if log:
        brief = {k: v for k, v in stats.items() if k not in ("heldout", "curve", "decode_head")}
        log(f"fitted heads: {json.dumps(brief)}")
    return "fitted"


def _check_pretrained_decode_layer(decode_layer, top: int, model_dir) -> None:
    """A pretrained head reads the top layer only: a layer number below it is refused."""
    if decode_layer not in (AUTO, TOP) and decode_layer != top:
        raise LangrepError(
            f"translation.decode_layer: {decode_layer}: {model_dir} has its own MLM head, which reads the top "
            f"layer ({top}); use auto or top (a decode layer is for heads fitted on an encoder without one)"
        )


def _quality_stats(quality: Mapping[str, dict]) -> dict:
    """A head's held-out quality per language and its token-weighted and lowest reconstruction."""
    n_tok = sum(q["n_tokens"] for q in quality.values())
    return {
        "heldout": dict(quality),
        "heldout_reconstruction": sum(q["reconstruction"] * q["n_tokens"] for q in quality.values()) / n_tok,
        "heldout_reconstruction_min": min(q["reconstruction"] for q in quality.values()),
    }


def _head_stats(top_stats, heads, chosen, why, curve, encoder, tokenizer, s: HeadSettings, t0, c0) -> dict:
    """``head.json``: the top head's statistics and quality (as before the decode layer), the
    decode layer, why it was chosen, its head's quality, and the reconstruction curve."""
    top = max(heads)
    stats = dict(top_stats)
    stats.update(
        {
            "model_embedding_rows": int(input_embeddings(encoder).shape[0]),
            "tokenizer_vocab_size": len(tokenizer),
            "encoder_dtype": str(next(encoder.parameters()).dtype).removeprefix("torch."),
            "sentences_per_lang": s.sentences_per_lang,
            "heldout_per_lang": s.heldout_per_lang,
            **heads[top][1],
            "layer": top,
            "decode_layer": chosen,
            "decode_layer_choice": why,
            "decode_head": None
            if chosen == top
            else {
                "file": DECODE_HEAD_FILE,
                "layer": chosen,
                "fitted": f"the curve's probe at layer {chosen}: the top head, then {s.curve_steps} steps on "
                f"each layer's states from layer {top - 1} down to {chosen}",
                **heads[chosen][1],
            },
            "curve_steps": s.curve_steps,
            "curve_sentences": s.curve_sentences,
            "decode_reconstruction": s.decode_reconstruction,
            "curve": curve,
            "seconds_total": round(time.perf_counter() - t0, 2),
            "cpu_seconds_total": round(time.process_time() - c0, 2),
        }
    )
    return stats


def _fit_and_heldout_texts(mono_paths: Mapping[str, str], n_fit: int, n_held: int) -> tuple[dict, dict]:
    """Per language, the fitting sentences and the held-out ones of its mono corpus."""
    fit_texts, held_texts = {}, {}
    for lang, path in mono_paths.items():
        df = read_frame(path)
        if "text" not in df.columns:
            raise InputFormatError(path, None, "missing column 'text'")
        fit_texts[lang], held_texts[lang] = split_heldout(df["text"].astype(str).tolist(), n_fit, n_held)
        if not fit_texts[lang] or not held_texts[lang]:
            raise LangrepError(
                f"{path}: {len(df)} sentences; the MLM head needs at least 5 per language (one in five is held out)"
            )
    return fit_texts, held_texts


def _log_quality(log, layer: int, quality: Mapping[str, dict]) -> None:
    for lang, q in quality.items():
        log(
            f"head at layer {layer}, held-out {lang}: reconstruction {q['reconstruction']:.1f}% of "
            f"{q['n_tokens']} tokens, masked accuracy {q['masked_accuracy'] or float('nan'):.1f}% of {q['n_masked']}"
        )
