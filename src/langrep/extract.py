"""Per-layer hidden-state extraction: the hot path.

One forward pass per batch yields every layer (``output_hidden_states``: the embedding output,
layer 0, then each transformer layer). From it we keep

* mean-pooled sentence embeddings for the requested layers (float32), and
* per-layer float64 sums of token states and the token count, for the language means R_L^l.

Sentences are tokenised once, sorted by length and packed into batches under a token budget
(batch size x longest sequence), so padding stays small. Work proceeds in chunks of sentences in
corpus order, so memory is bounded by the chunk, not the corpus, and files are written in corpus
order. Special tokens ([CLS]/[SEP], <s>/</s>) and padding are left out of pooling and sums unless
``include_special_tokens`` is set.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from langrep.errors import LangrepError
from langrep.io import atomic_write
from langrep.means import LayerSums


@dataclass
class Extraction:
    pooled: dict[int, np.ndarray]  # layer -> (n, H) float32
    sums: LayerSums  # (n_layers, H) float64 and the token count
    sentence_tokens: np.ndarray  # (n,) tokens pooled per sentence

    @property
    def n_tokens(self) -> int:
        return self.sums.n_tokens


def num_layers(model) -> int:
    """Number of hidden-state layers the model returns (embedding output + transformer layers)."""
    return int(model.config.num_hidden_layers) + 1


def tokenize(tokenizer, texts: Sequence[str], max_length: int) -> list[list[int]]:
    enc = tokenizer(list(texts), add_special_tokens=True, truncation=True, max_length=max_length)
    return enc["input_ids"]


def length_sorted_batches(lengths: Sequence[int], token_budget: int, min_tokens: int = 1024,
                          max_padding: float = 0.15) -> list[np.ndarray]:
    """Index batches, longest first, each with ``len(batch) * max_len <= token_budget``.

    Once a batch holds ``min_tokens`` padded tokens (enough for efficient matrix products), a
    sentence shorter than ``(1 - max_padding)`` of the batch's longest starts a new batch, so that
    a small corpus is not padded to its longest sentence in one batch. A single sentence longer
    than the budget still gets a batch of its own.
    """
    if token_budget < 1:
        raise LangrepError("extraction.token_budget must be positive")
    order = np.argsort(-np.asarray(lengths), kind="stable")
    batches: list[np.ndarray] = []
    start = 0
    while start < len(order):
        longest = max(int(lengths[order[start]]), 1)
        end = start + 1
        while end < len(order) and (end - start + 1) * longest <= token_budget:
            if (end - start) * longest >= min_tokens and lengths[order[end]] < (1 - max_padding) * longest:
                break
            end += 1
        batches.append(order[start:end])
        start = end
    return batches


def _special_ids(tokenizer) -> list[int]:
    return sorted({i for i in tokenizer.all_special_ids if i is not None})


def iter_batches(model, tokenizer, input_ids: Sequence[Sequence[int]], token_budget: int = 8192,
                 include_special_tokens: bool = False, progress: bool = False):
    """Yield ``(indices, hidden_states, token_mask)`` per batch.

    ``hidden_states`` is the tuple of (B, T, H) tensors for every layer; ``token_mask`` (B, T)
    marks the tokens that count (no padding; no special tokens unless asked).
    """
    import torch

    device = next(model.parameters()).device
    lengths = [len(x) for x in input_ids]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    specials = torch.tensor(_special_ids(tokenizer), device=device)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=int(sum(lengths)), unit="tok", desc="extract", mininterval=2.0)
    for idx in length_sorted_batches(lengths, token_budget):
        width = max(lengths[i] for i in idx)
        ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        attn = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            ids[row, : lengths[i]] = torch.as_tensor(input_ids[i])
            attn[row, : lengths[i]] = 1
        ids, attn = ids.to(device), attn.to(device)
        with torch.inference_mode():
            out = model(input_ids=ids, attention_mask=attn, output_hidden_states=True)
        mask = attn.bool()
        if not include_special_tokens and len(specials):
            mask &= ~torch.isin(ids, specials)
        yield idx, out.hidden_states, mask
        if bar is not None:
            bar.update(int(sum(lengths[i] for i in idx)))
    if bar is not None:
        bar.close()


def extract(model, tokenizer, texts: Sequence[str], pooled_layers: Sequence[int] | None = None,
            token_budget: int = 8192, max_length: int = 128, include_special_tokens: bool = False,
            progress: bool = False) -> Extraction:
    """Pooled embeddings (``pooled_layers``; None = every layer) and per-layer sums for ``texts``."""
    chunks = list(iter_chunks(model, tokenizer, texts, pooled_layers, token_budget, max_length,
                              include_special_tokens, progress, chunk_sentences=None))
    (_, pooled, sums, counts), = chunks
    return Extraction(pooled, sums, counts)


def iter_chunks(model, tokenizer, texts: Sequence[str], pooled_layers: Sequence[int] | None = None,
                token_budget: int = 8192, max_length: int = 128, include_special_tokens: bool = False,
                progress: bool = False, chunk_sentences: int | None = 20000
                ) -> Iterator[tuple[int, dict[int, np.ndarray], LayerSums, np.ndarray]]:
    """Yield ``(start, pooled, sums, sentence_tokens)`` for consecutive chunks of ``texts``."""
    import torch

    n_layers = num_layers(model)
    layers = list(range(n_layers)) if pooled_layers is None else [int(l) for l in pooled_layers]
    bad = [l for l in layers if not 0 <= l < n_layers]
    if bad:
        raise LangrepError(f"layers {bad} out of range: the model has layers 0..{n_layers - 1}")
    hidden = int(model.config.hidden_size)
    step = len(texts) if not chunk_sentences else int(chunk_sentences)
    for start in range(0, max(len(texts), 1), max(step, 1)):
        chunk = texts[start : start + step]
        input_ids = tokenize(tokenizer, chunk, max_length) if len(chunk) else []
        pooled = {l: np.zeros((len(chunk), hidden), dtype=np.float32) for l in layers}
        sums = torch.zeros((n_layers, hidden), dtype=torch.float64)
        counts = np.zeros(len(chunk), dtype=np.int64)
        for idx, states, mask in iter_batches(model, tokenizer, input_ids, token_budget,
                                              include_special_tokens, progress):
            m = mask.unsqueeze(-1).to(states[0].dtype)
            n = mask.sum(1)
            counts[idx] = n.cpu().numpy()
            denom = n.clamp(min=1).unsqueeze(-1).float()
            for l in layers:
                # Sentences with no countable token keep a zero vector (counted as 0 tokens).
                pooled[l][idx] = ((states[l] * m).sum(1).float() / denom).cpu().numpy()
            # All layers at once: (L+1, N_tokens, H) -> (L+1, H), accumulated in float64.
            stacked = torch.stack(states)[:, mask]
            sums += stacked.double().sum(1).cpu()
        yield start, pooled, LayerSums(sums.numpy(), int(counts.sum())), counts


def extract_to_parquet(model, tokenizer, ids: Sequence[str], texts: Sequence[str],
                       embeddings_path, pooled_layers: Sequence[int] | None = None,
                       token_budget: int = 8192, max_length: int = 128,
                       include_special_tokens: bool = False, progress: bool = False,
                       chunk_sentences: int = 20000, metadata: dict[str, str] | None = None) -> LayerSums:
    """Stream pooled embeddings to ``embeddings_path`` in corpus order; return the layer sums."""
    if len(ids) != len(texts):
        raise LangrepError(f"{len(ids)} ids but {len(texts)} texts")
    total: LayerSums | None = None
    writer = None
    meta = {k.encode(): str(v).encode() for k, v in (metadata or {}).items()}
    with atomic_write(embeddings_path) as tmp:
        try:
            for start, pooled, sums, counts in iter_chunks(
                model, tokenizer, texts, pooled_layers, token_budget, max_length,
                include_special_tokens, progress, chunk_sentences,
            ):
                total = sums if total is None else total + sums
                table = _pooled_table(ids[start : start + len(counts)], counts, pooled)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema.with_metadata(meta))
                writer.write_table(table.replace_schema_metadata(meta))
        finally:
            if writer is not None:
                writer.close()
    return total


def _pooled_table(ids, counts, pooled: dict[int, np.ndarray]) -> pa.Table:
    cols = {"id": pa.array([str(i) for i in ids], pa.string()), "n_tokens": pa.array(counts, pa.int32())}
    for layer, x in sorted(pooled.items()):
        cols[f"layer_{layer}"] = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1), pa.float32()), x.shape[1])
    return pa.table(cols)


def pooled_layers_in(path) -> list[int]:
    return sorted(int(c.split("_", 1)[1]) for c in pq.read_schema(path).names if c.startswith("layer_"))


def read_pooled(path, layer: int) -> tuple[list[str], np.ndarray]:
    """Sentence ids and their (n, H) float32 embeddings at ``layer`` from an embeddings file."""
    path = Path(path)
    if not path.exists():
        raise LangrepError(f"embeddings not found: {path}")
    column = f"layer_{int(layer)}"
    names = pq.read_schema(path).names
    if column not in names:
        raise LangrepError(f"{path}: no pooled embeddings for layer {layer} (has {pooled_layers_in(path)})")
    table = pq.read_table(path, columns=["id", column])
    arr = table.column(column).combine_chunks()
    x = arr.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return table.column("id").to_pylist(), x.reshape(len(table), arr.type.list_size)
