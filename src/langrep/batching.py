"""Length-sorted batches under a token budget, and padded id arrays built without Python loops.

Token ids of many sequences are held flat (:class:`TokenIds`): one integer array of every
sequence's ids end to end and ``n + 1`` offsets, as tokenisers and Parquet list columns produce
them. :func:`length_sorted_batches` turns the lengths into batches of indices; :func:`pad_batch`
builds a batch's ``(ids, attention_mask)`` arrays from the flat ids with numpy indexing, so the host
side of a forward pass costs little beside the device's work.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

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
    def from_lists(cls, sequences: Sequence[Sequence[int]]) -> "TokenIds":
        lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
        offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = np.fromiter(itertools.chain.from_iterable(sequences), dtype=np.int64, count=int(offsets[-1]))
        return cls(flat, offsets)

    @classmethod
    def of(cls, sequences) -> "TokenIds":
        """``sequences`` as :class:`TokenIds` (returned as is when it already is one)."""
        return sequences if isinstance(sequences, TokenIds) else cls.from_lists(sequences)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> np.ndarray:
        return self.flat[self.offsets[i]:self.offsets[i + 1]]


def length_sorted_batches(lengths: Sequence[int], token_budget: int, min_tokens: int | None = None,
                          max_padding: float = 0.15) -> list[np.ndarray]:
    """Batches of indices, longest first, each with ``len(batch) * longest <= token_budget``.

    Sentences are sorted by decreasing length and taken greedily. A batch stops growing

    * at the budget;
    * at the next shorter sentence once it holds ``min_tokens`` padded tokens (default: half the
      budget; smaller matrix products run well below the machine's rate): large corpora get batches
      of one length, with no padding at all;
    * where the next sentence would make more than ``max_padding`` of the batch padding.

    A single sentence longer than the budget still gets a batch of its own.
    """
    if token_budget < 1:
        raise LangrepError("extraction.token_budget must be positive")
    if not 0 <= max_padding < 1:
        raise LangrepError(f"max_padding must be in [0, 1), got {max_padding}")
    min_tokens = token_budget // 2 if min_tokens is None else int(min_tokens)
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[order].tolist()
    batches: list[np.ndarray] = []
    start, n = 0, len(order)
    while start < n:
        longest = max(sorted_lengths[start], 1)
        real = sorted_lengths[start]
        end = start + 1
        while end < n:
            count, nxt = end - start, sorted_lengths[end]
            if (count + 1) * longest > token_budget:
                break
            if nxt < longest and count * longest >= min_tokens:
                break
            if (count + 1) * longest - (real + nxt) > max_padding * (count + 1) * longest:
                break
            real += nxt
            end += 1
        batches.append(order[start:end])
        start = end
    return batches


def pad_batch(sequences, index: Sequence[int], pad_id: int, width: int | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
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
