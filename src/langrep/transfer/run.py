"""File-to-file steps of the transfer stage (paper Sec. 5, Tables 4-5), called by the rule scripts.

* :func:`train_task` fine-tunes one (task, training method) on English UD and writes a checkpoint:
  ``original`` (no shift; also the model MDS is applied to) or Zero-mean at layer l (English states
  minus the pre-trained English mean R_en^l throughout fine-tuning).
* :func:`evaluate_task` scores every method on every target language and on the English dev set:
  Original; Zero-mean (Zero-mean model, target states minus the pre-trained target mean); MDS
  (Original model, target states + alpha (R_en^l - R_tgt^l) with means of the fine-tuned model,
  computed here from the mono corpora).
"""
from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from langrep.errors import LangrepError
from langrep.means import read_means
from langrep.scores import write_scores
from langrep.transfer.data import read_ud
from langrep.transfer.shift import mds_at, resolve_layer, zero_mean_at
from langrep.transfer.train import (TrainSettings, build_task_model, fit, load_checkpoint,
                                    predict, save_checkpoint, score)

log = logging.getLogger("langrep")


def _setup(device, threads):
    import torch

    from langrep.models import resolve_device

    if threads:
        torch.set_num_threads(int(threads))
    return resolve_device(device or "auto")


def train_task(task: str, model_dir, train_path, dev_path, out_path, settings: Mapping, *,
               zero_mean_layer=None, english_means=None, device: str | None = "auto",
               threads: int | None = None, progress: bool = True) -> list[dict]:
    """Fine-tune and write ``out_path``; Zero-mean at ``zero_mean_layer`` if given (then
    ``english_means`` is the pre-trained model's ``means/mono/en.parquet``)."""
    import torch

    from langrep.models import load_encoder

    device = _setup(device, threads)
    s = TrainSettings.from_config(dict(settings), f"transfer.{task}.train")
    encoder, tokenizer = load_encoder(model_dir, device=device, dtype=torch.float32)
    torch.manual_seed(s.seed)  # the head's initialisation
    model = build_task_model(task, encoder, s).to(device)
    train = read_ud(train_path, s.train_sentences, s.seed)
    dev = read_ud(dev_path, s.dev_sentences, s.seed)
    shift, meta = contextlib.nullcontext, {"method": "original", "layer": -1}
    if zero_mean_layer is not None:
        if english_means is None:
            raise LangrepError("Zero-mean training needs the English means of the pre-trained model")
        layer = resolve_layer(zero_mean_layer, model, f"transfer.{task}.layers")
        mean = read_means(english_means).means[layer]
        shift = lambda: zero_mean_at(model, layer, mean)  # noqa: E731
        meta = {"method": "zero_mean", "layer": layer, "means": str(english_means)}
    t0 = time.perf_counter()
    history = fit(task, model, tokenizer, train, dev, s, shift, progress=progress, train_path=train_path)
    meta.update({"train": str(train_path), "dev": str(dev_path), "model_dir": str(model_dir),
                 "seconds": round(time.perf_counter() - t0, 1), "history": json.dumps(history)})
    save_checkpoint(out_path, task, model, s, meta)
    log.info("trained %s/%s in %.1f s -> %s", task, meta["method"], meta["seconds"], out_path)
    return history


def finetuned_means(model, tokenizer, mono_paths: Mapping[str, str], max_sentences: int | None,
                    extraction: Mapping, seed: int = 0, progress: bool = False) -> dict[str, np.ndarray]:
    """R_L^l (every layer) of the fine-tuned encoder on each language's mono corpus."""
    from langrep.extract import extract

    out = {}
    for lang, path in mono_paths.items():
        texts = pd.read_parquet(path, columns=["text"])["text"].astype(str).tolist()
        if not texts:
            raise LangrepError(f"{path}: the mono corpus is empty")
        if max_sentences is not None and len(texts) > int(max_sentences):
            keep = np.sort(np.random.default_rng(seed).choice(len(texts), int(max_sentences), replace=False))
            texts = [texts[i] for i in keep]
        ext = extract(model.encoder_model, tokenizer, texts, pooled_layers=[],
                      token_budget=int(extraction.get("token_budget", 8192)),
                      max_length=int(extraction.get("max_length", 128)),
                      include_special_tokens=bool(extraction.get("include_special_tokens", False)),
                      progress=progress)
        out[lang] = ext.sums.means
        log.info("fine-tuned means %s: %d sentences, %d tokens", lang, len(texts), ext.sums.n_tokens)
    return out


def evaluate_task(task: str, model_key: str, model_dir, original_ckpt, zero_mean_ckpts: Mapping[str, str],
                  dev_path, test_paths: Mapping[str, str], pretrained_means: Mapping[str, str],
                  mono_paths: Mapping[str, str], out_path, *, layers: Sequence, alphas: Sequence[float] = (1.0,),
                  test_sentences: int | None = None, mds_sentences: int | None = None,
                  extraction: Mapping | None = None, seed: int = 13, device: str | None = "auto",
                  threads: int | None = None, progress: bool = True) -> pd.DataFrame:
    """Scores of Original, Zero-mean and MDS at each layer in ``layers`` on every test language
    (split ``test``) and English (split ``dev``). ``zero_mean_ckpts`` maps each entry of ``layers``
    (as written in the config, e.g. ``8`` or ``last``) to its Zero-mean checkpoint;
    ``pretrained_means`` and ``mono_paths`` must cover ``en`` and every test language."""
    device = _setup(device, threads)
    langs = list(test_paths)
    for what, table in (("pre-trained means", pretrained_means), ("mono corpora", mono_paths)):
        missing = [l for l in ["en"] + langs if l not in table]
        if missing:
            raise LangrepError(f"evaluate_task: no {what} for {missing}")
    t0 = time.perf_counter()
    loaded = load_checkpoint(original_ckpt, model_dir, device=device)
    model, tokenizer, ckpt = loaded
    settings = TrainSettings(**ckpt["settings"])
    resolved = {str(tok): resolve_layer(tok, model, f"transfer.{task}.layers") for tok in layers}
    metric_names = ["accuracy"] if task == "pos" else ["uas", "las"]
    data = {lang: read_ud(path, test_sentences, seed) for lang, path in test_paths.items()}
    dev = read_ud(dev_path, settings.dev_sentences, settings.seed)
    rows: list[dict] = []

    def add(lang, layer, method, split, scores, n_sent, alpha=math.nan):
        for m in metric_names:
            rows.append({"model": model_key, "task": task, "lang": lang, "layer": layer, "method": method,
                         "direction": f"en-{lang}", "split": split, "metric": m, "value": scores[m],
                         "alpha": alpha, "n_sentences": n_sent})

    def run(sentences, shift, desc):
        return score(task, predict(task, model, tokenizer, sentences, settings, shift, progress, desc), sentences)

    # Original, and MDS on the same model with the fine-tuned model's means.
    ft = finetuned_means(model, tokenizer, {l: mono_paths[l] for l in ["en"] + langs}, mds_sentences,
                         extraction or {}, seed, progress)
    dev_scores = run(dev, contextlib.nullcontext, "en dev original")
    for layer in resolved.values():
        add("en", layer, "original", "dev", dev_scores, len(dev))
    for lang, sents in data.items():
        orig = run(sents, contextlib.nullcontext, f"{lang} original")
        for layer in resolved.values():
            add(lang, layer, "original", "test", orig, len(sents))
            for alpha in alphas:
                shift = lambda: mds_at(model, layer, ft[lang][layer], ft["en"][layer], float(alpha))  # noqa: E731
                add(lang, layer, "mds", "test", run(sents, shift, f"{lang} mds l{layer} a{alpha}"), len(sents), float(alpha))
        log.info("%s: original %s", lang, {k: round(v, 2) for k, v in orig.items()})
    log.info("original and MDS done in %.1f s", time.perf_counter() - t0)

    # Zero-mean: each layer's own checkpoint; target states minus pre-trained target means.
    pre = {lang: read_means(pretrained_means[lang]).means for lang in ["en"] + langs}
    for tok, layer in resolved.items():
        if tok not in zero_mean_ckpts:
            raise LangrepError(f"evaluate_task: no Zero-mean checkpoint for layer {tok}")
        loaded = load_checkpoint(zero_mean_ckpts[tok], model_dir, device=device, reuse=loaded)
        model, tokenizer, zm = loaded
        if zm["meta"].get("layer") != layer:
            raise LangrepError(f"{zero_mean_ckpts[tok]}: trained with Zero-mean at layer "
                               f"{zm['meta'].get('layer')}, expected {layer}")
        settings = TrainSettings(**zm["settings"])
        shift = lambda: zero_mean_at(model, layer, pre["en"][layer])  # noqa: E731
        add("en", layer, "zero_mean", "dev", run(dev, shift, f"en dev zero_mean l{layer}"), len(dev))
        for lang, sents in data.items():
            shift = lambda: zero_mean_at(model, layer, pre[lang][layer])  # noqa: E731
            add(lang, layer, "zero_mean", "test", run(sents, shift, f"{lang} zero_mean l{layer}"), len(sents))
    df = write_scores(rows, out_path)
    log.info("%s: %d score rows in %.1f s -> %s", task, len(df), time.perf_counter() - t0, out_path)
    return df
