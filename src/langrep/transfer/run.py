"""File-to-file steps of the transfer stage (paper Sec. 5, Tables 4-5), called by the rule scripts.

* :func:`train_task` fine-tunes one (task, training method) on English UD and writes a checkpoint:
  ``original`` (no shift; also the model MDS is applied to) or Zero-mean at layer l (English states
  minus the pre-trained English mean R_en^l in every forward pass of fine-tuning).
* :func:`evaluate_task` scores every method on every target language (test) and on English (dev):
  Original; Zero-mean (the Zero-mean model, target states minus the pre-trained target mean);
  MDS (the Original model, target states + alpha (R_en^l - R_tgt^l) with the fine-tuned model's
  means), beside the trivial baselines, each with a bootstrap interval, and each method's paired
  bootstrap difference from Original.

Both kinds of means come from the same text: the pre-trained means are
``results/{model}/means/mono/{lang}.parquet``, computed on the whole mono corpus, and the
fine-tuned means are computed here on the same corpus with the same tokenization (the token counts
are checked to agree). At a layer inside the frozen bottom the fine-tuned model's means *are* the
pre-trained ones (those layers did not change), so they are read from the same files.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from langrep.artifacts import read_frame
from langrep.errors import LangrepError
from langrep.means.layer_shift import LayerShift, layer_span, resolve_layer
from langrep.means.representations import read_means
from langrep.scores import write_scores
from langrep.settings import ExtractionSettings, TransferSettings
from langrep.transfer.baselines import BASELINES, baseline_predictions, majority_tag
from langrep.transfer.bootstrap import paired_difference, score_interval
from langrep.transfer.checkpoint import load_checkpoint, load_task_model, save_checkpoint
from langrep.transfer.data import read_ud
from langrep.transfer.metrics import task_correct, word_counts
from langrep.transfer.train import TrainSettings, fit, make_corpus, predict

log = logging.getLogger("langrep")
# the keyword defaults below: config transfer's
DEFAULT = TransferSettings.defaults()


class _Clock:
    """Wall and CPU seconds since a job started (CPU time is what a busy machine does not inflate)."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def __str__(self):
        return f"job so far: {time.perf_counter() - self.wall:.1f} s wall, {time.process_time() - self.cpu:.1f} s CPU"


def _setup(device, threads):
    import torch

    from langrep.models import resolve_device

    if threads:
        torch.set_num_threads(int(threads))
    return resolve_device(device or DEFAULT.device, "transfer.device")


def shift_layer(layer, model, key: str) -> int:
    """A shift layer of the config (an integer or ``last`` = the layer the head reads), checked:
    a shift above the read layer would change nothing the head sees."""
    value = model.read_layer if layer == "last" else resolve_layer(layer, model, key)
    if value > model.read_layer:
        raise LangrepError(
            f"{key}: layer {value} is above the layer the head reads ({model.read_layer}, "
            "transfer.train.read_layer): a shift there changes nothing"
        )
    return value


def train_task(
    task: str,
    model_dir,
    train_path,
    dev_path,
    out_path,
    settings: TrainSettings | Mapping,
    *,
    zero_mean_layer=None,
    english_means=None,
    device: str | None = DEFAULT.device,
    dtype=DEFAULT.dtype,
    threads: int | None = None,
    progress: bool = True,
) -> list[dict]:
    """Fine-tune and write ``out_path``; Zero-mean at ``zero_mean_layer`` if given (then
    ``english_means`` is the pre-trained model's ``means/mono/en.parquet``). ``settings``: the
    task's fine-tuning settings (:class:`TrainSettings`, or a mapping of its keys)."""
    import torch

    clock = _Clock()
    device = _setup(device, threads)
    s = TrainSettings.from_config(settings, f"transfer.{task}.train")
    if zero_mean_layer is not None and english_means is None:
        raise LangrepError("Zero-mean training needs the English means of the pre-trained model")
    train = read_ud(train_path, s.train_sentences, s.seed)
    dev = read_ud(dev_path, s.dev_sentences, s.seed)
    torch.manual_seed(s.seed)  # the head's initialization
    model, tokenizer = load_task_model(task, model_dir, s, device, dtype, f"transfer.{task}.train.read_layer")
    shift, meta = None, {"method": "original", "layer": -1}
    if zero_mean_layer is not None:
        layer = shift_layer(zero_mean_layer, model, f"transfer.{task}.layers")
        shift = LayerShift.zero_mean(layer, read_means(english_means).means[layer])
        meta = {"method": "zero_mean", "layer": layer, "means": str(english_means)}
    t0 = time.perf_counter()
    history = fit(task, model, tokenizer, train, dev, s, shift, progress=progress, train_path=train_path)
    meta.update(
        {
            "train": str(train_path),
            "dev": str(dev_path),
            "model_dir": str(model_dir),
            "seconds": round(time.perf_counter() - t0, 1),
            "history": json.dumps(history),
        }
    )
    save_checkpoint(out_path, task, model, s, meta)
    log.info("trained %s/%s in %.1f s -> %s (%s)", task, meta["method"], meta["seconds"], out_path, clock)
    return history


def finetuned_means(
    model,
    tokenizer,
    mono_paths: Mapping[str, str],
    layers: Sequence[int],
    extraction: ExtractionSettings | Mapping | None = None,
    progress: bool = False,
) -> dict[str, tuple[dict[int, np.ndarray], int]]:
    """``{lang: ({layer: R_L^layer}, n_tokens)}`` of the task model's encoder (fine-tuned) on each
    language's whole mono corpus, tokenized and counted as the extraction stage does (``extraction``:
    config ``extraction:``)."""
    import torch

    from langrep.batching import tokenize_ids
    from langrep.extraction.hidden_states import check_texts, iter_batches

    extraction = ExtractionSettings.from_config(extraction)
    top = max(layers)
    out = {}
    for lang, path in mono_paths.items():
        texts = check_texts(read_frame(path, columns=["text"])["text"].tolist())
        if not texts:
            raise LangrepError(f"{path}: the mono corpus is empty")
        ids = tokenize_ids(tokenizer, texts, extraction.max_length)
        sums = {layer: torch.zeros(model.encoder_model.config.hidden_size, dtype=torch.float64) for layer in layers}
        n = 0
        # as the task model runs: its frozen bottom in its dtype, the layers above under its autocast
        autocast = torch.autocast(
            model.encoder_model.device.type,
            dtype=model.autocast_dtype or torch.bfloat16,
            enabled=model.autocast_dtype is not None,
        )
        with autocast, layer_span(model.encoder_model, 0, top):
            for _, hidden, mask in iter_batches(
                model.encoder_model,
                tokenizer,
                ids,
                extraction.token_budget,
                extraction.include_special_tokens,
                progress,
            ):
                n += int(mask.sum())
                for layer in layers:
                    sums[layer] += hidden[layer][mask].double().sum(0).cpu()
        out[lang] = ({layer: (v / max(n, 1)).numpy() for layer, v in sums.items()}, n)
        log.info("fine-tuned means %s: %d sentences, %d tokens", lang, len(texts), n)
    return out


class _Scorer:
    """The score rows of one :func:`evaluate_task` call: the test sets, the model in use (Original,
    then each Zero-mean checkpoint), encodings cached per model object (a reused model object
    keeps its frozen bottom's cache), and the Original counts the paired differences are taken
    against."""

    def __init__(self, task, model_key, data, context, bootstrap, seed, progress):
        self.task, self.model_key, self.data, self.context = task, model_key, data, context
        self.split = {lang: "dev" if lang == "en" else "test" for lang in data}
        self.bootstrap, self.seed, self.progress = bootstrap, seed, progress
        self.corpora, self.rows, self.original = {}, [], {}
        self.model = self.tokenizer = self.settings = None

    def use(self, model, tokenizer, settings) -> None:
        """Score with this model from now on."""
        self.model, self.tokenizer, self.settings = model, tokenizer, settings

    def corpus(self, lang):
        key = (id(self.model), lang)
        if key not in self.corpora:
            self.corpora[key] = make_corpus(self.task, self.model, self.tokenizer, self.data[lang], self.settings)
        return self.corpora[key]

    def run(self, lang, shift, desc):
        """Per-word correct counts of the model in use on ``lang``, with ``shift`` (or none)."""
        pred = predict(
            self.task, self.model, self.tokenizer, self.corpus(lang), self.settings, shift, self.progress, desc
        )
        return task_correct(self.task, pred, self.data[lang])

    def add(self, lang, method, counts, layer=math.nan, alpha=math.nan, **extra) -> None:
        """One row per metric of ``counts``, with its interval (and, for Zero-mean and MDS, the
        paired difference against Original's counts)."""
        words = word_counts([s.heads for s in self.data[lang]])
        for m, correct in counts.items():
            low, high = score_interval(correct, words, self.bootstrap, self.seed)
            row = {
                "model": self.model_key,
                "task": self.task,
                "lang": lang,
                "layer": layer,
                "method": method,
                "direction": f"en-{lang}",
                "split": self.split[lang],
                "metric": m,
                "value": 100.0 * correct.sum() / words.sum(),
                "ci_low": low,
                "ci_high": high,
                "delta": math.nan,
                "delta_low": math.nan,
                "delta_high": math.nan,
                "alpha": alpha,
                "n_sentences": len(self.data[lang]),
                "n_words": int(words.sum()),
                **self.context,
                **extra,
            }
            if method in ("zero_mean", "mds"):
                row["delta"], row["delta_low"], row["delta_high"] = paired_difference(
                    correct, self.original[lang][m], words, self.bootstrap, self.seed
                )
            self.rows.append(row)


def _check_inputs(pretrained_means, mono_paths, langs, layers, zero_mean_ckpts) -> None:
    for what, table in (("pre-trained means", pretrained_means), ("mono corpora", mono_paths)):
        missing = [l for l in ["en"] + langs if l not in table]
        if missing:
            raise LangrepError(f"evaluate_task: no {what} for {missing}")
    missing = [str(t) for t in layers if str(t) not in zero_mean_ckpts]
    if missing:
        raise LangrepError(f"evaluate_task: no Zero-mean checkpoint for layer(s) {missing}")


def _checked_finetuned_means(model, tokenizer, mono_paths, pretrained_means, pre, above, extraction, progress):
    """The fine-tuned model's means at the layers ``above`` its frozen bottom, from the same mono
    text as the pre-trained means (checked by token count)."""
    if not above:
        return {}
    ft = finetuned_means(model, tokenizer, mono_paths, above, extraction, progress)
    for lang, (_, n) in ft.items():
        if n != pre[lang].n_tokens:
            raise LangrepError(
                f"fine-tuned means of {lang}: {n} tokens of {mono_paths[lang]}, but the "
                f"pre-trained means {pretrained_means[lang]} have {pre[lang].n_tokens}: not the same text"
            )
    return ft


def _score_original_and_mds(sc: _Scorer, resolved, alphas, pre, ft, above) -> None:
    """Original at every layer's row, and MDS (fine-tuned means above the frozen bottom)."""

    def mds_means(lang, layer):
        if layer in above:
            return ft[lang][0][layer], "finetuned"
        return pre[lang].means[layer], "pretrained=finetuned (frozen layer)"

    for lang in sc.data:
        sc.original[lang] = sc.run(lang, None, f"{lang} original")
        for layer in resolved.values():
            sc.add(lang, "original", sc.original[lang], layer)
            if lang == "en":
                continue  # MDS from English to English is no shift
            for alpha in alphas:
                (r_lang, means), (r_en, _) = mds_means(lang, layer), mds_means("en", layer)
                shift = LayerShift.mds(layer, r_lang, r_en, float(alpha))
                counts = sc.run(lang, shift, f"{lang} mds l{layer} a{alpha}")
                sc.add(lang, "mds", counts, layer, float(alpha), shift_means=means)
        n_words = max(1, sum(len(s) for s in sc.data[lang]))
        log.info("%s: original %s", lang, {m: round(100 * c.sum() / n_words, 2) for m, c in sc.original[lang].items()})


def evaluate_task(
    task: str,
    model_key: str,
    model_dir,
    original_ckpt,
    zero_mean_ckpts: Mapping[str, str],
    train_path,
    dev_path,
    test_paths: Mapping[str, str],
    pretrained_means: Mapping[str, str],
    mono_paths: Mapping[str, str],
    out_path,
    *,
    layers: Sequence,
    alphas: Sequence[float] = tuple(DEFAULT.alphas),
    test_sentences: int | None = DEFAULT.test_sentences,
    extraction: ExtractionSettings | Mapping | None = None,
    seed: int = DEFAULT.seed,
    bootstrap: int = DEFAULT.bootstrap,
    device: str | None = DEFAULT.device,
    dtype=DEFAULT.dtype,
    threads: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Scores of Original, Zero-mean and MDS at each layer in ``layers`` and of the baselines on
    every test language (split ``test``) and English (split ``dev``). ``zero_mean_ckpts`` maps each
    entry of ``layers`` (as written in the config, e.g. ``8`` or ``last``) to its Zero-mean
    checkpoint; ``pretrained_means`` and ``mono_paths`` must cover ``en`` and every test language;
    ``train_path`` is the English training treebank (the majority tag)."""
    clock = _Clock()
    device = _setup(device, threads)
    langs = list(test_paths)
    _check_inputs(pretrained_means, mono_paths, langs, layers, zero_mean_ckpts)
    t0 = time.perf_counter()
    pre = {lang: read_means(pretrained_means[lang]) for lang in ["en"] + langs}
    data = {lang: read_ud(path, test_sentences, seed) for lang, path in test_paths.items()}
    loaded = load_checkpoint(original_ckpt, model_dir, device=device, dtype=dtype)
    model, tokenizer, ckpt = loaded
    settings = TrainSettings(**ckpt["settings"])
    data = {"en": read_ud(dev_path, settings.dev_sentences, settings.seed), **data}
    resolved = {str(t): shift_layer(t, model, f"transfer.{task}.layers") for t in layers}
    frozen = model.frozen_layers
    context = {
        "read_layer": model.read_layer,
        "frozen_layers": -1 if frozen is None else frozen,
        "word_pooling": settings.word_pooling,
        "n_boot": int(bootstrap),
    }
    sc = _Scorer(task, model_key, data, context, bootstrap, seed, progress)
    sc.use(model, tokenizer, settings)
    # Baselines: the English majority tag; attachment to the next / previous word.
    majority = majority_tag(read_ud(train_path)) if task == "pos" else None
    for lang in data:
        for name in BASELINES[task]:
            counts = task_correct(task, baseline_predictions(name, data[lang], majority), data[lang])
            sc.add(lang, name, {m: c for m, c in counts.items() if m != "las"}, baseline=majority or "")
    # Original, and MDS on the same model with the fine-tuned model's means.
    above = sorted({l for l in resolved.values() if frozen is None or l > frozen})
    mono = {l: mono_paths[l] for l in ["en"] + langs}
    ft = _checked_finetuned_means(model, tokenizer, mono, pretrained_means, pre, above, extraction, progress)
    _score_original_and_mds(sc, resolved, alphas, pre, ft, above)
    log.info("baselines, original and MDS done in %.1f s", time.perf_counter() - t0)
    # Zero-mean: each layer's own checkpoint; target states minus the pre-trained target means.
    for tok, layer in resolved.items():
        loaded = load_checkpoint(zero_mean_ckpts[tok], model_dir, device=device, reuse=loaded, dtype=dtype)
        model, tokenizer, zm = loaded
        if zm["meta"].get("layer") != layer:
            raise LangrepError(
                f"{zero_mean_ckpts[tok]}: trained with Zero-mean at layer {zm['meta'].get('layer')}, expected {layer}"
            )
        sc.use(model, tokenizer, TrainSettings(**zm["settings"]))
        for lang in data:
            shift = LayerShift.zero_mean(layer, pre[lang].means[layer])
            sc.add(
                lang, "zero_mean", sc.run(lang, shift, f"{lang} zero_mean l{layer}"), layer, shift_means="pretrained"
            )
    df = write_scores(sc.rows, out_path)
    log.info("%s: %d score rows in %.1f s -> %s (%s)", task, len(df), time.perf_counter() - t0, out_path, clock)
    return df
