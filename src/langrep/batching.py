"""Tokenization into flat id arrays, length-sorted batches and padding: the one batcher of every stage.

Token ids of many sequences are held flat (:class:`TokenIds`): one integer array of every
sequence's ids end to end and ``n + 1`` offsets, as tokenizers and Parquet list columns produce
them (:func:`tokenize_ids`). :func:`length_sorted_batches` turns the lengths into batches of
indices under a token budget; :func:`shuffled_batches` into the shuffled, similar-length batches of
training; :func:`pad_batch` builds a batch's ``(ids, attention_mask)`` arrays from the flat ids with
numpy indexing (:func:`pad_tensors`: the same as torch tensors), so the host side of a forward pass
costs little beside the device's work. What a task adds to a batch (word positions, pooling
weights) stays with the task.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from langrep.errors import LangrepError


@dataclass(frozen=True)
class TokenIds:
    """Token ids of ``n`` sequences end to end: sequence ``i`` is ``flat[offsets[i]:offsets[i + 1]]``."""

    flat: np.ndarray  # (total,) integer ids
    offsets: np.ndarray  # (n + 1,) int64, offsets[0] == 0, non-decreasing

    def __post_init__(self):
        if self.offsets.ndim != 1 or len(self.offsets) == 0 or self.offsets[0] != 0:
            raise LangrepError("TokenIds: offsets must be a 1-d array starting at 0")
        if self.offsets[-1] != len(self.flat) or np.any(np.diff(self.offsets) < 0):
            raise LangrepError(f"TokenIds: offsets must rise to len(flat) = {len(self.flat)}")

    @classmethod
    def from_lists(cls, sequences: Sequence[Sequence[int]]) -> TokenIds:
        """Flat ids and offsets built from one id list per sentence."""
        lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
        offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = np.fromiter(itertools.chain.from_iterable(sequences), dtype=np.int64, count=int(offsets[-1]))
        return cls(flat, offsets)

    @classmethod
    def of(cls, sequences) -> TokenIds:
        """``sequences`` as :class:`TokenIds` (returned as is when it already is one)."""
        return sequences if isinstance(sequences, TokenIds) else cls.from_lists(sequences)

    @property
    def lengths(self) -> np.ndarray:
        """Tokens per sentence, shape (n,)."""
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> np.ndarray:
        return self.flat[self.offsets[i] : self.offsets[i + 1]]


def length_sorted_batches(
    lengths: Sequence[int],
    token_budget: int,
    min_tokens: int | None = None,
    max_padding: float | None = 0.15,
    shortest_first: bool = False,
) -> list[np.ndarray]:
    """Batches of indices, each with ``len(batch) * longest <= token_budget``.

    Sentences are sorted by length, longest first, and taken greedily. A batch stops growing

    * at the budget;
    * at the next shorter sentence once it holds ``min_tokens`` padded tokens (default: half the
      budget; smaller matrix products run well below the machine's rate): large corpora get batches
      of one length, with no padding at all;
    * where the next sentence would make more than ``max_padding`` of the batch padding (None: no
      such limit).

    ``shortest_first`` sorts the other way (the MLM head's and the translation sweep's batches, with
    ``max_padding=None``; the last two rules then never apply): a batch grows until its newest,
    longest sentence would break the budget. A single sentence longer than the budget still gets a
    batch of its own. Sorts are stable: equal lengths keep their order.
    """
    if token_budget < 1:
        raise LangrepError("extraction.token_budget must be positive")
    if max_padding is not None and not 0 <= max_padding < 1:
        raise LangrepError(f"max_padding must be in [0, 1), got {max_padding}")
    min_tokens = token_budget // 2 if min_tokens is None else int(min_tokens)
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(lengths if shortest_first else -lengths, kind="stable")
    sorted_lengths = lengths[order].tolist()
    batches: list[np.ndarray] = []
    start, n = 0, len(order)
    while start < n:
        longest = max(sorted_lengths[start], 1)
        real = sorted_lengths[start]
        end = start + 1
        while end < n:
            count, nxt = end - start, sorted_lengths[end]
            width = max(longest, nxt)
            if (count + 1) * width > token_budget:
                break
            if nxt < longest and count * longest >= min_tokens:
                break
            if max_padding is not None and (count + 1) * width - (real + nxt) > max_padding * (count + 1) * width:
                break
            real += nxt
            longest = width
            end += 1
        batches.append(order[start:end])
        start = end
    return batches


def shuffled_batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Training batches of ``batch_size`` sentences of similar lengths (less padding), in random
    order: shuffle, sort pools of 50 batches by length, cut, shuffle the batches."""
    order = rng.permutation(len(lengths))
    pool = batch_size * 50
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort([lengths[i] for i in chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def pad_batch(sequences, index: Sequence[int], pad_id: int, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, attention_mask)`` of the sequences ``index``: int64 ``(B, width)`` ids padded with
    ``pad_id`` on the right, and the bool mask of real tokens. ``sequences`` is a :class:`TokenIds`
    or a list of id sequences; ``width`` defaults to the longest selected sequence."""
    tokens = TokenIds.of(sequences)
    index = np.asarray(index, dtype=np.int64)
    starts = tokens.offsets[index]
    lengths = tokens.offsets[index + 1] - starts
    width = int(lengths.max(initial=0)) if width is None else int(width)
    if len(lengths) and lengths.max() > width:
        raise LangrepError(f"pad_batch: a sequence of {int(lengths.max())} tokens does not fit width {width}")
    cols = np.arange(width, dtype=np.int64)
    mask = cols[None, :] < lengths[:, None]
    ids = np.full((len(index), width), pad_id, dtype=np.int64)
    ids[mask] = tokens.flat[(starts[:, None] + cols[None, :])[mask]]
    return ids, mask


def pad_tensors(sequences, index: Sequence[int] | None = None, pad_id: int = 0, width: int | None = None):
    """:func:`pad_batch` as torch int64 tensors ``(ids, attention_mask)`` (the mask 1/0);
    ``index`` None: every sequence."""
    import torch

    index = range(len(sequences)) if index is None else index
    ids, mask = pad_batch(sequences, index, pad_id, width)
    return torch.from_numpy(ids), torch.from_numpy(mask.astype(np.int64))


def pad_token_id(tokenizer) -> int:
    """The tokenizer's padding id (0 for a tokenizer without one: padding is masked anyway)."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0


def special_ids(tokenizer) -> list[int]:
    """The ids of the tokenizer's special tokens ([CLS]/[SEP], <s>/</s>, padding...), sorted."""
    return sorted({int(i) for i in tokenizer.all_special_ids if i is not None})


def tokenize(tokenizer, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """``tokenizer(texts)`` ids with special tokens, truncated to ``max_length`` (the transformers call)."""
    enc = tokenizer(list(texts), add_special_tokens=True, truncation=True, max_length=max_length)
    return enc["input_ids"]


_BACKEND_LOCK = threading.Lock()


def tokenize_ids(tokenizer, texts: Sequence[str], max_length: int) -> TokenIds:
    """The ids of ``tokenizer(texts, truncation=True, max_length=max_length)``, flat.

    A fast (Rust) tokenizer is called directly: the transformers call spends most of its time
    building Python lists of attention masks and type ids that no stage uses. Its truncation and
    padding settings are restored afterwards.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None) if getattr(tokenizer, "is_fast", False) else None
    encode = getattr(backend, "encode_batch_fast", None) or getattr(backend, "encode_batch", None)
    if encode is None:
        return TokenIds.from_lists(tokenize(tokenizer, texts, max_length))
    with _BACKEND_LOCK:
        truncation, padding = backend.truncation, backend.padding
        try:
            backend.no_padding()
            backend.enable_truncation(int(max_length), direction=getattr(tokenizer, "truncation_side", "right"))
            encodings = encode(list(texts), add_special_tokens=True)
        finally:
            backend.no_truncation() if truncation is None else backend.enable_truncation(**truncation)
            backend.no_padding() if padding is None else backend.enable_padding(**padding)
    return TokenIds.from_lists([e.ids for e in encodings])
