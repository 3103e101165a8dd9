"""The token-translation experiment as the pipeline runs it: score rows, intervals, samples.

Table 1 at ``layer`` on ``n_sentences`` XNLI lines per direction, the layer sweep of Figures 1-2 on
the first ``sweep_sentences`` of them, Table 7's samples. The directions are independent (a
direction's lines, outputs, metrics and intervals depend only on its own source and target), so
the pipeline scores each in its own job (:func:`run_translation_direction`) and joins their rows
in table order (:func:`gather_translation`); :func:`run_translation` does all of it in one call
and writes the same bytes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from langrep.artifacts import read_frame
from langrep.errors import LangrepError
from langrep.io import atomic_write
from langrep.means.layer_shift import n_layers
from langrep.models.limits import check_job
from langrep.scores import scores_frame, write_scores
from langrep.settings import TransferSettings, TranslationSettings, direction_langs
from langrep.translation.data import ParallelLines, parallel_lines, read_vocab_sets
from langrep.translation.decoding import direction_outputs
from langrep.translation.metrics import (
    add_intervals,
    bleu1_with_line_stats,
    convert_rate,
    neither_share,
    token_line_counts,
)
from langrep.translation.mlm_head import load_decoders

BOOT = TransferSettings.defaults()  # the intervals' resamples: config transfer.bootstrap, transfer.seed


def _by_source(directions: Sequence[str]) -> dict[str, list[str]]:
    """``["en-de", "en-fr", "de-en"]`` -> ``{"en": ["de", "fr"], "de": ["en"]}`` (order kept)."""
    grouped: dict[str, list[str]] = {}
    for d in directions:
        s, t = direction_langs(d)
        grouped.setdefault(s, []).append(t)
    return grouped


@dataclass
class _Protocol:
    """One way of decoding: a decoder (its head reading the top layer or the decode layer), the
    layers it scores (at or below the layer its head reads) and its table layer."""

    decoder: object
    layer: int  # the table's (Table 1, Table 7) shift layer: translation.layer, at most the head's layer
    layers: list[int]  # the sweep's layers
    scored_layers: list[int]


@dataclass
class _Setup:
    """What every direction of one run shares: the decoders (one per protocol), the alphas, the
    language means and token sets, the BLEU tokenizers."""

    tokenizer: object
    protocols: list[_Protocol]
    alphas: list[float]
    means: dict
    vocab: dict
    tok_for: dict
    default_tok: str


def _check(settings: TranslationSettings) -> None:
    for key, v in (("n_sentences", settings.n_sentences), ("sweep_sentences", settings.sweep_sentences)):
        if v is not None and v < 1:
            raise LangrepError(f"translation.{key} must be >= 1 (or null for every line)")
    if not settings.targets:
        raise LangrepError("translation.targets is empty")


def _protocol(decoder, settings: TranslationSettings, layers: list[int]) -> _Protocol:
    """The protocol of one decoder: the top layer's takes every layer; the decode layer's those
    at or below it, and its table layer is ``translation.layer`` or the decode layer if lower."""
    read = decoder.read_layer
    table = min(settings.layer, read)
    below = [l for l in layers if l <= read]
    return _Protocol(decoder, table, below, sorted(set(below) | {table}))


def _setup(settings: TranslationSettings, langs, *, model, model_dir, head_dir, vocab_path, means_paths) -> _Setup:
    from langrep.means.representations import read_means

    vocab = read_vocab_sets(vocab_path, langs)
    keys = ("layer", "layers", "max_length")
    check_job({f"translation.{k}": getattr(settings, k) for k in keys}, model_dir, model)
    decoders, tokenizer = load_decoders(model_dir, head_dir, device=settings.device)
    top = n_layers(decoders[0].encoder)
    layers = list(range(top + 1)) if settings.layers is None else [int(x) for x in settings.layers]
    for key, ls in (("layer", [settings.layer]), ("layers", layers)):
        if any(not 0 <= l <= top for l in ls):
            raise LangrepError(f"translation.{key}: {ls} out of range 0..{top}")
    means = {lang: read_means(means_paths[lang]).means for lang in langs}
    for lang, m in means.items():
        if m.shape[0] != top + 1:
            raise LangrepError(f"{means_paths[lang]}: {m.shape[0]} layers of means, the model has {top + 1}")
    tok_for = dict(settings.bleu_tokenize)
    default_tok = tok_for.pop("default", "13a")
    return _Setup(
        tokenizer=tokenizer,
        protocols=[_protocol(d, settings, layers) for d in decoders],
        alphas=[float(a) for a in settings.alphas],
        means=means,
        vocab=vocab,
        tok_for=tok_for,
        default_tok=default_tok,
    )


def _pair_rows(
    run: _Setup, proto: _Protocol, n_samples: int, model, s, t, pl: ParallelLines, outs, rows, per_lines, samples
) -> None:
    """The score rows (and their per-line counts) and Table 7 samples of one direction under one protocol."""
    pair, tok, decoder = f"{s}-{t}", run.tokenizer, proto.decoder
    # a fitted head's held-out reconstruction travels with every row (the report states it)
    where = dict(
        head=decoder.kind,
        head_reconstruction=decoder.reconstruction,  # None for a pretrained head
        protocol=decoder.protocol,
        decode_layer=decoder.read_layer,
    )
    for lay in proto.scored_layers:
        for a in run.alphas:
            out = outs[(t, lay, a)]
            hyps = [tok.decode(o, skip_special_tokens=True) for o in out]
            refs = pl.references[t][: len(out)]
            common = dict(
                model=model,
                task="translation",
                lang=pair,
                layer=lay,
                method="mds",
                direction=pair,
                split="test",
                alpha=a,
                head=where["head"],
                n_sentences=len(out),
                head_reconstruction=where["head_reconstruction"],
                protocol=where["protocol"],
                decode_layer=where["decode_layer"],
            )
            bleu, bleu_lines = bleu1_with_line_stats(hyps, refs, run.tok_for.get(t, run.default_tok))
            tokens = token_line_counts(out, run.vocab[s], run.vocab[t])
            for metric, value, per_line in (
                ("bleu1", bleu, bleu_lines),
                ("convert_rate", convert_rate(out, run.vocab[s], run.vocab[t]), tokens),
                ("neither_share", neither_share(out, run.vocab[s], run.vocab[t]), tokens),
            ):
                rows.append({**common, "metric": metric, "value": value})
                per_lines[(pair, lay, a, metric)] = per_line
            if lay == proto.layer:
                for i in range(min(n_samples, len(out))):
                    samples.append(
                        dict(
                            model=model,
                            src=s,
                            tgt=t,
                            id=pl.ids[i],
                            layer=lay,
                            alpha=a,
                            input=pl.texts[i],
                            reference=refs[i],
                            output=hyps[i],
                            head=where["head"],
                            protocol=where["protocol"],
                            decode_layer=where["decode_layer"],
                        )
                    )


def score_directions(
    settings: TranslationSettings | Mapping | None,
    directions: Sequence[str],
    *,
    model: str,
    model_dir,
    head_dir,
    xnli_paths: Mapping[str, str],
    vocab_path,
    means_paths: Mapping[str, str],
    log=print,
    bootstrap: int = BOOT.bootstrap,
    seed: int = BOOT.seed,
) -> tuple[list[dict], list[dict], dict]:
    """Score rows, Table 7 samples and timing info of ``directions`` (``"src-tgt"``; the rows in
    their order). A source's forward pass is shared by its targets; every row carries
    ``n_sentences`` and a 95% interval over its lines (``bootstrap`` resamples drawn from ``seed``;
    :func:`langrep.translation.metrics.add_intervals`), which depend only on the row's direction."""
    settings = TranslationSettings.from_config(settings)
    _check(settings)
    t0, c0 = time.perf_counter(), time.process_time()
    grouped = _by_source(directions)
    langs = list(dict.fromkeys([*grouped, *(t for ts in grouped.values() for t in ts)]))
    run = _setup(
        settings,
        langs,
        model=model,
        model_dir=model_dir,
        head_dir=head_dir,
        vocab_path=vocab_path,
        means_paths=means_paths,
    )
    lines = {
        s: parallel_lines(xnli_paths[s], {t: xnli_paths[t] for t in tgts}, settings.n_sentences)
        for s, tgts in grouped.items()
    }  # every input checked before the long part
    rows, samples = [], []
    for n_dir, (s, tgts) in enumerate(grouped.items(), start=1):
        ts, pl = time.perf_counter(), lines[s]
        n_sweep = len(pl.texts) if settings.sweep_sentences is None else min(settings.sweep_sentences, len(pl.texts))
        for proto in run.protocols:
            what = f"{s}: " if proto.decoder.protocol == "top" else f"{s} (decode layer {proto.decoder.read_layer}): "
            if log:
                others = [l for l in proto.layers if l != proto.layer]
                log(
                    f"{what}source {n_dir}/{len(grouped)} -> {','.join(tgts)}: {len(pl.texts)} lines at layer "
                    f"{proto.layer}, {n_sweep} at layers {others}"
                )
            outs = direction_outputs(
                proto.decoder,
                run.tokenizer,
                pl.texts,
                {t: run.means[t] - run.means[s] for t in tgts},
                layer=proto.layer,
                layers=proto.layers,
                alphas=run.alphas,
                n_sweep=n_sweep,
                max_length=settings.max_length,
                token_budget=settings.token_budget,
                log=log,
                what=what,
            )
            first, per_lines = len(rows), {}
            for t in tgts:
                _pair_rows(run, proto, settings.n_samples, model, s, t, pl, outs, rows, per_lines, samples)
            add_intervals(rows[first:], per_lines, bootstrap, seed)
        if log:
            log(f"source {s} done in {time.perf_counter() - ts:.1f}s ({time.perf_counter() - t0:.0f}s so far)")
    info = {
        "seconds_total": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - c0,
        "n_directions": len(directions),
        "n_layers": len(run.protocols[0].scored_layers),
        "n_alphas": len(run.alphas),
        "head": run.protocols[0].decoder.kind,
        "decode_layers": [p.decoder.read_layer for p in run.protocols],
    }
    return rows, samples, info


def _write_samples(samples: list[dict] | pd.DataFrame, path) -> None:
    with atomic_write(path) as tmp:
        pd.DataFrame(samples).to_csv(tmp, index=False)


def run_translation(
    settings: TranslationSettings | Mapping | None = None,
    *,
    scores_out,
    samples_out,
    log=print,
    **inputs,
) -> dict:
    """The whole experiment in one call: every direction of the settings
    (:meth:`~langrep.settings.TranslationSettings.directions`), the score table written to
    ``scores_out`` and Table 7's samples to ``samples_out``.

    ``settings``: config ``translation:`` (:class:`~langrep.settings.TranslationSettings`, or a
    mapping of its keys; ``head`` is the mlm_head rule's). ``inputs``: the keywords of
    :func:`score_directions` (``model``, ``model_dir``, ``head_dir``, ``xnli_paths``,
    ``vocab_path``, ``means_paths``, ``bootstrap``, ``seed``).
    """
    settings = TranslationSettings.from_config(settings)  # score_directions checks it before any work
    rows, samples, info = score_directions(settings, settings.directions(), log=log, **inputs)
    write_scores(rows, scores_out)
    _write_samples(samples, samples_out)
    if log:
        log(f"translation sweep done: {info}")
    return info


def run_translation_direction(
    settings: TranslationSettings | Mapping | None = None,
    *,
    direction: str,
    rows_out,
    samples_out,
    log=print,
    **inputs,
) -> dict:
    """One direction of the experiment (``"src-tgt"``, one of the settings'
    :meth:`~langrep.settings.TranslationSettings.directions`): its score rows to the Parquet file
    ``rows_out``, its samples to the Parquet file ``samples_out``; :func:`gather_translation`
    joins the directions. ``inputs``: as :func:`run_translation`'s."""
    settings = TranslationSettings.from_config(settings)
    known = settings.directions()
    if direction not in known:
        raise LangrepError(f"translation direction {direction!r} is not in the config's ({', '.join(known)})")
    rows, samples, info = score_directions(settings, [direction], log=log, **inputs)
    for frame, out in ((scores_frame(rows), rows_out), (pd.DataFrame(samples), samples_out)):
        with atomic_write(out) as tmp:
            frame.to_parquet(tmp, index=False)
    if log:
        log(f"translation {direction} done: {info}")
    return info


def gather_translation(rows_paths: Sequence, samples_paths: Sequence, *, scores_out, samples_out) -> pd.DataFrame:
    """The score table and the samples of the whole experiment from the directions' files (in the order of
    :meth:`~langrep.settings.TranslationSettings.directions`): the same bytes as :func:`run_translation` writes."""
    rows = pd.concat([read_frame(p) for p in rows_paths], ignore_index=True)
    samples = pd.concat([read_frame(p) for p in samples_paths], ignore_index=True)
    write_scores(rows, scores_out)
    _write_samples(samples, samples_out)
    return rows
