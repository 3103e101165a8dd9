"""Exact cosine k-nearest-neighbour search: FAISS on a CPU, blocked matmul + top-k on a GPU.

Similarities are inner products of L2-normalized float32 vectors; both backends return the same
lists, up to rows whose similarities tie exactly (duplicate vectors): of those, FAISS keeps whichever
its heap happened to keep, the torch backend the lowest rows, in increasing order. The torch backend
runs on any torch device (a CPU too, which the tests use); on CUDA the product is kept in full
float32 (no TF32).
"""

from __future__ import annotations

import contextlib

import numpy as np

from langrep.errors import LangrepError

# similarities held at once by the torch backend (block rows x database rows x 4 bytes)
SIMILARITY_BYTES = {"cuda": 2 << 30, "cpu": 256 << 20}


def check_finite(x: np.ndarray, name: str) -> None:
    """One clear error for NaN/inf rows (FAISS would return -1, "no neighbour", for them)."""
    finite = np.isfinite(x)
    if not finite.all():
        rows = np.flatnonzero(~finite.reshape(len(x), -1).all(axis=1))
        more = f" ({len(rows)} rows in all)" if len(rows) > 1 else ""
        raise LangrepError(f"{name}: row {rows[0]} has non-finite values (NaN or inf){more}")


def normalize(x: np.ndarray, name: str = "embeddings") -> np.ndarray:
    """Float32, C-contiguous, L2-normalized copy of ``x``; all-zero rows stay zero (cosine 0)."""
    x = np.array(x, dtype=np.float32, order="C", copy=True)
    if x.ndim != 2:
        raise LangrepError(f"expected a 2-d array of sentence embeddings, got shape {x.shape}")
    check_finite(x, name)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    np.divide(x, norms, out=x, where=norms > 0)
    return x


def knn(
    queries: np.ndarray,
    database: np.ndarray,
    k: int,
    block_size: int,
    device: str = "cpu",
    backend: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` inner products of every query against ``database`` (exact).

    Both inputs should already be normalized (then the scores are cosines). Returns
    ``(sims, inds)``, each ``(n_queries, min(k, n_database))``, best first. ``block_size`` queries
    are searched at a time (the pipeline passes config ``retrieval.block_size``; the lists do not
    depend on it). ``backend``: ``faiss`` (CPU only) or ``torch``; by default FAISS on a CPU and
    torch on any other device.
    """
    if queries.ndim != 2 or database.ndim != 2:
        raise LangrepError(f"knn needs 2-d arrays, got {queries.shape} and {database.shape}")
    if queries.shape[1] != database.shape[1]:
        raise LangrepError(
            f"embedding sizes differ: queries have {queries.shape[1]} dimensions, the database {database.shape[1]}"
        )
    if len(database) == 0:
        raise LangrepError("knn: the database is empty")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise LangrepError(f"knn: k (neighbours per query) must be an integer >= 1, got {k!r}")
    if block_size < 1:
        raise LangrepError(f"retrieval.block_size must be >= 1, got {block_size}")
    check_finite(queries, "knn queries")
    check_finite(database, "knn database")
    k = min(int(k), len(database))
    backend = backend or ("faiss" if device == "cpu" else "torch")
    if backend == "faiss":
        if device != "cpu":
            raise LangrepError(f"the faiss backend runs on the CPU, not on {device!r}")
        sims, inds = _knn_faiss(queries, database, k, block_size)
    elif backend == "torch":
        sims, inds = _knn_torch(queries, database, k, block_size, device)
    else:
        raise LangrepError(f"unknown k-NN backend {backend!r} (expected faiss or torch)")
    if len(inds) and inds.min() < 0:  # cannot happen for finite inputs; never pass -1 on as a row
        raise LangrepError("knn: the search returned no neighbour for some queries")
    return sims, inds


def _knn_faiss(queries, database, k: int, block_size: int):
    import faiss

    index = faiss.IndexFlatIP(database.shape[1])
    index.add(np.ascontiguousarray(database, dtype=np.float32))
    sims = np.empty((len(queries), k), dtype=np.float32)
    inds = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), block_size):
        block = np.ascontiguousarray(queries[start : start + block_size], dtype=np.float32)
        sims[start : start + len(block)], inds[start : start + len(block)] = index.search(block, k)
    return sims, inds


@contextlib.contextmanager
def _full_fp32_matmul():
    import torch

    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(previous)


def _knn_torch(queries, database, k: int, block_size: int, device: str):
    import torch

    dev = torch.device(device)
    n_db = len(database)
    rows = max(1, min(int(block_size), SIMILARITY_BYTES.get(dev.type, SIMILARITY_BYTES["cuda"]) // (4 * n_db)))
    with torch.inference_mode(), _full_fp32_matmul():
        db_t = torch.from_numpy(np.ascontiguousarray(database, dtype=np.float32)).to(dev)
        sims = torch.empty((len(queries), k), dtype=torch.float32, device=dev)
        inds = torch.empty((len(queries), k), dtype=torch.int64, device=dev)
        for start in range(0, len(queries), rows):
            q = torch.from_numpy(np.ascontiguousarray(queries[start : start + rows], dtype=np.float32))
            q = q.pin_memory().to(dev, non_blocking=True) if dev.type == "cuda" else q.to(dev)
            s = q @ db_t.T
            v, i = _topk_lowest_rows(s, k)
            sims[start : start + len(q)], inds[start : start + len(q)] = v, i
        return sims.cpu().numpy(), inds.cpu().numpy()


def _topk_lowest_rows(s, k: int):
    """Top-``k`` of each row of ``s``, best first; of tied similarities the lowest rows, in order."""
    import torch

    n = s.shape[1]
    v, i = torch.topk(s, min(k + 1, n), dim=1, largest=True, sorted=True)
    if k < n:
        # where the k-th and (k+1)-th values tie, topk may keep any of the tied rows: redo those
        # rows exactly (rare: duplicate or all-zero vectors)
        for r in torch.nonzero(v[:, k - 1] == v[:, k]).flatten().tolist():
            kth = v[r, k - 1]
            above = torch.nonzero(s[r] > kth).flatten()
            above = above[torch.argsort(s[r, above], descending=True, stable=True)]
            tied = torch.nonzero(s[r] == kth).flatten()[: k - len(above)]  # the lowest rows
            i[r, :k] = torch.cat([above, tied])
            v[r, :k] = s[r, i[r, :k]]
    v, i = v[:, :k], i[:, :k]
    i, by_row = torch.sort(i, dim=1, stable=True)
    v = torch.gather(v, 1, by_row)
    v, by_value = torch.sort(v, dim=1, descending=True, stable=True)
    return v, torch.gather(i, 1, by_value)


def set_threads(threads: int | None) -> None:
    """FAISS uses every core by default; a rule job gets only its ``threads``."""
    if threads:
        import faiss

        faiss.omp_set_num_threads(int(threads))
