"""The held-out quality of a fitted MLM head (:mod:`langrep.translation.mlm_head_fitting`): per
language, the share of tokens it gives back on clean input (reconstruction) and of masked tokens it
predicts (masked accuracy), at the last hidden state or at each of several layers from one forward
pass (the reconstruction curve of :mod:`langrep.translation.decode_layer`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from langrep.batching import pad_token_id, special_ids
from langrep.settings import HeadSettings
from langrep.translation.mlm_head import FittedMLMHead, head_vocab_size
from langrep.translation.mlm_head_fitting import corrupt, encode_positions, tokenized_sentences

# the keyword defaults below: config translation.head's
DEFAULT = HeadSettings.defaults()


def evaluate_head(
    head: FittedMLMHead,
    encoder,
    tokenizer,
    texts_by_lang: Mapping[str, Sequence[str]],
    *,
    fit_vocab: set[int] | None = None,
    mask_prob: float = DEFAULT.mask_prob,
    max_length: int = DEFAULT.max_length,
    token_budget: int = DEFAULT.token_budget,
    seed: int = 1,
) -> dict[str, dict]:
    """Per language: ``reconstruction`` (% of non-special tokens given back on clean input) and
    ``masked_accuracy`` (% of ``mask_prob`` of them, all replaced by the mask token, predicted),
    the head reading the last hidden state (:func:`heldout_positions`, :func:`heldout_quality`).

    With ``fit_vocab`` (the ids of the fitting text) it adds the share of held-out tokens outside it
    and the reconstruction of those: tokens the head never saw as targets.
    """
    held = heldout_positions(
        encoder,
        tokenizer,
        texts_by_lang,
        mask_prob=mask_prob,
        max_length=max_length,
        token_budget=token_budget,
        seed=seed,
    )
    return heldout_quality(head, held, fit_vocab=fit_vocab)


@dataclass
class HeldoutPositions:
    """Held-out positions a head is measured on: the clean pass and a masked one."""

    clean: torch.Tensor  # [N, H], or [len(layers), N, H]: every non-special position
    masked: torch.Tensor  # [M, H], or [len(layers), M, H]: the masked positions under masking
    targets: torch.Tensor  # [N] token ids
    selected: torch.Tensor  # [N] bool: masked in the masked pass
    langs: np.ndarray  # [N] the language of each position
    ranks: np.ndarray  # [N] the position's sentence: its index among its language's sentences
    sentences: dict[str, int]  # sentences per language, in the texts' order

    def first_sentences(self, n: int) -> HeldoutPositions:
        """The positions of the first ``n`` sentences of every language."""
        keep = self.ranks < n
        at = torch.as_tensor(keep)
        return HeldoutPositions(
            clean=self.clean[..., at.to(self.clean.device), :],
            masked=self.masked[..., at[self.selected].to(self.masked.device), :],
            targets=self.targets[at],
            selected=self.selected[at],
            langs=self.langs[keep],
            ranks=self.ranks[keep],
            sentences={lang: min(n, k) for lang, k in self.sentences.items()},
        )


def heldout_positions(
    encoder,
    tokenizer,
    texts_by_lang: Mapping[str, Sequence[str]],
    *,
    mask_prob: float,
    max_length: int,
    token_budget: int,
    seed: int = 1,
    layers: Sequence[int] | None = None,
) -> HeldoutPositions:
    """The held-out positions of ``texts_by_lang`` at the last hidden state, or at each of ``layers``;
    ``mask_prob`` of them are replaced by the mask token in the masked pass."""
    specials = set(special_ids(tokenizer))
    pad = pad_token_id(tokenizer)
    rng = np.random.default_rng(seed)
    seqs, langs = tokenized_sentences(tokenizer, texts_by_lang, max_length)
    n_vocab = head_vocab_size(encoder, tokenizer)
    masked = [corrupt(s, specials, n_vocab, tokenizer.mask_token_id, rng, mask_prob, bert_mix=False) for s in seqs]
    x, y, sent = encode_positions(encoder, seqs, seqs, specials, pad, token_budget, layers)
    xm, _, _ = encode_positions(
        encoder, seqs, [m[0] for m in masked], specials, pad, token_budget, layers, select=[m[1] for m in masked]
    )  # only the masked positions
    sel = torch.as_tensor(
        [m[1][j] for s, m in zip(seqs, masked) for j, tok in enumerate(s) if tok not in specials], dtype=torch.bool
    )
    ranks, seen = [], {}
    for lang in langs:  # a sentence's index among its language's sentences
        ranks.append(seen.get(lang, 0))
        seen[lang] = ranks[-1] + 1
    return HeldoutPositions(
        clean=x,
        masked=xm,
        targets=y,
        selected=sel,
        langs=np.asarray(langs)[sent.numpy()],
        ranks=np.asarray(ranks, dtype=np.int64)[sent.numpy()],
        sentences={lang: sum(1 for x_ in langs if x_ == lang) for lang in texts_by_lang},
    )


def heldout_quality(
    head: FittedMLMHead,
    held: HeldoutPositions,
    *,
    layer_index: int | None = None,
    fit_vocab: set[int] | None = None,
) -> dict[str, dict]:
    """Per language, the reconstruction and masked accuracy (%) of ``head`` on ``held``
    (``layer_index``: which of its layers, when it holds several); see :func:`evaluate_head`."""
    x = held.clean if layer_index is None else held.clean[layer_index]
    xm = held.masked if layer_index is None else held.masked[layer_index]
    y, sel = held.targets, held.selected
    ok = (head.argmax(x) == y.to(x.device)).cpu()
    ok_masked = (head.argmax(xm) == y[sel].to(xm.device)).cpu()
    unseen = (
        torch.as_tensor([int(t) not in fit_vocab for t in y.tolist()], dtype=torch.bool)
        if fit_vocab is not None
        else None
    )
    out = {}
    for lang, n_sentences in held.sentences.items():
        at = torch.as_tensor(held.langs == lang)
        m_at = at[sel]
        rec = {
            "n_sentences": n_sentences,
            "n_tokens": int(at.sum()),
            "reconstruction": 100 * float(ok[at].float().mean()),
            "n_masked": int(m_at.sum()),
            "masked_accuracy": 100 * float(ok_masked[m_at].float().mean()) if m_at.any() else None,
        }
        if unseen is not None:
            u = at & unseen
            rec["unseen_in_fit_share"] = 100 * float(u.sum()) / max(1, int(at.sum()))
            rec["reconstruction_unseen_in_fit"] = 100 * float(ok[u].float().mean()) if u.any() else None
        out[lang] = rec
    return out


def split_heldout(texts: Sequence[str], n_fit: int, n_heldout: int) -> tuple[list[str], list[str]]:
    """(fitting texts, held-out texts): the last ``n_heldout`` sentences (at most a fifth of the
    corpus) are held out; the first ``n_fit`` of the rest are fitted on."""
    texts = list(texts)
    hold = min(n_heldout, len(texts) // 5)
    rest = texts[: len(texts) - hold]
    return rest[:n_fit], texts[len(texts) - hold :]
