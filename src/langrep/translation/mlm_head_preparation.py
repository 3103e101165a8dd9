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
from langrep.models.limits import check_job
from langrep.settings import HeadSettings, TranslationSettings
from langrep.translation.mlm_head import (
    PRETRAINED_MARKER,
    corpus_vocab,
    input_embeddings,
    save_head,
    write_pretrained_marker,
)
from langrep.translation.mlm_head_fitting import evaluate_head, fit_mlm_head, split_heldout


def prepare_head(
    model_dir,
    mono_paths: Mapping[str, str],
    out_dir,
    settings: HeadSettings | Mapping | None = None,
    device: str | None = TranslationSettings.defaults().device,
    log=None,
) -> str:
    """The ``mlm_head`` rule: record ``pretrained`` when the model has an MLM head, else fit a head on
    the mono corpora (``mono_paths``: language -> Parquet), report its held-out quality, save it.

    ``settings`` (config ``translation.head``, :class:`~langrep.settings.HeadSettings`):
    sentences_per_lang, heldout_per_lang, steps, batch_size, negatives, width, lr, mask_prob,
    max_length, token_budget, seed. ``device``: config ``translation.device``.
    """

    from langrep.models import NoMLMHeadError, load_encoder, load_masked_lm, resolve_device

    s = HeadSettings.from_config(settings)
    try:
        load_masked_lm(model_dir, device="cpu")
    except NoMLMHeadError as exc:
        if log:
            log(f"{exc}; fitting a head on the frozen encoder")
    else:
        write_pretrained_marker(out_dir)
        return PRETRAINED_MARKER
    n_fit, n_held = s.sentences_per_lang, s.heldout_per_lang
    fit_texts, held_texts = _fit_and_heldout_texts(mono_paths, n_fit, n_held)
    check_job({"translation.head.max_length": s.max_length}, model_dir, Path(model_dir).name)
    t0, c0 = time.perf_counter(), time.process_time()
    encoder, tokenizer = load_encoder(model_dir, device=resolve_device(device))
    for p in encoder.parameters():
        p.requires_grad_(False)
    common = dict(mask_prob=float(s.mask_prob), max_length=s.max_length, token_budget=s.token_budget)
    fit = fit_mlm_head(
        encoder,
        tokenizer,
        fit_texts,
        steps=s.steps,
        batch_size=s.batch_size,
        negatives=s.negatives,
        width=s.width,
        lr=float(s.lr),
        seed=s.seed,
        log=log,
        **common,
    )
    fit_vocab = corpus_vocab(tokenizer, [t for v in fit_texts.values() for t in v], common["max_length"])
    quality = evaluate_head(fit.head, encoder, tokenizer, held_texts, fit_vocab=fit_vocab, **common)
    n_tok = sum(q["n_tokens"] for q in quality.values())
    fit.stats.update(
        {
            "model_embedding_rows": int(input_embeddings(encoder).shape[0]),
            "tokenizer_vocab_size": len(tokenizer),
            "encoder_dtype": str(next(encoder.parameters()).dtype).removeprefix("torch."),
            "sentences_per_lang": n_fit,
            "heldout_per_lang": n_held,
            "heldout": quality,
            "heldout_reconstruction": sum(q["reconstruction"] * q["n_tokens"] for q in quality.values()) / n_tok,
            "heldout_reconstruction_min": min(q["reconstruction"] for q in quality.values()),
            "seconds_total": round(time.perf_counter() - t0, 2),
            "cpu_seconds_total": round(time.process_time() - c0, 2),
        }
    )
    save_head(fit.head, fit.stats, out_dir)
    if log:
        _log_quality(log, quality, fit.stats)
    return "fitted"


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


def _log_quality(log, quality: Mapping[str, dict], stats: Mapping) -> None:
    for lang, q in quality.items():
        log(
            f"held-out {lang}: reconstruction {q['reconstruction']:.1f}% of {q['n_tokens']} tokens, "
            f"masked accuracy {q['masked_accuracy'] or float('nan'):.1f}% of {q['n_masked']}"
        )
    log(f"fitted head: {json.dumps({k: v for k, v in stats.items() if k != 'heldout'})}")
