"""Fine-tuning and prediction of the POS tagger and the biaffine parser.

Training is seeded (data subset, batch order, head initialization, dropout). The heads read
hidden state ``read_layer``; with ``train_top_layers`` = T only layers read_layer-T+1..read_layer
train, and the frozen bottom's output is computed once per sentence and cached
(:mod:`langrep.transfer.stack`), which is what makes the default CPU configuration affordable;
``null`` fine-tunes every layer, as the paper does. The English dev set selects the best of the
periodic evaluations. A shift (Zero-mean, MDS) acts at its layer in every forward pass, cached or
not.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from langrep.batching import length_sorted_batches, pad_tensors, pad_token_id, shuffled_batches
from langrep.errors import LangrepError
from langrep.means.layer_shift import LayerShift, resolve_layer
from langrep.models import attention_for_varied_shapes, inference
from langrep.settings import TrainSettings
from langrep.transfer.alignment import EncodedSentence, collate, encode_words
from langrep.transfer.data import DEPRELS, UPOS, Sentence, label_ids, universal
from langrep.transfer.metrics import score
from langrep.transfer.parser import BiaffineParser
from langrep.transfer.pos import Tagger
from langrep.transfer.stack import PrefixCache, split_shift

log = logging.getLogger("langrep")
TASKS = ("pos", "parsing")
SELECTION_METRIC = {"pos": "accuracy", "parsing": "las"}


def build_task_model(task: str, encoder, settings: TrainSettings, key: str = "transfer.train.read_layer"):
    """The tagger or parser on ``encoder``, reading ``settings.read_layer``; the layers below the
    top ``train_top_layers`` (counted down from the read layer) form the frozen bottom."""
    k = resolve_layer(settings.read_layer, encoder, key)
    frozen = None if settings.train_top_layers is None else max(k - int(settings.train_top_layers), 0)
    if task == "pos":
        return Tagger(encoder, len(UPOS), settings.dropout, read_layer=k, frozen_layers=frozen)
    if task == "parsing":
        return BiaffineParser(
            encoder,
            len(DEPRELS),
            settings.arc_dim,
            settings.rel_dim,
            settings.dropout,
            read_layer=k,
            frozen_layers=frozen,
        )
    raise LangrepError(f"unknown transfer task {task!r}; expected one of {TASKS}")


def trainable_state(model) -> dict[str, torch.Tensor]:
    """A CPU copy of the model's trainable parameters (what a checkpoint keeps)."""
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items() if k in names}


# ----------------------------------------------------------------------------------------------
# Data


@dataclass
class Corpus:
    """Sentences, their encoding and (for training) label ids, with the cache of the frozen bottom."""

    sentences: Sequence[Sentence]
    encoded: list[EncodedSentence]
    labels: list[tuple[int, ...]]
    heads: list[tuple[int, ...]]
    cache: PrefixCache | None = None


def max_pieces(model, tokenizer, settings: TrainSettings) -> int:
    """``max_length``, or less where the model has fewer positions (a longer sentence is cut)."""
    limits = [
        int(settings.max_length),
        getattr(model.encoder_model.config, "max_position_embeddings", None),
        getattr(tokenizer, "model_max_length", None),
    ]
    return min(int(x) for x in limits if x is not None)


def make_corpus(
    task: str,
    model,
    tokenizer,
    sentences: Sequence[Sentence],
    settings: TrainSettings,
    with_labels: bool = False,
    path="",
) -> Corpus:
    """Sentences encoded for a task model (labels when ``with_labels``), with the frozen bottom's cache."""
    limit = max_pieces(model, tokenizer, settings)
    if limit < settings.max_length:
        log.info(
            "max_length %d is more than the model's %d positions: sentences are cut at %d pieces",
            settings.max_length,
            limit,
            limit,
        )
    encoded = encode_words(tokenizer, [s.words for s in sentences], limit)
    labels, heads = [], []
    if with_labels:
        for s in sentences:
            if task == "pos":
                labels.append(tuple(label_ids(s.upos, UPOS, path, s.id)))
            else:
                labels.append(tuple(label_ids(s.deprels, DEPRELS, path, s.id, universal)))
                heads.append(s.heads)
    cache = None
    if model.frozen_layers is not None:
        cache = PrefixCache(model, encoded, pad_token_id(tokenizer), settings.eval_tokens)
    return Corpus(sentences, encoded, labels, heads, cache)


def _label_tensor(values: Sequence[Sequence[int]], n_words: int) -> torch.Tensor:
    """(B, n_words) int64 labels, 0 where a sentence has no word (masked out of the loss)."""
    return pad_tensors(values, pad_id=0, width=n_words)[0]


class Forward:
    """Forward passes of a task model over batches of one corpus under one shift (or none),
    through the cache of the frozen bottom when the model has one."""

    def __init__(self, model, corpus: Corpus, shift: LayerShift | None, pad_id: int, pooling: str):
        self.model, self.corpus, self.pad_id, self.pooling = model, corpus, pad_id, pooling
        self.states, self.added, hooked = None, None, shift
        if corpus.cache is not None:
            below, self.added, hooked = split_shift(shift, model.frozen_layers)
            self.states = corpus.cache.states(below)
        self.hooked, self.hook = hooked, None

    def __enter__(self):  # the hook is registered for the block, each time it is entered
        if self.hooked is not None:
            self.hook = self.hooked.apply(self.model)
            self.hook.__enter__()
        return self

    def __exit__(self, *exc):
        if self.hook is not None:
            self.hook.__exit__(*exc)
            self.hook = None

    def __call__(self, idx):
        """``(outputs, word_mask, (ids, attn, pool))`` of the sentences ``idx``."""
        device = next(self.model.parameters()).device
        ids, attn, pool, mask = (
            t.to(device) for t in collate([self.corpus.encoded[i] for i in idx], self.pad_id, self.pooling)
        )
        prefix = None
        if self.states is not None:
            prefix = self.corpus.cache.batch(self.states, idx, ids.size(1), self.added)
        return self.model(ids, attn, pool, prefix), mask


def _loss(task: str, model, outputs, corpus: Corpus, idx, mask):
    labels = _label_tensor([corpus.labels[i] for i in idx], mask.size(1)).to(mask.device)
    if task == "pos":
        return model.loss(outputs, labels, mask)
    heads = _label_tensor([corpus.heads[i] for i in idx], mask.size(1)).to(mask.device)
    return model.loss(outputs, heads, labels, mask)


# ----------------------------------------------------------------------------------------------
# Prediction and scoring


def predict(
    task: str,
    model,
    tokenizer,
    sentences: Sequence[Sentence] | Corpus,
    settings: TrainSettings,
    shift: LayerShift | None = None,
    progress: bool = False,
    desc: str = "predict",
):
    """POS: per-sentence UPOS lists; parsing: (heads, relations). ``None`` for truncated words.
    ``sentences`` may be a :class:`Corpus` (its cache is then reused across calls)."""
    corpus = sentences if isinstance(sentences, Corpus) else make_corpus(task, model, tokenizer, sentences, settings)
    sentences, encoded = corpus.sentences, corpus.encoded
    out_a: list = [None] * len(sentences)
    out_b: list = [None] * len(sentences)
    batches = length_sorted_batches([len(e.input_ids) for e in encoded], settings.eval_tokens)
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc=desc, unit="batch", mininterval=2.0)
    was_training = model.training
    model.eval()
    with inference(), Forward(model, corpus, shift, pad_token_id(tokenizer), settings.word_pooling) as fwd:
        for idx in batches:
            outputs, mask = fwd(idx)
            if task == "pos":
                tags = model.decode(outputs, mask).cpu().tolist()
                for row, i in enumerate(idx):
                    out_a[i] = [UPOS[t] if t >= 0 else None for t in tags[row][: len(sentences[i])]]
            else:
                heads, rels = (x.cpu().tolist() for x in model.decode(outputs, mask))
                for row, i in enumerate(idx):
                    n = len(sentences[i])
                    out_a[i] = [h if h >= 0 else None for h in heads[row][:n]]
                    out_b[i] = [DEPRELS[r] if r >= 0 else None for r in rels[row][:n]]
    model.train(was_training)
    n_cut = sum(len(s) - e.n_kept for s, e in zip(sentences, encoded))
    if n_cut:
        log.info(
            "%s: %d of %d words cut off by max_length=%d count as errors",
            desc,
            n_cut,
            sum(len(s) for s in sentences),
            max_pieces(model, tokenizer, settings),
        )
    return out_a if task == "pos" else (out_a, out_b)


# ----------------------------------------------------------------------------------------------
# Training


def _param_groups(model, settings: TrainSettings) -> list[dict]:
    """AdamW's groups: the task head at ``head_lr``, the trainable encoder layers at ``lr``."""
    head = [p for n, p in model.named_parameters() if not n.startswith("encoder_model.")]
    enc = [p for n, p in model.named_parameters() if n.startswith("encoder_model.") and p.requires_grad]
    groups = [{"params": head, "lr": settings.head_lr}]
    if enc:
        groups.append({"params": enc, "lr": settings.lr})
    return groups


def _total_steps(per_epoch: int, settings: TrainSettings) -> int:
    """``epochs`` of ``per_epoch`` steps, at most ``max_steps``, at least one."""
    total = max(1, math.ceil(settings.epochs * per_epoch))
    return total if settings.max_steps is None else min(total, int(settings.max_steps))


def _progress_bar(total: int, task: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"train {task}", unit="step", mininterval=2.0)


def fit(
    task: str,
    model,
    tokenizer,
    train: Sequence[Sentence],
    dev: Sequence[Sentence],
    settings: TrainSettings,
    shift: LayerShift | None = None,
    progress: bool = False,
    train_path="",
) -> list[dict]:
    """Fine-tune ``model`` in place (its trainable parameters: see
    :func:`langrep.transfer.stack.freeze_bottom`); keep the parameters of the best dev evaluation.
    Returns the history (step, loss, dev score). ``shift`` acts in every forward pass, training and
    dev (Zero-mean training)."""
    from transformers import get_linear_schedule_with_warmup

    if not train:
        raise LangrepError("no training sentences")
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    pad_id = pad_token_id(tokenizer)
    t0 = time.perf_counter()
    corpus = make_corpus(task, model, tokenizer, train, settings, with_labels=True, path=train_path)
    dev_corpus = make_corpus(task, model, tokenizer, dev, settings) if dev else None
    groups = _param_groups(model, settings)
    opt = torch.optim.AdamW(groups, weight_decay=settings.weight_decay)
    lengths = [len(e.input_ids) for e in corpus.encoded]
    per_epoch = math.ceil(len(lengths) / settings.batch_size)
    total = _total_steps(per_epoch, settings)
    sched = get_linear_schedule_with_warmup(opt, int(settings.warmup_ratio * total), total)
    eval_every = int(settings.eval_every or per_epoch)
    metric = SELECTION_METRIC[task]
    fwd = Forward(model, corpus, shift, pad_id, settings.word_pooling)  # computes the train cache
    log.info(
        "%s: %d sentences, %d steps of batch %d, %d trainable parameters (read layer %d, frozen "
        "bottom %s; cache %.1f s)",
        *(task, len(lengths), total, settings.batch_size, sum(p.numel() for g in groups for p in g["params"])),
        *(model.read_layer, model.frozen_layers, time.perf_counter() - t0),
    )
    bar = _progress_bar(total, task) if progress else None
    history, best, best_state, step, running = [], -math.inf, None, 0, []
    t0 = time.perf_counter()
    model.train()
    while step < total:
        for idx in shuffled_batches(lengths, settings.batch_size, rng):
            with fwd, attention_for_varied_shapes():
                outputs, mask = fwd(idx)
                loss = _loss(task, model, outputs, corpus, idx, mask)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for g in groups for p in g["params"]], settings.grad_clip)
            opt.step()
            sched.step()
            step += 1
            running.append(float(loss.detach()))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{running[-1]:.3f}")
            if step % eval_every == 0 or step == total:
                entry = {"step": step, "loss": float(np.mean(running)), "seconds": time.perf_counter() - t0}
                running = []
                if dev_corpus is not None:
                    dev_scores = score(task, predict(task, model, tokenizer, dev_corpus, settings, shift), dev)
                    entry.update({f"dev_{k}": v for k, v in dev_scores.items()})
                    model.train()
                    if entry[f"dev_{metric}"] > best:
                        best, best_state = entry[f"dev_{metric}"], trainable_state(model)
                log.info("step %d: %s", step, {k: round(v, 4) for k, v in entry.items() if k != "step"})
                history.append(entry)
            if step >= total:
                break
    if bar is not None:
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state, strict=False)
        log.info("kept the best dev %s: %.2f", metric, best)
    model.eval()
    return history
