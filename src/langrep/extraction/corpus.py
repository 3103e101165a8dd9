"""File-to-file steps of the extraction stage, called by the rule scripts (and usable directly)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from langrep.artifacts import read_frame
from langrep.errors import LangrepError
from langrep.io import sha256_file
from langrep.means.representations import language_means, read_sums, write_means, write_sums
from langrep.models.limits import check_job
from langrep.settings import ExtractionSettings

log = logging.getLogger("langrep")


def extract_corpus(
    corpus_path,
    model_dir,
    embeddings_path,
    sums_path,
    settings: ExtractionSettings | Mapping | None = None,
    threads: int | None = None,
    means_path=None,
) -> None:
    """Pooled embeddings (of ``settings.pooled_layers``) and per-layer sums of one (model, corpus,
    language) text set, and its language means where ``means_path`` is given; ``settings``: config
    ``extraction:`` (or a part of it)."""
    side = {"corpus_path": corpus_path, "embeddings_path": embeddings_path, "sums_path": sums_path}
    extract_parallel_corpus(
        [{**side, "means_path": means_path} if means_path else side],
        model_dir,
        settings,
        threads,
    )


def extract_parallel_corpus(
    sides: Sequence[dict], model_dir, settings: ExtractionSettings | Mapping | None = None, threads: int | None = None
) -> None:
    """:func:`extract_corpus` for every side of a parallel corpus (Tatoeba, BUCC) with one model load.

    ``sides``: dicts with ``corpus_path``, ``embeddings_path``, ``sums_path`` and optionally
    ``means_path`` (the language means, from the sums just written: the extraction job writes them,
    so no job of its own starts for a second of work). Each file is written atomically; a run killed
    between two sides leaves the first side's files, which Snakemake treats as incomplete and
    rebuilds with the rest.
    """
    import torch

    from langrep.extraction.hidden_states import extract_to_parquet
    from langrep.models import load_encoder

    settings = ExtractionSettings.from_config(settings)
    if threads:
        torch.set_num_threads(int(threads))
    corpora = [read_frame(side["corpus_path"], columns=["id", "text"]) for side in sides]
    for side, corpus in zip(sides, corpora):  # before the (slow) model load
        if corpus.empty:
            raise LangrepError(f"{side['corpus_path']}: the corpus has no sentences")
    # a model the workflow could not check when it read the config (a hub id it does not know)
    check_job(
        {"extraction.pooled_layers": settings.pooled_layers, "extraction.max_length": settings.max_length},
        model_dir,
        Path(model_dir).name,
    )
    model, tokenizer = load_encoder(model_dir, device=settings.device, dtype=settings.dtype)
    for side, corpus in zip(sides, corpora):
        meta = {"model_dir": str(model_dir), "corpus": str(side["corpus_path"])}
        t0 = time.perf_counter()
        sums = extract_to_parquet(
            model,
            tokenizer,
            corpus["id"].astype(str).tolist(),
            corpus["text"].tolist(),
            side["embeddings_path"],
            pooled_layers=settings.pooled_layers,
            token_budget=settings.token_budget,
            max_length=settings.max_length,
            include_special_tokens=settings.include_special_tokens,
            progress=True,
            metadata=meta,
        )
        elapsed = time.perf_counter() - t0
        log.info(
            "%s: %d sentences, %d tokens in %.1f s (%.0f tokens/s, %s)",
            side["corpus_path"],
            len(corpus),
            sums.n_tokens,
            elapsed,
            sums.n_tokens / max(elapsed, 1e-9),
            next(model.parameters()).dtype,
        )
        write_sums(sums, side["sums_path"], meta)
        if side.get("means_path"):
            # read back from the file, as a separate job would: the same bytes either way
            means_from_sums([side["sums_path"]], side["corpus_path"], model_dir, side["means_path"])


def rule_extraction(params) -> ExtractionSettings:
    """The ``extraction`` param of an extraction rule with the corpus's ``pooled_layers`` param
    (the layers its pooled vectors are written for) in place of the config's."""
    return ExtractionSettings.from_config({**params.extraction, "pooled_layers": params.pooled_layers})


def means_from_sums(sums_paths: Sequence, corpus_path, model_dir, out_path) -> None:
    """R_L^l for every layer from one or more shards of sums, with provenance in the metadata."""
    from langrep.models import source_record

    parts = [read_sums(p) for p in sums_paths]
    record = source_record(model_dir)
    meta = {
        "model": str(record.get("source", Path(model_dir).name)),
        "model_revision": str(record.get("resolved_commit") or record.get("revision") or ""),
        "corpus": str(corpus_path),
        "corpus_sha256": sha256_file(corpus_path),
    }
    means = language_means(parts, meta)
    log.info("%s: %d tokens, %d layers", out_path, means.n_tokens, means.means.shape[0])
    write_means(means, out_path)
