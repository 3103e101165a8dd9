"""Fitting the MLM head of :mod:`langrep.translation.mlm_head` on a frozen encoder.

Objective (documented choice): the cross-entropy of the input token at every non-special position
of the clean input (the paper decodes unmasked input, so the head must give it back), plus, from a
second pass under BERT's masked-LM corruption (15 % of the positions; of those 80 % -> mask token,
10 % -> a random token, 10 % unchanged), the original token at the corrupted positions. The
encoder is frozen, so both passes' hidden states are computed once and cached
(:func:`training_positions`: the last layer's, or every layer's for the reconstruction curve), and
a head is fitted on one layer's (:func:`fit_head`).

Fitting uses a sampled softmax (the batch's targets plus ``negatives`` uniform token ids, log-Q
corrected): a 250k-way softmax at every step would cost ~100M multiply-adds per position.
Decoding stays exact over the whole vocabulary.

Quality on held-out sentences: :mod:`langrep.translation.mlm_head_quality`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from langrep.batching import TokenIds, length_sorted_batches, pad_tensors, pad_token_id, special_ids, tokenize_ids
from langrep.errors import LangrepError
from langrep.models import inference
from langrep.settings import HeadSettings
from langrep.translation.mlm_head import (
    FittedMLMHead,
    fast_dtype,
    head_vocab_size,
    input_embeddings,
)

# the keyword defaults below: config translation.head's
DEFAULT = HeadSettings.defaults()


@dataclass
class HeadFit:
    """A fitted head and its statistics (what ``head.json`` records)."""

    head: FittedMLMHead
    stats: dict


def corrupt(
    ids: list[int], specials: set[int], n_vocab: int, mask_id: int, rng, mask_prob: float, bert_mix: bool = True
):
    """BERT corruption of one sentence: (corrupted ids, selected positions). ``bert_mix`` False: every selected
    position becomes the mask token (the masked-accuracy evaluation)."""
    out, selected = list(ids), [False] * len(ids)
    for j, tok in enumerate(ids):
        if tok in specials or rng.random() >= mask_prob:
            continue
        selected[j] = True
        r = rng.random() if bert_mix else 0.0
        if r < 0.8:
            out[j] = mask_id
        elif r < 0.9:
            while True:  # a random non-special piece
                out[j] = int(rng.integers(n_vocab))
                if out[j] not in specials:
                    break
    return out, selected


def kept_positions(seqs: Sequence[Sequence[int]], specials: set[int], select=None) -> list[list[int]]:
    """Per sentence, its non-special positions (and of those, where ``select[i][j]`` is true)."""
    return [
        [j for j, tok in enumerate(s) if tok not in specials and (select is None or select[i][j])]
        for i, s in enumerate(seqs)
    ]


def encode_positions(
    encoder,
    seqs: Sequence[Sequence[int]],
    inputs: Sequence[Sequence[int]],
    specials: set[int],
    pad_id: int,
    token_budget: int,
    layers: Sequence[int] | None = None,
    select: Sequence[Sequence[bool]] | None = None,
    out: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Hidden states of ``inputs`` (token id lists) at the non-special positions of ``seqs`` (only
    those where ``select[i][j]`` is true, when given).

    Returns (features, original ids [N], sentence index [N]), sentences in order. ``layers``
    None: features [N, H] of the last hidden state; else [len(layers), N, H], the hidden states
    ``layers`` (0 = embedding output) of one forward pass (``output_hidden_states``). float32,
    written into ``out`` when given (a [len(layers), N, H] tensor: no second copy of a large cache).
    """
    keeps = kept_positions(seqs, specials, select)
    starts = np.cumsum([0] + [len(k) for k in keeps]).tolist()
    dev = next(encoder.parameters()).device
    n_out = 1 if layers is None else len(layers)
    width = encoder.config.hidden_size
    feats = torch.empty(n_out, starts[-1], width, device=dev) if out is None else out
    if feats.shape != (n_out, starts[-1], width):
        raise LangrepError(f"encode_positions: out has shape {tuple(feats.shape)}, not {(n_out, starts[-1], width)}")
    tokens = TokenIds.from_lists(inputs)
    encoder.eval()
    with inference():
        for batch in length_sorted_batches([len(s) for s in seqs], token_budget, max_padding=None, shortest_first=True):
            ids, mask = pad_tensors(tokens, batch, pad_id)
            result = encoder(
                input_ids=ids.to(dev), attention_mask=mask.to(dev), output_hidden_states=layers is not None
            )
            states = [result.last_hidden_state] if layers is None else [result.hidden_states[l] for l in layers]
            for row, i in enumerate(batch):
                for k, hidden in enumerate(states):
                    feats[k, starts[i] : starts[i + 1]] = hidden[row, keeps[i]].float()
    targets = torch.as_tensor([seqs[i][j] for i, keep in enumerate(keeps) for j in keep], dtype=torch.long)
    sent = torch.as_tensor([i for i, keep in enumerate(keeps) for _ in keep], dtype=torch.long)
    return (feats[0] if layers is None else feats), targets, sent


def tokenized_sentences(tokenizer, texts_by_lang: Mapping[str, Sequence[str]], max_length: int):
    """(token id lists, their languages) of every text, language by language."""
    seqs, langs = [], []
    for lang, texts in texts_by_lang.items():
        if not len(texts):
            raise LangrepError(f"no text for the MLM head in language {lang!r}")
        s = tokenize_ids(tokenizer, texts, max_length)
        seqs.extend(s[i].tolist() for i in range(len(s)))
        langs.extend([lang] * len(s))
    return seqs, langs


@dataclass
class FitPositions:
    """The positions a head is fitted on: every non-special position of the clean pass
    (reconstruction), then the corrupted positions of a BERT-corrupted pass."""

    states: torch.Tensor  # [N, H] (the last hidden state), or [len(layers), N, H]
    targets: torch.Tensor  # [N] token ids
    selected: torch.Tensor  # [N] bool: a corrupted position
    n_sentences: int
    languages: list[str]
    seconds: float  # spent encoding


def fit_mlm_head(
    encoder,
    tokenizer,
    texts_by_lang: Mapping[str, Sequence[str]],
    *,
    steps: int = DEFAULT.steps,
    batch_size: int = DEFAULT.batch_size,
    negatives: int = DEFAULT.negatives,
    width: int = DEFAULT.width,
    lr: float = DEFAULT.lr,
    mask_prob: float = DEFAULT.mask_prob,
    max_length: int = DEFAULT.max_length,
    token_budget: int = DEFAULT.token_budget,
    seed: int = DEFAULT.seed,
    log_every: int = 100,
    log=None,
) -> HeadFit:
    """Fit a :class:`FittedMLMHead` on the frozen ``encoder``'s last hidden state (see the module
    docstring): :func:`training_positions`, then :func:`fit_head`."""
    _check_fit(steps, batch_size, negatives, lr, tokenizer)
    positions = training_positions(
        encoder,
        tokenizer,
        texts_by_lang,
        mask_prob=mask_prob,
        max_length=max_length,
        token_budget=token_budget,
        seed=seed,
    )
    return fit_head(
        positions,
        encoder,
        tokenizer,
        steps=steps,
        batch_size=batch_size,
        negatives=negatives,
        width=width,
        lr=lr,
        mask_prob=mask_prob,
        seed=seed,
        log_every=log_every,
        log=log,
    )


def _check_fit(steps, batch_size, negatives, lr, tokenizer) -> None:
    if steps < 1 or batch_size < 1 or negatives < 1 or lr <= 0:
        raise LangrepError("translation.head: steps, batch_size and negatives must be >= 1 and lr > 0")
    if tokenizer.mask_token_id is None:
        raise LangrepError("fitting an MLM head needs a tokenizer with a mask token")


def fit_head(
    positions: FitPositions,
    encoder,
    tokenizer,
    *,
    layer_index: int | None = None,
    init: FittedMLMHead | None = None,
    steps: int,
    batch_size: int,
    negatives: int,
    width: int,
    lr: float,
    mask_prob: float,
    seed: int,
    log_every: int = 100,
    log=None,
    train_accuracy: bool = True,
) -> HeadFit:
    """Fit a head on cached ``positions`` (``layer_index``: which of their layers, when they hold
    several), tied to ``encoder``'s input embeddings, starting from ``init``'s weights when given;
    its statistics as ``head.json`` records them. ``train_accuracy`` False leaves out the
    accuracy on 2,000 fitted positions (whole-vocabulary decoding: seconds a head), for heads whose
    statistics are not kept (the curve's probes)."""
    _check_fit(steps, batch_size, negatives, lr, tokenizer)
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    n_vocab = head_vocab_size(encoder, tokenizer)
    states = positions.states if layer_index is None else positions.states[layer_index]
    head = FittedMLMHead(
        input_embeddings(encoder),
        n_vocab,
        width,
        layer_norm_eps=getattr(getattr(encoder, "config", None), "layer_norm_eps", 1e-12),
    )
    if init is not None:  # warm start (the curve's probes: each from the one of the layer above)
        head.load_state_dict(init.state_dict())
    dev = states.device
    head, targets, x = (
        head.to(dev),
        positions.targets.to(dev),
        states.clone(),
    )  # clone: inference tensors cannot enter autograd
    gen = torch.Generator().manual_seed(seed)
    b, k = min(batch_size, len(x)), min(negatives, n_vocab)
    t_fit = t0 - positions.seconds
    losses = _train_head(
        head, x, targets, n_vocab, b, k, steps=steps, lr=lr, gen=gen, log=log, log_every=log_every, t0=t_fit
    )
    head.eval()
    window = max(1, min(20, steps // 5))
    stats = {
        "objective": "cross-entropy of the input token at every non-special position of the clean input, plus "
        f"the original token at the corrupted positions of a BERT-corrupted pass ({mask_prob:.0%}: 80/10/10)",
        "softmax": f"whole vocabulary at decoding; fitting: sampled softmax (batch targets + {k} uniform "
        "negatives, log-Q corrected)",
        "architecture": f"LayerNorm(W2 gelu(W1 h + b1) + b2), hidden {x.shape[1]} -> {width} -> {x.shape[1]}; "
        "decoder tied to the frozen input embeddings, plus a bias per token",
        "languages": positions.languages,
        "n_fit_sentences": positions.n_sentences,
        "n_positions": int(len(x)),
        "n_masked_positions": int(positions.selected.sum()),
        "fit_vocab_size": int(len(torch.unique(targets))),
        "vocab_size": int(n_vocab),
        "steps": steps,
        "batch_size": b,
        "negatives": k,
        "width": width,
        "lr": lr,
        "mask_prob": mask_prob,
        "seed": seed,
        "loss_first": float(np.mean(losses[:window])),
        "loss_last": float(np.mean(losses[-window:])),
        **(_train_accuracy(head, x, targets, positions.selected, gen) if train_accuracy else {}),
        "seconds_encode": round(positions.seconds, 2),
        "seconds_fit": round(time.perf_counter() - t_fit, 2),
    }
    return HeadFit(head, stats)


def _train_accuracy(head: FittedMLMHead, x, targets, selected, gen) -> dict:
    """The head's accuracy on 2,000 fitted positions drawn with ``gen``, clean and corrupted apart."""
    dev = x.device
    sample = torch.randperm(len(x), generator=gen)[:2000].to(dev)
    ok = head.argmax(x[sample]) == targets[sample]
    sel = selected.to(dev)[sample]
    return {
        "train_accuracy_unmasked": float(ok[~sel].float().mean()) if (~sel).any() else None,
        "train_accuracy_masked": float(ok[sel].float().mean()) if sel.any() else None,
    }


def training_positions(
    encoder,
    tokenizer,
    texts_by_lang: Mapping[str, Sequence[str]],
    *,
    mask_prob: float,
    max_length: int,
    token_budget: int,
    seed: int,
    layers: Sequence[int] | None = None,
) -> FitPositions:
    """The fitting positions of ``texts_by_lang``: their hidden states at the last layer, or at
    each of ``layers`` (one forward pass per pass for all of them)."""
    t0 = time.perf_counter()
    n_vocab = head_vocab_size(encoder, tokenizer)
    specials = set(special_ids(tokenizer))
    rng = np.random.default_rng(seed)
    seqs, _ = tokenized_sentences(tokenizer, texts_by_lang, max_length)
    corrupted = [corrupt(s, specials, n_vocab, tokenizer.mask_token_id, rng, mask_prob) for s in seqs]
    pad = pad_token_id(tokenizer)
    n_clean = sum(len(k) for k in kept_positions(seqs, specials))
    n_noisy = sum(len(k) for k in kept_positions(seqs, specials, [c[1] for c in corrupted]))
    dev = next(encoder.parameters()).device
    # one cache for both passes: the clean positions, then the corrupted ones
    x = torch.empty(1 if layers is None else len(layers), n_clean + n_noisy, encoder.config.hidden_size, device=dev)
    _, targets, _ = encode_positions(encoder, seqs, seqs, specials, pad, token_budget, layers, out=x[:, :n_clean])
    if n_noisy:  # the corrupted pass, kept at its corrupted positions only
        _, noisy_targets, _ = encode_positions(
            encoder, seqs, [c[0] for c in corrupted], specials, pad, token_budget, layers,
            select=[c[1] for c in corrupted], out=x[:, n_clean:],
        )  # fmt: skip
        targets = torch.cat([targets, noisy_targets])
    x = x[0] if layers is None else x
    selected = torch.cat([torch.zeros(n_clean, dtype=torch.bool), torch.ones(n_noisy, dtype=torch.bool)])
    if len(targets) == 0:
        raise LangrepError("the MLM head's fitting text has no (non-special) token")
    return FitPositions(x, targets, selected, len(seqs), sorted(texts_by_lang), time.perf_counter() - t0)


def _train_head(head, x, targets, n_vocab, b, k, *, steps, lr, gen, log, log_every, t0) -> list[float]:
    """``steps`` Adam steps (warm-up, cosine decay) of sampled softmax over ``b`` drawn positions and
    ``k`` uniform negatives; the loss of every step."""
    dev = x.device
    fast = fast_dtype(dev)
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    warm = max(1, min(50, steps // 10))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * s / steps))
    )
    n = len(x)
    # log-Q correction: each negative is drawn with probability k / V per step
    correction = torch.cat([torch.zeros(b), torch.full((k,), math.log(k / n_vocab))]).to(dev)
    losses = []
    head.train()
    for step in range(steps):
        idx = torch.randint(n, (b,), generator=gen).to(dev)
        y = targets[idx]
        cand = torch.cat([y, torch.randint(n_vocab, (k,), generator=gen).to(dev)])
        with torch.autocast(dev.type, dtype=fast, enabled=fast != torch.float32):
            logits = head.sampled_logits(x[idx], cand)
        logits = logits.float() - correction
        # another column holding a row's own target is not a negative for it
        hit = cand[None, :] == y[:, None]
        hit[torch.arange(b), torch.arange(b)] = False
        loss = nn.functional.cross_entropy(logits.masked_fill(hit, -1e4), torch.arange(b, device=dev))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if log is not None and (step % log_every == 0 or step == steps - 1):
            log(f"head step {step}/{steps}: sampled loss {losses[-1]:.4f} ({time.perf_counter() - t0:.0f}s)")
    return losses
