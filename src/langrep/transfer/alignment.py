"""Subword-to-word alignment: each UD word is represented by its first subword.

The fast tokenizer's ``word_ids()`` maps subwords to words. Two cases need care:

* a word can tokenise to nothing (a zero-width character, a control character the normaliser
  strips): it is replaced by the tokenizer's unknown token, so it keeps a position of its own and
  is tagged/attached like any word (the replacement count is reported);
* a long sentence is truncated at ``max_length`` subwords: the words beyond it get position -1;
  training ignores them and evaluation counts them as errors (see ``langrep.transfer.train``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

from langrep.errors import LangrepError

log = logging.getLogger("langrep")


@dataclass(frozen=True)
class EncodedSentence:
    input_ids: tuple[int, ...]
    first_subword: tuple[int, ...]  # per word: position of its first subword; -1 = truncated away
    replaced: tuple[int, ...] = ()  # words that tokenised to nothing and became the unknown token

    @property
    def n_kept(self) -> int:
        return sum(1 for p in self.first_subword if p >= 0)


def _word_ids(tokenizer, sentences, truncation: bool, max_length: int | None):
    enc = tokenizer([list(s) for s in sentences], is_split_into_words=True, add_special_tokens=True,
                    truncation=truncation, max_length=max_length if truncation else None)
    return enc["input_ids"], [enc.word_ids(i) for i in range(len(sentences))]


def encode_words(tokenizer, sentences: Sequence[Sequence[str]], max_length: int = 128) -> list[EncodedSentence]:
    """Tokenise pre-split sentences; give each word the position of its first subword."""
    if not getattr(tokenizer, "is_fast", False):
        raise LangrepError("word alignment needs a fast (Rust) tokenizer with word_ids()")
    if max_length < 3:
        raise LangrepError(f"transfer max_length must be at least 3, got {max_length}")
    if not sentences:
        return []
    sentences = [list(s) for s in sentences]
    # Pass 1, untruncated: find words with no subword at all.
    _, word_ids = _word_ids(tokenizer, sentences, truncation=False, max_length=None)
    replaced: list[tuple[int, ...]] = []
    for s, wids in zip(sentences, word_ids):
        seen = {w for w in wids if w is not None}
        empty = tuple(i for i in range(len(s)) if i not in seen)
        if empty:
            if tokenizer.unk_token is None:
                raise LangrepError(f"words {[s[i] for i in empty]!r} tokenise to nothing and the "
                                   "tokenizer has no unknown token to stand for them")
            for i in empty:
                s[i] = tokenizer.unk_token
        replaced.append(empty)
    # Pass 2, truncated: the final encoding.
    input_ids, word_ids = _word_ids(tokenizer, sentences, truncation=True, max_length=max_length)
    out = []
    for s, ids, wids, rep in zip(sentences, input_ids, word_ids, replaced):
        first = [-1] * len(s)
        for pos, w in enumerate(wids):
            if w is not None and first[w] < 0:
                first[w] = pos
        kept = [p >= 0 for p in first]
        # Truncation only removes a suffix of words; a hole elsewhere means the alignment failed.
        if any(kept[i + 1] and not kept[i] for i in range(len(s) - 1)):
            raise LangrepError(f"word alignment failed: words without subwords inside {s!r}")
        out.append(EncodedSentence(tuple(ids), tuple(first), rep))
    n_rep = sum(len(r) for r in replaced)
    if n_rep:
        log.info("%d word(s) tokenised to nothing and were replaced by %r", n_rep, tokenizer.unk_token)
    return out


def collate(encoded: Sequence[EncodedSentence], pad_id: int):
    """Padded tensors for a batch: ``input_ids``/``attention_mask`` (B, T), ``word_pos`` (B, W)
    holding each word's first-subword position (0 for padding and truncated words) and
    ``word_mask`` (B, W), true for the words that are present."""
    import torch

    width = max(len(e.input_ids) for e in encoded)
    n_words = max(len(e.first_subword) for e in encoded)
    ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    attn = torch.zeros((len(encoded), width), dtype=torch.long)
    pos = torch.zeros((len(encoded), n_words), dtype=torch.long)
    mask = torch.zeros((len(encoded), n_words), dtype=torch.bool)
    for row, e in enumerate(encoded):
        ids[row, : len(e.input_ids)] = torch.as_tensor(e.input_ids)
        attn[row, : len(e.input_ids)] = 1
        fs = torch.as_tensor(e.first_subword)
        pos[row, : len(fs)] = fs.clamp(min=0)
        mask[row, : len(fs)] = fs >= 0
    return ids, attn, pos, mask


def gather_words(hidden, word_pos):
    """Word states (B, W, H) from subword states (B, T, H): the first subword of each word."""
    return hidden.gather(1, word_pos.unsqueeze(-1).expand(-1, -1, hidden.size(-1)))
