"""Subword-to-word alignment: which pieces stand for each UD word.

The fast tokenizer's ``word_ids()`` maps pieces to words. A word is never represented by a piece
that carries no characters of it: SentencePiece tokenizers (XLM-R, e5) prefix every pre-split word
with the word-boundary mark "▁", and for most Chinese and Thai words (whose characters have no
"▁"-initial piece) that mark becomes a piece of its own, the same piece for every such word. A
tagger reading it would see one vector for all of them. So each word keeps only its pieces that
carry characters, and ``word_pooling`` says how they become one vector:

* ``first``: the first piece that carries characters of the word;
* ``mean``: the mean of all the word's pieces that carry characters.

Two cases need care:

* a word can tokenize to nothing, or only to character-less pieces (a zero-width or control
  character the normalizer strips): it is replaced by the tokenizer's unknown token, so it keeps
  a position of its own and is tagged/attached like any word (the replacement count is reported);
* a long sentence is truncated at ``max_length`` pieces: a word whose first character piece is
  cut off gets no pieces; training ignores it and evaluation counts it as an error (see
  ``langrep.transfer.train``). A word cut in the middle keeps the pieces that remain.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from langrep.batching import pad_tensors
from langrep.errors import LangrepError
from langrep.schema import schema_defaults
from langrep.settings import check_pooling

log = logging.getLogger("langrep")
MAX_LENGTH = schema_defaults("transfer", "train")["max_length"]  # config transfer.train.max_length


@dataclass(frozen=True)
class EncodedSentence:
    """A sentence's input ids and, per word, the positions of its pieces that carry characters."""

    input_ids: tuple[int, ...]
    pieces: tuple[tuple[int, ...], ...]  # per word: positions of its character pieces; () = truncated away
    replaced: tuple[int, ...] = ()  # words that tokenized to nothing and became the unknown token

    @property
    def first_subword(self) -> tuple[int, ...]:
        """Per word: the position of its first character piece; -1 = truncated away."""
        return tuple(p[0] if p else -1 for p in self.pieces)

    @property
    def n_kept(self) -> int:
        """Words with at least one piece left after truncation."""
        return sum(1 for p in self.pieces if p)


class _CharlessPieces:
    """Which piece ids carry no characters (the piece decodes to whitespace only), memoized."""

    def __init__(self, tokenizer):
        self.tokenizer, self.known = tokenizer, {}

    def __call__(self, piece_id: int) -> bool:
        hit = self.known.get(piece_id)
        if hit is None:
            piece = self.tokenizer.convert_ids_to_tokens(piece_id)
            hit = self.known[piece_id] = not self.tokenizer.convert_tokens_to_string([piece]).strip()
        return hit


def _encode(tokenizer, sentences, truncation: bool, max_length: int | None):
    enc = tokenizer(
        [list(s) for s in sentences],
        is_split_into_words=True,
        add_special_tokens=True,
        truncation=truncation,
        max_length=max_length if truncation else None,
    )
    return enc["input_ids"], [enc.word_ids(i) for i in range(len(sentences))]


def _char_pieces(ids, word_ids, n_words: int, charless) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in range(n_words)]
    for pos, (piece, w) in enumerate(zip(ids, word_ids)):
        if w is not None and not charless(piece):
            out[w].append(pos)
    return out


def encode_words(tokenizer, sentences: Sequence[Sequence[str]], max_length: int = MAX_LENGTH) -> list[EncodedSentence]:
    """Tokenize pre-split sentences; give each word the positions of its character pieces."""
    if not getattr(tokenizer, "is_fast", False):
        raise LangrepError("word alignment needs a fast (Rust) tokenizer with word_ids()")
    if max_length < 3:
        raise LangrepError(f"transfer max_length must be at least 3, got {max_length}")
    if not sentences:
        return []
    sentences = [list(s) for s in sentences]
    charless = _CharlessPieces(tokenizer)
    # Pass 1, untruncated: find words without a single character piece.
    replaced: list[tuple[int, ...]] = []
    for s, ids, wids in zip(sentences, *_encode(tokenizer, sentences, truncation=False, max_length=None)):
        empty = tuple(i for i, p in enumerate(_char_pieces(ids, wids, len(s), charless)) if not p)
        if empty:
            if tokenizer.unk_token is None:
                raise LangrepError(
                    f"words {[s[i] for i in empty]!r} tokenize to nothing and the "
                    "tokenizer has no unknown token to stand for them"
                )
            for i in empty:
                s[i] = tokenizer.unk_token
        replaced.append(empty)
    # Pass 2, truncated: the final encoding.
    out = []
    for s, ids, wids, rep in zip(
        sentences, *_encode(tokenizer, sentences, truncation=True, max_length=max_length), replaced
    ):
        pieces = _char_pieces(ids, wids, len(s), charless)
        kept = [bool(p) for p in pieces]
        # Truncation only removes a suffix of words; a hole elsewhere means the alignment failed.
        if any(kept[i + 1] and not kept[i] for i in range(len(s) - 1)):
            raise LangrepError(f"word alignment failed: words without character pieces inside {s!r}")
        out.append(EncodedSentence(tuple(ids), tuple(tuple(p) for p in pieces), rep))
    n_rep = sum(len(r) for r in replaced)
    if n_rep:
        log.info("%d word(s) tokenized to nothing and were replaced by %r", n_rep, tokenizer.unk_token)
    return out


def collate(encoded: Sequence[EncodedSentence], pad_id: int, pooling: str = "first"):
    """Padded tensors for a batch: ``input_ids``/``attention_mask`` (B, T); ``word_pool`` (B, W, T),
    the weights that turn piece states into word states (one 1 at the first character piece, or
    1/k on each of a word's k character pieces; zero rows for padding and truncated words); and
    ``word_mask`` (B, W), true for the words that are present."""
    import torch

    check_pooling(pooling)
    ids, attn = pad_tensors([e.input_ids for e in encoded], pad_id=pad_id)
    width = ids.size(1)
    n_words = max(len(e.pieces) for e in encoded)
    pool = torch.zeros((len(encoded), n_words, width), dtype=torch.float32)
    mask = torch.zeros((len(encoded), n_words), dtype=torch.bool)
    for row, e in enumerate(encoded):
        for w, positions in enumerate(e.pieces):
            if not positions:
                continue
            mask[row, w] = True
            if pooling == "first":
                pool[row, w, positions[0]] = 1.0
            else:
                pool[row, w, list(positions)] = 1.0 / len(positions)
    return ids, attn, pool, mask


def gather_words(hidden, word_pool):
    """Word states (B, W, H) from piece states (B, T, H) and pooling weights (B, W, T)."""
    return word_pool.to(hidden.dtype) @ hidden
