"""A masked-LM decoder head fitted on a frozen encoder that ships without one.

Token translation (paper, Sec. 3) decodes every position through the MLM head. mBERT has one;
encoders such as multilingual-e5-small do not. :func:`fit_mlm_head` fits a BERT-style head on the
frozen encoder: ``logits = LayerNorm(act(W h + b)) @ E[V]^T + bias`` with ``E`` the encoder's
(frozen) input word embeddings, so the decoder is tied exactly as in BERT.

Objective (documented choice): BERT's masked-LM corruption (15 % of the non-special positions;
of those 80 % -> mask token, 10 % -> a random token of the vocabulary, 10 % unchanged) and the
cross-entropy of the original token at *every* non-special position. The paper decodes unmasked
input, so the head must reconstruct unmasked tokens (85 % of the targets) and still learn to
predict from context at the corrupted ones. The encoder is frozen, so its last hidden states
under one fixed corruption are computed once and the head is trained on those cached features.

Restricted softmax (documented choice): the vocabulary of XLM-R is 250k rows; the head's softmax
runs over ``V``, the token ids seen in the monolingual corpora of the languages involved (a few
ten thousand). Decoding with this head is restricted to ``V`` as well: the bias of any other row
was never trained.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from langrep.errors import LangrepError
from langrep.io import atomic_write

HEAD_FILE = "head.safetensors"
STATS_FILE = "head.json"
PRETRAINED_MARKER = "pretrained"


class FittedMLMHead(nn.Module):
    """BERT-style transform + tied decoder over a restricted vocabulary ``vocab_ids``."""

    def __init__(self, word_embeddings: torch.Tensor, vocab_ids: torch.Tensor, layer_norm_eps: float = 1e-12):
        super().__init__()
        hidden = word_embeddings.shape[1]
        self.dense = nn.Linear(hidden, hidden)
        self.act = nn.GELU()
        self.layer_norm = nn.LayerNorm(hidden, eps=layer_norm_eps)
        vocab_ids = torch.as_tensor(vocab_ids, dtype=torch.long)
        if vocab_ids.ndim != 1 or len(vocab_ids) == 0:
            raise LangrepError("the head vocabulary must be a non-empty list of token ids")
        self.register_buffer("vocab_ids", vocab_ids)
        self.bias = nn.Parameter(torch.zeros(len(vocab_ids)))
        # Tied to the frozen input embeddings: a buffer, never saved, never trained.
        self.register_buffer("decoder_weight", word_embeddings.detach()[vocab_ids].float().clone(), persistent=False)
        # Start with logits of a usable range whatever the embedding scale (random tiny models have
        # rows of norm ~0.1): |LayerNorm output| ~ sqrt(H) / mean |e|, so |logit| <= ~sqrt(H).
        with torch.no_grad():
            norm = self.decoder_weight.float().norm(dim=1).mean().clamp_min(1e-6)
            self.layer_norm.weight.fill_(float(1.0 / norm))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits over ``vocab_ids`` (column j = token id ``vocab_ids[j]``)."""
        # float32 head on any encoder dtype (a bf16 encoder on a GPU feeds it bf16 states)
        h = self.layer_norm(self.act(self.dense(hidden.to(self.dense.weight.dtype))))
        return h @ self.decoder_weight.T + self.bias


@dataclass
class HeadFit:
    head: FittedMLMHead
    stats: dict


def _input_embeddings(encoder) -> torch.Tensor:
    return encoder.get_input_embeddings().weight


def special_ids(tokenizer) -> set[int]:
    return set(int(i) for i in tokenizer.all_special_ids)


def tokenize_ids(tokenizer, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids of each text with the tokenizer's special tokens, truncated to ``max_length``."""
    enc = tokenizer(list(texts), truncation=True, max_length=max_length, add_special_tokens=True)
    return [list(map(int, ids)) for ids in enc["input_ids"]]


def corpus_vocab(tokenizer, texts: Sequence[str], max_length: int = 512) -> set[int]:
    """The set of (non-special) subword ids of a corpus: V_lang of the paper's Table 6."""
    specials = special_ids(tokenizer)
    vocab: set[int] = set()
    for ids in tokenize_ids(tokenizer, texts, max_length):
        vocab.update(i for i in ids if i not in specials)
    return vocab


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask


def length_batches(lengths: Sequence[int], token_budget: int) -> list[list[int]]:
    """Indices grouped into batches of similar length, each <= ``token_budget`` padded tokens."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches, cur, width = [], [], 0
    for i in order:
        w = max(width, lengths[i])
        if cur and w * (len(cur) + 1) > token_budget:
            batches.append(cur)
            cur, w = [], lengths[i]
        cur.append(i)
        width = w
    if cur:
        batches.append(cur)
    return batches


def _corrupt(ids: list[int], specials: set[int], vocab: np.ndarray, mask_id: int, rng, mask_prob: float):
    """BERT corruption: returns (corrupted ids, boolean list of selected positions)."""
    out, selected = list(ids), [False] * len(ids)
    for j, tok in enumerate(ids):
        if tok in specials or rng.random() >= mask_prob:
            continue
        selected[j] = True
        r = rng.random()
        if r < 0.8:
            out[j] = mask_id
        elif r < 0.9:
            out[j] = int(vocab[rng.integers(len(vocab))])
    return out, selected


def encode_features(encoder, tokenizer, texts_by_lang: Mapping[str, Sequence[str]], *, max_length: int,
                    token_budget: int, mask_prob: float, seed: int):
    """Frozen-encoder last hidden states at every non-special position under one BERT corruption.

    Returns (features [N, H] float32, target ids [N], selected [N] bool, vocab ids sorted).
    """
    if tokenizer.mask_token_id is None:
        raise LangrepError("fitting an MLM head needs a tokenizer with a mask token")
    specials = special_ids(tokenizer)
    rng = np.random.default_rng(seed)
    seqs = []
    for lang, texts in texts_by_lang.items():
        if not texts:
            raise LangrepError(f"no text to fit the MLM head on for language {lang!r}")
        seqs.extend(tokenize_ids(tokenizer, texts, max_length))
    vocab = np.array(sorted({i for s in seqs for i in s if i not in specials}), dtype=np.int64)
    corrupted = [_corrupt(s, specials, vocab, tokenizer.mask_token_id, rng, mask_prob) for s in seqs]
    feats, targets, sel = [], [], []
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    encoder.eval()
    with torch.inference_mode():
        for batch in length_batches([len(s) for s in seqs], token_budget):
            ids, mask = pad_batch([corrupted[i][0] for i in batch], pad)
            hidden = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            for row, i in enumerate(batch):
                keep = [j for j, tok in enumerate(seqs[i]) if tok not in specials]
                feats.append(hidden[row, keep].float())
                targets.extend(seqs[i][j] for j in keep)
                sel.extend(corrupted[i][1][j] for j in keep)
    return torch.cat(feats), torch.as_tensor(targets), torch.as_tensor(sel), vocab


def fit_mlm_head(encoder, tokenizer, texts_by_lang: Mapping[str, Sequence[str]], *, steps: int = 300,
                 batch_size: int = 512, lr: float = 2e-3, mask_prob: float = 0.15, max_length: int = 128,
                 token_budget: int = 4096, seed: int = 0, log_every: int = 50, log=None) -> HeadFit:
    """Fit a :class:`FittedMLMHead` on the frozen ``encoder`` (see the module docstring)."""
    if steps < 1 or batch_size < 1 or lr <= 0:
        raise LangrepError("translation.head: steps and batch_size must be >= 1 and lr > 0")
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    x, targets, selected, vocab = encode_features(
        encoder, tokenizer, texts_by_lang, max_length=max_length, token_budget=token_budget,
        mask_prob=mask_prob, seed=seed)
    t_encode = time.perf_counter() - t0
    head = FittedMLMHead(_input_embeddings(encoder), torch.as_tensor(vocab),
                         layer_norm_eps=getattr(getattr(encoder, "config", None), "layer_norm_eps", 1e-12))
    # Targets as columns of the restricted softmax.
    col = torch.as_tensor(np.searchsorted(vocab, targets.cpu().numpy()))
    dev = x.device
    head, col, x = head.to(dev), col.to(dev), x.clone()  # clone: inference tensors cannot enter autograd
    opt = torch.optim.Adam([p for p in head.parameters() if p.requires_grad], lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
    gen = torch.Generator().manual_seed(seed)
    losses = []
    n = len(x)
    for step in range(steps):
        idx = torch.randint(n, (min(batch_size, n),), generator=gen).to(dev)
        loss = nn.functional.cross_entropy(head(x[idx]), col[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if log is not None and (step % log_every == 0 or step == steps - 1):
            log(f"step {step}: loss {losses[-1]:.4f}")
    head.eval()
    with torch.inference_mode():
        correct = torch.cat([head(x[i:i + 4096]).argmax(-1) == col[i:i + 4096] for i in range(0, n, 4096)])
    correct, sel = correct.cpu(), selected.cpu()
    window = max(1, min(20, steps // 5))
    stats = {
        "objective": "BERT MLM corruption (15%: 80/10/10), cross-entropy at every non-special position",
        "softmax": "restricted to the token ids seen in the fitting corpora",
        "languages": sorted(texts_by_lang),
        "n_positions": int(n),
        "n_masked_positions": int(selected.sum()),
        "vocab_size": int(len(vocab)),
        "steps": steps, "batch_size": batch_size, "lr": lr, "mask_prob": mask_prob, "seed": seed,
        "loss_first": float(np.mean(losses[:window])),
        "loss_last": float(np.mean(losses[-window:])),
        "train_accuracy_unmasked": float(correct[~sel].float().mean()) if (~sel).any() else None,
        "train_accuracy_masked": float(correct[sel].float().mean()) if sel.any() else None,
        "seconds_encode": round(t_encode, 2),
        "seconds_total": round(time.perf_counter() - t0, 2),
    }
    return HeadFit(head, stats)


def save_head(fit: HeadFit, out_dir) -> None:
    """``head.safetensors`` (trainable weights + vocab ids) and ``head.json`` (stats), atomically."""
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    state = {k: v.detach().cpu().contiguous() for k, v in fit.head.state_dict().items()}
    with atomic_write(out_dir / HEAD_FILE) as tmp:
        save_file(state, str(tmp))
    with atomic_write(out_dir / STATS_FILE) as tmp:
        tmp.write_text(json.dumps({"head": "fitted", **fit.stats}, indent=2))


def write_pretrained_marker(out_dir) -> None:
    """The model has its own MLM head: record that instead of fitting one."""
    out_dir = Path(out_dir)
    with atomic_write(out_dir / STATS_FILE) as tmp:
        tmp.write_text(json.dumps({"head": PRETRAINED_MARKER}, indent=2))


def head_kind(head_dir) -> str:
    """``pretrained`` or ``fitted``, read from ``head.json``."""
    path = Path(head_dir) / STATS_FILE
    if not path.exists():
        raise LangrepError(f"MLM head record not found: {path}")
    try:
        kind = json.loads(path.read_text())["head"]
    except (ValueError, KeyError) as e:
        raise LangrepError(f"{path}: not an MLM head record ({e})") from None
    if kind not in ("pretrained", "fitted"):
        raise LangrepError(f"{path}: unknown head kind {kind!r}")
    return kind


def load_head(head_dir, encoder) -> FittedMLMHead:
    from safetensors.torch import load_file

    path = Path(head_dir) / HEAD_FILE
    if not path.exists():
        raise LangrepError(f"fitted MLM head not found: {path}")
    state = load_file(str(path))
    if "vocab_ids" not in state:
        raise LangrepError(f"{path}: no vocab_ids tensor; not a fitted head")
    emb = _input_embeddings(encoder)
    if int(state["vocab_ids"].max()) >= emb.shape[0] or state["dense.weight"].shape[0] != emb.shape[1]:
        raise LangrepError(f"{path}: head does not match the encoder (vocab {emb.shape[0]}, hidden {emb.shape[1]})")
    missing = {"dense.weight", "dense.bias", "layer_norm.weight", "layer_norm.bias", "bias"} - set(state)
    if missing:
        raise LangrepError(f"{path}: missing tensors {sorted(missing)}")
    eps = getattr(getattr(encoder, "config", None), "layer_norm_eps", 1e-12)
    head = FittedMLMHead(emb, state["vocab_ids"], layer_norm_eps=eps)
    head.load_state_dict(state, strict=True)
    return head.eval()


def prepare_head(model_dir, mono_paths: Mapping[str, str], out_dir, settings: Mapping | None = None,
                 device: str | None = "cpu", log=None) -> str:
    """The ``mlm_head`` rule: record ``pretrained`` when the model has an MLM head, else fit and save one.

    ``settings`` (config ``translation.head``): sentences_per_lang, steps, batch_size, lr, mask_prob,
    max_length, token_budget, seed.
    """
    import pandas as pd

    from langrep.models import NoMLMHeadError, load_encoder, load_masked_lm

    s = dict(settings or {})
    try:
        load_masked_lm(model_dir, device="cpu")
    except NoMLMHeadError as exc:
        if log:
            log(f"{exc}; fitting a head on the frozen encoder")
    else:
        write_pretrained_marker(out_dir)
        return PRETRAINED_MARKER
    n = int(s.get("sentences_per_lang", 300))
    texts = {}
    for lang, path in mono_paths.items():
        df = pd.read_parquet(path)
        if "text" not in df.columns:
            from langrep.errors import InputFormatError

            raise InputFormatError(path, None, "missing column 'text'")
        texts[lang] = df["text"].astype(str).head(n).tolist()
    encoder, tokenizer = load_encoder(model_dir, device=device)
    for p in encoder.parameters():
        p.requires_grad_(False)
    fit = fit_mlm_head(encoder, tokenizer, texts, steps=int(s.get("steps", 200)),
                       batch_size=int(s.get("batch_size", 512)), lr=float(s.get("lr", 3e-3)),
                       mask_prob=float(s.get("mask_prob", 0.15)), max_length=int(s.get("max_length", 128)),
                       token_budget=int(s.get("token_budget", 4096)), seed=int(s.get("seed", 0)), log=log)
    fit.stats["sentences_per_lang"] = n
    save_head(fit, out_dir)
    if log:
        log(f"fitted head: {fit.stats}")
    return "fitted"
