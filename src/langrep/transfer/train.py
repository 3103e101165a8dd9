"""Fine-tuning, prediction and checkpoints of the POS tagger and the biaffine parser.

Training is seeded (data subset, batch order, head initialisation, dropout). The encoder may be
partly frozen (``train_top_layers``: only the top N transformer layers train; ``null`` = all, as in
the paper's full fine-tuning), which is what makes the default CPU configuration affordable. The
English dev set selects the best of the periodic evaluations. A checkpoint holds only what training
changed (the trainable parameters) plus the settings that made it; the frozen rest is reloaded from
the model folder.
"""
from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import asdict, dataclass, fields
from typing import Callable, Sequence

import numpy as np
import torch

from langrep.errors import LangrepError
from langrep.io import atomic_write
from langrep.transfer.alignment import EncodedSentence, collate, encode_words
from langrep.transfer.data import DEPRELS, UPOS, Sentence, label_ids, universal
from langrep.transfer.metrics import attachment_scores, pos_accuracy
from langrep.transfer.parser import BiaffineParser
from langrep.transfer.pos import Tagger
from langrep.transfer.shift import num_layers

log = logging.getLogger("langrep")
TASKS = ("pos", "parsing")
CHECKPOINT_FORMAT = 1


@dataclass
class TrainSettings:
    seed: int = 13
    max_length: int = 128
    epochs: float = 1.0
    max_steps: int | None = None
    batch_size: int = 32
    lr: float = 5e-5  # encoder layers
    head_lr: float = 1e-3  # task head (randomly initialised)
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    grad_clip: float = 5.0
    train_top_layers: int | None = None  # None: fine-tune every layer; N: only the top N
    train_sentences: int | None = None  # seeded subset of the training treebank; None: all
    dev_sentences: int | None = None
    eval_every: int | None = None  # steps between dev evaluations; None: once per epoch
    eval_tokens: int = 8192  # padded tokens per prediction batch
    dropout: float = 0.1
    arc_dim: int = 500
    rel_dim: int = 100

    @classmethod
    def from_config(cls, cfg: dict, key: str = "transfer") -> "TrainSettings":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(cfg) - names)
        if unknown:
            raise LangrepError(f"{key}: unknown training setting(s) {unknown}; known: {sorted(names)}")
        s = cls(**cfg)
        for name in ("batch_size", "max_length", "eval_tokens"):
            if int(getattr(s, name)) < 1:
                raise LangrepError(f"{key}.{name} must be positive, got {getattr(s, name)}")
        if s.train_top_layers is not None and int(s.train_top_layers) < 0:
            raise LangrepError(f"{key}.train_top_layers must be >= 0 or null, got {s.train_top_layers}")
        return s


def build_task_model(task: str, encoder, settings: TrainSettings):
    if task == "pos":
        return Tagger(encoder, len(UPOS), dropout=settings.dropout)
    if task == "parsing":
        return BiaffineParser(encoder, len(DEPRELS), settings.arc_dim, settings.rel_dim, settings.dropout)
    raise LangrepError(f"unknown transfer task {task!r}; expected one of {TASKS}")


def freeze_bottom(model, train_top_layers: int | None) -> None:
    """Freeze the embeddings and all but the top ``train_top_layers`` transformer layers."""
    enc = model.encoder_model
    for p in enc.parameters():
        p.requires_grad = train_top_layers is None
    if train_top_layers is not None:
        n = num_layers(model)
        for layer in enc.encoder.layer[max(n - int(train_top_layers), 0):]:
            for p in layer.parameters():
                p.requires_grad = True


def trainable_state(model) -> dict[str, torch.Tensor]:
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items() if k in names}


# ----------------------------------------------------------------------------------------------
# Data


@dataclass
class Example:
    enc: EncodedSentence
    labels: tuple[int, ...]  # UPOS ids (pos) or relation ids (parsing)
    heads: tuple[int, ...] = ()


def make_examples(task: str, tokenizer, sentences: Sequence[Sentence], max_length: int, path="") -> list[Example]:
    encoded = encode_words(tokenizer, [s.words for s in sentences], max_length)
    out = []
    for s, e in zip(sentences, encoded):
        if task == "pos":
            out.append(Example(e, tuple(label_ids(s.upos, UPOS, path, s.id))))
        else:
            out.append(Example(e, tuple(label_ids(s.deprels, DEPRELS, path, s.id, universal)), s.heads))
    return out


def _label_tensor(values: Sequence[Sequence[int]], n_words: int) -> torch.Tensor:
    t = torch.zeros((len(values), n_words), dtype=torch.long)
    for row, v in enumerate(values):
        t[row, : len(v)] = torch.as_tensor(v, dtype=torch.long)
    return t


def train_batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar lengths (less padding): shuffle, sort within pools, shuffle batches."""
    order = rng.permutation(len(lengths))
    pool = batch_size * 50
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort([lengths[i] for i in chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _forward_loss(task, model, batch: Sequence[Example], pad_id: int, device):
    ids, attn, pos, mask = (t.to(device) for t in collate([e.enc for e in batch], pad_id))
    labels = _label_tensor([e.labels for e in batch], pos.size(1)).to(device)
    if task == "pos":
        return model.loss(model(ids, attn, pos), labels, mask)
    heads = _label_tensor([e.heads for e in batch], pos.size(1)).to(device)
    return model.loss(model(ids, attn, pos), heads, labels, mask)


# ----------------------------------------------------------------------------------------------
# Prediction and scoring


def predict(task: str, model, tokenizer, sentences: Sequence[Sentence], settings: TrainSettings,
            shift: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
            progress: bool = False, desc: str = "predict"):
    """POS: per-sentence UPOS lists; parsing: (heads, relations). ``None`` for truncated words."""
    from langrep.extract import length_sorted_batches

    device = next(model.parameters()).device
    encoded = encode_words(tokenizer, [s.words for s in sentences], settings.max_length)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    out_a: list = [None] * len(sentences)
    out_b: list = [None] * len(sentences)
    batches = length_sorted_batches([len(e.input_ids) for e in encoded], settings.eval_tokens)
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc=desc, unit="batch", mininterval=2.0)
    was_training = model.training
    model.eval()
    with torch.inference_mode(), shift():
        for idx in batches:
            ids, attn, pos, mask = (t.to(device) for t in collate([encoded[i] for i in idx], pad_id))
            outputs = model(ids, attn, pos)
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
        log.info("%s: %d of %d words cut off by max_length=%d count as errors", desc, n_cut,
                 sum(len(s) for s in sentences), settings.max_length)
    return out_a if task == "pos" else (out_a, out_b)


def score(task: str, predictions, sentences: Sequence[Sentence]) -> dict[str, float]:
    """``{"accuracy": %}`` (pos) or ``{"uas": %, "las": %}`` (parsing)."""
    if task == "pos":
        return {"accuracy": pos_accuracy(predictions, [s.upos for s in sentences])}
    uas, las = attachment_scores(*predictions, [s.heads for s in sentences], [s.deprels for s in sentences])
    return {"uas": uas, "las": las}


SELECTION_METRIC = {"pos": "accuracy", "parsing": "las"}


# ----------------------------------------------------------------------------------------------
# Training


def fit(task: str, model, tokenizer, train: Sequence[Sentence], dev: Sequence[Sentence],
        settings: TrainSettings, shift: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
        progress: bool = False, train_path="") -> list[dict]:
    """Fine-tune ``model`` in place; keep the parameters of the best dev evaluation. Returns the
    history (step, loss, dev score). ``shift`` wraps every forward pass (Zero-mean training)."""
    from transformers import get_linear_schedule_with_warmup

    if not train:
        raise LangrepError("no training sentences")
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    device = next(model.parameters()).device
    examples = make_examples(task, tokenizer, train, settings.max_length, train_path)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    freeze_bottom(model, settings.train_top_layers)
    head = [p for n, p in model.named_parameters() if not n.startswith("encoder_model.")]
    enc = [p for n, p in model.named_parameters() if n.startswith("encoder_model.") and p.requires_grad]
    groups = [{"params": head, "lr": settings.head_lr}]
    if enc:
        groups.append({"params": enc, "lr": settings.lr})
    opt = torch.optim.AdamW(groups, weight_decay=settings.weight_decay)
    lengths = [len(e.enc.input_ids) for e in examples]
    per_epoch = math.ceil(len(examples) / settings.batch_size)
    total = max(1, math.ceil(settings.epochs * per_epoch))
    if settings.max_steps is not None:
        total = min(total, int(settings.max_steps))
    sched = get_linear_schedule_with_warmup(opt, int(settings.warmup_ratio * total), total)
    eval_every = int(settings.eval_every or per_epoch)
    metric = SELECTION_METRIC[task]
    n_params = sum(p.numel() for g in groups for p in g["params"])
    log.info("%s: %d sentences, %d steps of batch %d, %d trainable parameters (top %s layers)",
             task, len(examples), total, settings.batch_size, n_params,
             "all" if settings.train_top_layers is None else settings.train_top_layers)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=f"train {task}", unit="step", mininterval=2.0)
    history, best, best_state, step, running = [], -math.inf, None, 0, []
    t0 = time.perf_counter()
    model.train()
    while step < total:
        for idx in train_batches(lengths, settings.batch_size, rng):
            with shift():
                loss = _forward_loss(task, model, [examples[i] for i in idx], pad_id, device)
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
                if dev:
                    entry.update({f"dev_{k}": v for k, v in
                                  score(task, predict(task, model, tokenizer, dev, settings, shift), dev).items()})
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


# ----------------------------------------------------------------------------------------------
# Checkpoints


def save_checkpoint(path, task: str, model, settings: TrainSettings, meta: dict | None = None) -> None:
    cfg = model.encoder_model.config
    payload = {
        "format": CHECKPOINT_FORMAT,
        "task": task,
        "settings": asdict(settings),
        "encoder": {"num_hidden_layers": int(cfg.num_hidden_layers), "hidden_size": int(cfg.hidden_size),
                    "vocab_size": int(cfg.vocab_size)},
        "state": trainable_state(model),
        "meta": dict(meta or {}),
    }
    with atomic_write(path) as tmp:
        torch.save(payload, tmp)


def _read_checkpoint(path) -> dict:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise LangrepError(f"transfer checkpoint not found: {path}") from None
    except Exception as exc:  # a truncated or foreign file
        raise LangrepError(f"{path}: not a transfer checkpoint ({exc})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise LangrepError(f"{path}: not a transfer checkpoint of format {CHECKPOINT_FORMAT}")
    return ckpt


def load_checkpoint(path, model_dir, device: str | None = "cpu", reuse=None):
    """``(task model, tokenizer, checkpoint dict)``: the model folder's encoder with the trained
    parameters of ``path`` on top. ``reuse`` = an earlier result whose checkpoint trained the same
    parameters: its model is overwritten in place instead of reloading the encoder (the parameters
    neither checkpoint trained are the pre-trained ones in both)."""
    ckpt = _read_checkpoint(path)
    if reuse is not None and reuse[2]["task"] == ckpt["task"] and set(reuse[2]["state"]) == set(ckpt["state"]):
        model, tokenizer = reuse[0], reuse[1]
    else:
        from langrep.models import load_encoder

        encoder, tokenizer = load_encoder(model_dir, device=device, dtype=torch.float32)
        cfg = encoder.config
        have = {"num_hidden_layers": int(cfg.num_hidden_layers), "hidden_size": int(cfg.hidden_size),
                "vocab_size": int(cfg.vocab_size)}
        if have != ckpt["encoder"]:
            raise LangrepError(f"{path} was trained on an encoder {ckpt['encoder']}, but {model_dir} has {have}")
        model = build_task_model(ckpt["task"], encoder, TrainSettings(**ckpt["settings"])).to(encoder.device)
    settings = TrainSettings(**ckpt["settings"])
    result = model.load_state_dict(ckpt["state"], strict=False)
    if result.unexpected_keys:
        raise LangrepError(f"{path}: parameters the task model does not have: {result.unexpected_keys[:5]}")
    head_missing = [k for k in result.missing_keys if not k.startswith("encoder_model.")]
    if head_missing:
        raise LangrepError(f"{path}: the task head lacks trained parameters {head_missing[:5]}")
    freeze_bottom(model, settings.train_top_layers)
    model.eval()
    return model, tokenizer, ckpt
