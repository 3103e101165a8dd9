"""Language means R_L^l and the two operations built on them (paper, Sec. 2).

``R_L^l`` is the mean of all token hidden states of language L's corpus at layer l. They are
accumulated as float64 sums and token counts (so shards combine exactly) and stored as one Parquet
file per (model, corpus, language): one row per layer, l = 0 being the embedding output.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from langrep.artifacts import read_table
from langrep.errors import LangrepError
from langrep.io import read_parquet_metadata, write_parquet


def zero_mean(h, mean):
    """Zero-mean (Eq. 1): ``h - R_L``. ``h`` is (..., H); works on numpy arrays and torch tensors.

    Integer (or boolean) ``h`` is computed in floating point (numpy: float64, torch: the default
    float dtype); the mean must be finite. A NaN inside ``h`` stays where it is (elementwise)."""
    h = _floating(h)
    return h - _like(mean, h, "mean")


def mean_difference_shift(h, src_mean, tgt_mean, alpha: float = 1.0):
    """Mean Difference Shift (Eq. 2, Sec. 3.1): ``h + alpha * (R_tgt - R_src)``; the dtypes, and
    what is refused (non-finite means or ``alpha``), as in :func:`zero_mean`."""
    if not np.isscalar(alpha) or isinstance(alpha, bool):
        raise LangrepError(f"mean_difference_shift: alpha must be a number, got {type(alpha).__name__}")
    if not np.isfinite(alpha):
        raise LangrepError(f"mean_difference_shift: alpha must be a finite number, got {alpha}")
    h = _floating(h)
    return h + alpha * (_like(tgt_mean, h, "tgt_mean") - _like(src_mean, h, "src_mean"))


def _floating(h):
    """``h`` itself when it is floating point, else a floating-point copy (numpy or torch)."""
    import torch

    if isinstance(h, np.ndarray) and not np.issubdtype(h.dtype, np.floating):
        return h.astype(np.float64)
    if isinstance(h, torch.Tensor) and not h.is_floating_point():
        return h.to(torch.get_default_dtype())
    return h


def _like(vec, h, name: str):
    """``vec`` as the same kind (numpy/torch), dtype and device as ``h``.

    A language mean is one vector of ``h``'s width: anything else (a scalar, per-row means, a mean of
    another layer width) would broadcast silently into a different operation, so it is refused.
    """
    import torch

    if not isinstance(h, (np.ndarray, torch.Tensor)):
        raise TypeError(f"expected a numpy array or a torch tensor, got {type(h).__name__}")
    shape = tuple(vec.shape) if hasattr(vec, "shape") else np.shape(vec)
    if h.ndim == 0 or shape != (h.shape[-1],):
        raise LangrepError(
            f"{name} must be one vector of the hidden states' width: hidden states of shape "
            f"{tuple(h.shape)} need shape {tuple(h.shape[-1:])}, got shape {shape}"
        )
    finite = torch.isfinite(vec).all() if isinstance(vec, torch.Tensor) else np.isfinite(np.asarray(vec, float)).all()
    if not finite:
        raise LangrepError(f"{name} has NaN or infinite values (a mean of no tokens, or a damaged means file?)")
    if isinstance(h, np.ndarray):
        return np.asarray(vec, dtype=h.dtype)
    return torch.as_tensor(np.asarray(vec) if not isinstance(vec, torch.Tensor) else vec).to(
        device=h.device, dtype=h.dtype
    )


@dataclass
class LayerSums:
    """Float64 per-layer sums of token hidden states and the number of tokens summed."""

    sums: np.ndarray  # (L + 1, H) float64: row l = hidden state l
    n_tokens: int

    def __add__(self, other: LayerSums) -> LayerSums:
        if self.sums.shape != other.sums.shape:
            raise LangrepError(f"cannot add sums of shapes {self.sums.shape} and {other.sums.shape}")
        return LayerSums(self.sums + other.sums, self.n_tokens + other.n_tokens)

    @property
    def means(self) -> np.ndarray:
        """The per-layer means ``sums / n_tokens``; a LangrepError when no token was summed."""
        if self.n_tokens == 0:
            raise LangrepError("no tokens were summed: the language mean is undefined")
        return self.sums / self.n_tokens


@dataclass
class LanguageMeans:
    """The language means R_L^l of every layer, the token count they came from and the file's metadata."""

    means: np.ndarray  # (L + 1, H) float64, row l = hidden state l (0 = the embedding output)
    n_tokens: int
    meta: dict[str, str] = field(default_factory=dict)


def combine_sums(parts: Iterable[LayerSums]) -> LayerSums:
    """Sum shards of one corpus: the mean of the whole equals the mean of the combined shards."""
    parts = list(parts)
    if not parts:
        raise LangrepError("no sums to combine")
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


def write_sums(sums: LayerSums, path, metadata: dict[str, str] | None = None) -> None:
    """Write per-layer float64 token sums and the token count to a Parquet file."""
    n_states, hidden = sums.sums.shape
    table = pa.table(
        {
            "layer": pa.array(np.arange(n_states, dtype=np.int32)),
            "sum": pa.FixedSizeListArray.from_arrays(pa.array(sums.sums.reshape(-1)), hidden),
            "n_tokens": pa.array(np.full(n_states, sums.n_tokens, dtype=np.int64)),
        }
    )
    write_parquet(table, path, metadata)


def read_sums(path) -> LayerSums:
    """The per-layer sums that :func:`write_sums` wrote."""
    table = read_table(path)
    _require_columns(table, path, ("layer", "sum", "n_tokens"))
    layers = table.column("layer").to_numpy()
    sums = _fixed_list_to_numpy(table.column("sum"), np.float64)
    order = np.argsort(layers)
    n = table.column("n_tokens").to_numpy()
    return LayerSums(sums[order], int(n[0]) if len(n) else 0)


def write_means(means: LanguageMeans, path) -> None:
    """Write language means (one row per layer) and their token count to a Parquet file."""
    n_states, hidden = means.means.shape
    table = pa.table(
        {
            "layer": pa.array(np.arange(n_states, dtype=np.int32)),
            "mean": pa.FixedSizeListArray.from_arrays(pa.array(means.means.reshape(-1)), hidden),
            "n_tokens": pa.array(np.full(n_states, means.n_tokens, dtype=np.int64)),
        }
    )
    write_parquet(table, path, means.meta)


def read_means(path) -> LanguageMeans:
    """Read ``results/{model}/means/{corpus}/{lang}.parquet``."""
    path = Path(path)
    if not path.exists():
        raise LangrepError(f"language means not found: {path}")
    table = read_table(path)
    _require_columns(table, path, ("layer", "mean", "n_tokens"))
    layers = table.column("layer").to_numpy()
    means = _fixed_list_to_numpy(table.column("mean"), np.float64)[np.argsort(layers)]
    n = table.column("n_tokens").to_numpy()
    return LanguageMeans(means, int(n[0]) if len(n) else 0, read_parquet_metadata(path))


def language_means(sums: LayerSums | Sequence[LayerSums], meta: dict[str, str] | None = None) -> LanguageMeans:
    """R_L^l for every layer from one or more shards of float64 sums."""
    total = combine_sums([sums] if isinstance(sums, LayerSums) else sums)
    return LanguageMeans(total.means, total.n_tokens, dict(meta or {}))


def _fixed_list_to_numpy(column: pa.ChunkedArray, dtype) -> np.ndarray:
    arr = column.combine_chunks()
    width = arr.type.list_size
    return arr.flatten().to_numpy(zero_copy_only=False).astype(dtype, copy=False).reshape(-1, width)


def _require_columns(table: pa.Table, path, names) -> None:
    missing = [n for n in names if n not in table.column_names]
    if missing:
        raise LangrepError(f"{path}: missing column(s) {missing}")
