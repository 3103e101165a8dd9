"""Per-layer hidden-state extraction: the hot path.

One forward pass per batch yields every layer (``output_hidden_states``: the embedding output,
layer 0, then each transformer layer). From it we keep

* mean-pooled sentence embeddings for the requested layers (float32), and
* per-layer float64 sums of token states and the token count, for the language means R_L^l.

Texts are tokenized in chunks by a background thread (the next chunk while the device works on
this one), sorted by length and packed into batches under a token budget (batch size x longest
sequence; see :mod:`langrep.batching`), so padding stays small; a batch without padding is run
without an attention mask. Pooling stays on the model's device: each layer's token states are
summed per sentence in float32 (never in the model's bf16/fp16), the per-layer totals are
accumulated in float64, and a chunk's results come back to the host in one transfer. On a GPU the
first chunks are small and double in size, so the device starts after a short tokenization; memory is
bounded by the chunk, not the corpus, and files are written in corpus order. Special tokens
([CLS]/[SEP], <s>/</s>) and padding are left out of pooling and sums unless
``include_special_tokens`` is set.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from langrep.artifacts import read_schema, read_table
from langrep.batching import TokenIds, length_sorted_batches, pad_batch, pad_token_id, special_ids, tokenize_ids
from langrep.errors import LangrepError
from langrep.io import atomic_write
from langrep.means.layer_shift import n_hidden_states
from langrep.means.representations import LayerSums, combine_sums
from langrep.models import inference
from langrep.settings import ExtractionSettings

# the keyword defaults below: config extraction's
DEFAULT = ExtractionSettings.defaults()
CHUNK_SENTENCES = 20000
FIRST_CHUNK = 1024  # sentences of the first chunk; later chunks double up to the chunk size


@dataclass
class Extraction:
    """What :func:`extract` returns: pooled embeddings per layer, the per-layer token sums, tokens per sentence."""

    pooled: dict[int, np.ndarray]  # layer -> (n, H) float32
    sums: LayerSums  # (L + 1, H) float64 and the token count
    sentence_tokens: np.ndarray  # (n,) tokens pooled per sentence

    @property
    def n_tokens(self) -> int:
        """Tokens summed into the language sums."""
        return self.sums.n_tokens


def check_texts(texts) -> list[str]:
    """``texts`` as a list of strings; a clear error for a single string or a non-string item
    (a string is itself a sequence, and would be embedded character by character)."""
    if isinstance(texts, (str, bytes)):
        raise LangrepError(
            f"texts must be a sequence of strings, got a single {type(texts).__name__} "
            f"({texts[:40]!r}); pass [text] to embed one sentence"
        )
    try:
        texts = list(texts)
    except TypeError:
        raise LangrepError(f"texts must be a sequence of strings, got {type(texts).__name__}") from None
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise LangrepError(f"texts[{i}] is {type(t).__name__} {t!r}, not a string")
    return texts


def _to_device(array: np.ndarray, device):
    """A host array on ``device``: through pinned memory and an asynchronous copy on CUDA."""
    import torch

    t = torch.from_numpy(np.ascontiguousarray(array))
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)


def _forward_batches(
    model, tokens: TokenIds, token_budget: int, pad_id: int, specials: Sequence[int] | None, progress: bool = False
):
    """Yield ``(indices, hidden_states, token_mask)`` per length-sorted batch of ``tokens``;
    ``specials`` (None = count them) are left out of ``token_mask``."""
    device = next(model.parameters()).device
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=int(len(tokens.flat)), unit="tok", desc="extract", mininterval=2.0)
    lengths = tokens.lengths
    for idx in length_sorted_batches(lengths, token_budget):
        ids, attn = pad_batch(tokens, idx, pad_id)
        count = attn & ~np.isin(ids, specials) if specials else attn
        ids_t = _to_device(ids, device)
        # No padding (the common case for length-sorted batches of a large corpus): no mask, so
        # attention can take its fastest (mask-free) kernel.
        attn_t = None if attn.all() else _to_device(attn.astype(np.int64), device)
        count_t = _to_device(count, device)
        with inference():
            out = model(input_ids=ids_t, attention_mask=attn_t, output_hidden_states=True)
        yield idx, out.hidden_states, count_t
        if bar is not None:
            bar.update(int(lengths[idx].sum()))
    if bar is not None:
        bar.close()


def iter_batches(
    model,
    tokenizer,
    input_ids,
    token_budget: int = DEFAULT.token_budget,
    include_special_tokens: bool = DEFAULT.include_special_tokens,
    progress: bool = False,
):
    """Yield ``(indices, hidden_states, token_mask)`` per batch.

    ``input_ids``: a list of id sequences or a :class:`~langrep.batching.TokenIds`.
    ``hidden_states`` is the tuple of (B, T, H) tensors for every layer; ``token_mask`` (B, T, on
    the model's device) marks the tokens that count (no padding; no special tokens unless asked).
    """
    specials = None if include_special_tokens else special_ids(tokenizer)
    yield from _forward_batches(
        model, TokenIds.of(input_ids), token_budget, pad_token_id(tokenizer), specials, progress
    )


def extract(model, tokenizer, texts: Sequence[str], **options) -> Extraction:
    """Pooled embeddings and per-layer sums for ``texts``; ``options`` are :func:`iter_chunks`'
    (pooled_layers, None = every layer; token_budget; max_length; include_special_tokens;
    progress; chunk_sentences)."""
    parts = list(iter_chunks(model, tokenizer, texts, **options))
    if len(parts) == 1:
        _, pooled, sums, counts = parts[0]
        return Extraction(pooled, sums, counts)
    pooled = {l: np.concatenate([p[1][l] for p in parts]) for l in parts[0][1]}
    return Extraction(pooled, combine_sums(p[2] for p in parts), np.concatenate([p[3] for p in parts]))


def chunk_bounds(
    n: int, chunk_sentences: int | None = CHUNK_SENTENCES, first: int | None = None
) -> list[tuple[int, int]]:
    """``(start, stop)`` of consecutive chunks of ``n`` sentences: ``first``, then doubling up to
    ``chunk_sentences`` (None = one chunk). Always at least one (possibly empty) chunk."""
    if not chunk_sentences:
        return [(0, n)]
    first = FIRST_CHUNK if first is None else first
    bounds, start, size = [], 0, max(1, min(int(first), int(chunk_sentences)))
    while start < n or not bounds:
        bounds.append((start, min(n, start + size)))
        start += size
        size = min(2 * size, int(chunk_sentences))
    return bounds


def _tokenized_chunks(tokenizer, texts: list[str], max_length: int, bounds) -> Iterator[tuple[int, TokenIds]]:
    """Yield ``(start, token ids)`` per chunk, the next chunk being tokenized in the background."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="langrep-tokenize")
    try:
        submit = lambda a, b: pool.submit(tokenize_ids, tokenizer, texts[a:b], max_length)  # noqa: E731
        pending = submit(*bounds[0])
        for i, (start, _) in enumerate(bounds):
            tokens = pending.result()
            if i + 1 < len(bounds):
                pending = submit(*bounds[i + 1])
            yield start, tokens
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _pool_chunk(
    model,
    tokens: TokenIds,
    layers: list[int],
    token_budget: int,
    pad_id: int,
    specials: Sequence[int] | None,
    progress: bool,
) -> tuple[dict[int, np.ndarray], LayerSums, np.ndarray]:
    """Pooled vectors of ``layers``, every layer's float64 sums and the token counts of one chunk."""
    import torch

    device = next(model.parameters()).device
    n, n_states, hidden = len(tokens), n_hidden_states(model), int(model.config.hidden_size)
    with torch.inference_mode():
        pooled = torch.zeros((len(layers), n, hidden), dtype=torch.float32, device=device)
        counts = torch.zeros(n, dtype=torch.int64, device=device)
        sums = torch.zeros((n_states, hidden), dtype=torch.float64, device=device)
        pick = torch.tensor(layers, dtype=torch.long, device=device)
    for idx, states, mask in _forward_batches(model, tokens, token_budget, pad_id, specials, progress):
        with torch.inference_mode():
            rows = _to_device(idx, device)
            weights = mask.unsqueeze(1).to(torch.float32)  # (B, 1, T)
            # (L+1, B, H): each sentence's token states summed in float32, whatever the model's dtype
            per_sentence = torch.stack([torch.bmm(weights, s.float()).squeeze(1) for s in states])
            n_tok = mask.sum(1)
            counts[rows] = n_tok
            sums += per_sentence.sum(1, dtype=torch.float64)
            if layers:
                # Sentences with no countable token keep a zero vector (counted as 0 tokens).
                pooled[:, rows] = per_sentence[pick] / n_tok.clamp(min=1).unsqueeze(-1).to(torch.float32)
    pooled_host = pooled.cpu().numpy()
    counts_host = counts.cpu().numpy()
    return (
        {l: pooled_host[i] for i, l in enumerate(layers)},
        LayerSums(sums.cpu().numpy(), int(counts_host.sum())),
        counts_host,
    )


def iter_chunks(
    model,
    tokenizer,
    texts: Sequence[str],
    pooled_layers: Sequence[int] | None = DEFAULT.pooled_layers,
    token_budget: int = DEFAULT.token_budget,
    max_length: int = DEFAULT.max_length,
    include_special_tokens: bool = DEFAULT.include_special_tokens,
    progress: bool = False,
    chunk_sentences: int | None = CHUNK_SENTENCES,
) -> Iterator[tuple[int, dict[int, np.ndarray], LayerSums, np.ndarray]]:
    """Yield ``(start, pooled, sums, sentence_tokens)`` for consecutive chunks of ``texts``."""
    texts = check_texts(texts)
    n_states = n_hidden_states(model)
    layers = list(range(n_states)) if pooled_layers is None else [int(l) for l in pooled_layers]
    bad = [l for l in layers if not 0 <= l < n_states]
    if bad:
        raise LangrepError(
            f"extraction.pooled_layers: layers {bad} out of range: the model has layers 0..{n_states - 1}"
        )
    if token_budget < 1:
        raise LangrepError("extraction.token_budget must be positive")
    specials = None if include_special_tokens else special_ids(tokenizer)
    # Small first chunks let a GPU start early; on a CPU tokenizing is ~1% of the work, and small
    # chunks would only make smaller batches.
    on_gpu = next(model.parameters()).device.type == "cuda"
    bounds = chunk_bounds(len(texts), chunk_sentences, first=None if on_gpu else chunk_sentences)
    for start, tokens in _tokenized_chunks(tokenizer, texts, max_length, bounds):
        pooled, sums, counts = _pool_chunk(
            model, tokens, layers, token_budget, pad_token_id(tokenizer), specials, progress
        )
        yield start, pooled, sums, counts


def extract_to_parquet(
    model, tokenizer, ids: Sequence[str], texts: Sequence[str], embeddings_path, metadata=None, **options
) -> LayerSums:
    """Stream pooled embeddings to ``embeddings_path`` in corpus order (``metadata``: key-value
    pairs for the Parquet schema; ``options``: :func:`iter_chunks`'); return the layer sums."""
    if len(ids) != len(texts):
        raise LangrepError(f"{len(ids)} ids but {len(texts)} texts")
    total: LayerSums | None = None
    writer = None
    meta = {k.encode(): str(v).encode() for k, v in (metadata or {}).items()}
    with atomic_write(embeddings_path) as tmp:
        try:
            for start, pooled, sums, counts in iter_chunks(model, tokenizer, texts, **options):
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
    """The layers an embeddings file holds (its ``layer_<l>`` columns), sorted."""
    return sorted(int(c.split("_", 1)[1]) for c in read_schema(path).names if c.startswith("layer_"))


def read_pooled(path, layer: int) -> tuple[list[str], np.ndarray]:
    """Sentence ids and their (n, H) float32 embeddings at ``layer`` from an embeddings file."""
    path = Path(path)
    if not path.exists():
        raise LangrepError(f"embeddings not found: {path}")
    column = f"layer_{int(layer)}"
    names = read_schema(path).names
    if column not in names:
        raise LangrepError(f"{path}: no pooled embeddings for layer {layer} (has {pooled_layers_in(path)})")
    table = read_table(path, columns=["id", column])
    arr = table.column(column).combine_chunks()
    x = arr.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return table.column("id").to_pylist(), x.reshape(len(table), arr.type.list_size)
