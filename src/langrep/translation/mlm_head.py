"""The MLM head fitted on a frozen encoder that has none (token translation): the module, exact
whole-vocabulary decoding, its files, the token set of a corpus, and the decoder translation runs
(an encoder and its own or the fitted heads: :func:`load_decoders`). Fitting:
:mod:`langrep.translation.mlm_head_fitting`; held-out quality: :mod:`langrep.translation.mlm_head_quality`.

The head: ``logits = LayerNorm(W2 gelu(W1 h + b1) + b2) @ E^T + bias`` with ``E`` the encoder's
(frozen) input word embeddings, so the decoder is tied as in BERT and predicts over the **whole**
vocabulary (every piece of the tokenizer): a token absent from the fitting text can still be
emitted, through its embedding row. Decoding (:meth:`FittedMLMHead.argmax`) never builds the
[N, V] logits: bf16 matrix products (where the hardware has them) shortlist the top ``k`` ids of
the whole vocabulary, chunk by chunk, and the best of the shortlist is chosen in float32, which is
the float32 argmax unless ``k`` other ids tie with it within bf16 rounding (identical on 2,048
e5-small positions with a random bias; bf16 alone agreed on 97.6%). The shortlist is kept as a
running top ``k`` per row: a chunk is ranked (``topk``) only for the rows whose chunk maximum
reaches their current ``k``-th best, so after the first chunks most rows skip the ranking, which
cost about a fifth of the matrix products (:func:`shortlist`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from langrep.artifacts import read_json, read_safetensors
from langrep.batching import special_ids, tokenize_ids
from langrep.errors import LangrepError
from langrep.io import atomic_write

HEAD_FILE = "head.safetensors"  # the head on the top layer (the paper's protocol)
DECODE_HEAD_FILE = "head_decode.safetensors"  # the head on the decode layer, when it is below the top
STATS_FILE = "head.json"
PRETRAINED_MARKER = "pretrained"
_TENSORS = {
    "dense_in.weight",
    "dense_in.bias",
    "dense_out.weight",
    "dense_out.bias",
    "layer_norm.weight",
    "layer_norm.bias",
    "bias",
}


def fast_dtype(device) -> torch.dtype:
    """bf16 where matrix products in it are native (CUDA, CPUs with AVX512-BF16/AMX), else fp32."""
    from langrep.models import resolve_dtype

    dt = resolve_dtype("auto", torch.device(device).type)
    return torch.bfloat16 if dt == torch.bfloat16 else torch.float32


class FittedMLMHead(nn.Module):
    """Transform (H -> width -> H, GELU, LayerNorm) + decoder tied to the frozen input embeddings.

    Column ``j`` of the logits is token id ``j``, for ``j < vocab_size`` (the tokenizer's pieces;
    embedding rows beyond them, if any, are padding no text maps to).
    """

    def __init__(self, word_embeddings: torch.Tensor, vocab_size: int, width: int, layer_norm_eps: float = 1e-12):
        super().__init__()
        rows, hidden = word_embeddings.shape
        if not 0 < vocab_size <= rows:
            raise LangrepError(f"head vocabulary {vocab_size} does not fit the {rows} embedding rows")
        if width < 1:
            raise LangrepError("translation.head.width must be >= 1")
        self.dense_in = nn.Linear(hidden, width)
        self.act = nn.GELU()
        self.dense_out = nn.Linear(width, hidden)
        self.layer_norm = nn.LayerNorm(hidden, eps=layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(vocab_size))
        # Tied to the frozen input embeddings: a buffer, never saved, never trained.
        self.register_buffer("decoder_weight", word_embeddings.detach()[:vocab_size].float().clone(), persistent=False)
        self._packed = None  # (dtype, [V, H + pad] matrix with the bias as a column), built for decoding
        # Logits of a usable range whatever the embedding scale: |LayerNorm output| ~ sqrt(H) / mean |e|.
        with torch.no_grad():
            norm = self.decoder_weight.norm(dim=1).mean().clamp_min(1e-6)
            self.layer_norm.weight.fill_(float(1.0 / norm))

    @property
    def vocab_size(self) -> int:
        """Pieces the head predicts over."""
        return len(self.bias)

    def transform(self, hidden: torch.Tensor) -> torch.Tensor:
        """The head's transform ``LayerNorm(W2 gelu(W1 h))`` of ``hidden``, in the head's float32."""
        # float32 head on any encoder dtype (a bf16 encoder feeds it bf16 states)
        h = hidden.to(self.dense_in.weight.dtype)
        return self.layer_norm(self.dense_out(self.act(self.dense_in(h))))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits over the whole vocabulary (float32; [N, V]: for small inputs and tests)."""
        return self.transform(hidden) @ self.decoder_weight.T + self.bias

    def sampled_logits(self, hidden: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Logits of the token ids ``ids`` only ([N, len(ids)]): the sampled softmax of fitting."""
        return self.transform(hidden) @ self.decoder_weight[ids].T + self.bias[ids]

    def _packed_weights(self, dtype: torch.dtype) -> torch.Tensor:
        if self._packed is None or self._packed[0] != dtype or self._packed[1].device != self.bias.device:
            w = self.decoder_weight
            pad = (-(w.shape[1] + 1)) % 16  # widths in multiples of 16 suit the GEMM kernels
            packed = torch.cat([w, self.bias.detach()[:, None], w.new_zeros(len(w), pad)], 1)
            self._packed = (dtype, packed.to(dtype).contiguous())
        return self._packed[1]

    def train(self, mode: bool = True):
        """Set training mode (and drop the packed decoding weights, which the bias invalidates)."""
        self._packed = None  # the bias changes while training
        return super().train(mode)

    @torch.inference_mode()
    def argmax(self, hidden: torch.Tensor, *, block: int = 512, chunk: int = 4096, k: int = 4) -> torch.Tensor:
        """Argmax token ids of ``hidden`` [N, H] over the whole vocabulary, chosen in float32.

        Fast-dtype products shortlist the top ``k`` ids over the whole vocabulary, ``chunk`` rows of
        it at a time (:func:`shortlist`); those are rescored in float32 (see the module
        docstring). With a float32 fast dtype it is the plain argmax.
        """
        dtype = fast_dtype(self.bias.device)
        packed = self._packed_weights(dtype)
        u = self.transform(hidden)
        k = min(k, chunk, self.vocab_size)
        out = []
        for i in range(0, len(u), block):
            ub = u[i : i + block]
            aug = torch.cat([ub, ub.new_ones(len(ub), 1), ub.new_zeros(len(ub), packed.shape[1] - ub.shape[1] - 1)], 1)
            cand = shortlist(aug.to(dtype), packed, k, chunk)  # [n, k]
            exact = torch.einsum("nh,nkh->nk", ub, self.decoder_weight[cand]) + self.bias[cand]
            out.append(cand.gather(1, exact.argmax(1, keepdim=True)).squeeze(1))
        return torch.cat(out) if out else torch.zeros(0, dtype=torch.long, device=hidden.device)


def shortlist(
    x: torch.Tensor, weights: torch.Tensor, k: int, chunk: int, skip_rows: bool | None = None
) -> torch.Tensor:
    """The ids of the ``k`` largest entries of every row of ``x @ weights.T`` ([n, k]), the [n, V]
    product never built: ``weights`` is taken ``chunk`` rows at a time and a running top ``k`` is
    kept per row. With ``skip_rows`` a chunk is ranked only for the rows whose maximum in it
    reaches their current ``k``-th best (``>=``: ties still enter), which is exact: a chunk whose
    maximum is below a row's ``k``-th best holds none of that row's top ``k``. None: skip on the
    CPU only (choosing the rows waits for the device, which would stall a GPU at every chunk).
    The same ids as one ``topk`` over the whole product (in another order where values tie)."""
    n = len(x)
    k = min(k, len(weights))
    skip_rows = x.device.type == "cpu" if skip_rows is None else skip_rows
    every_row = torch.arange(n, device=x.device)
    vals = torch.full((n, k), float("-inf"), dtype=x.dtype, device=x.device)
    ids = torch.zeros(n, k, dtype=torch.long, device=x.device)
    for s in range(0, len(weights), chunk):
        scores = x @ weights[s : s + chunk].T
        rows = (scores.amax(dim=-1) >= vals[:, -1]).nonzero().squeeze(1) if skip_rows else every_row
        if len(rows) == 0:
            continue
        v, j = (scores if len(rows) == n else scores[rows]).topk(min(k, scores.shape[1]), dim=-1)
        best_v, best = torch.cat([vals[rows], v], 1).topk(k, dim=-1)
        vals[rows] = best_v
        ids[rows] = torch.cat([ids[rows], j + s], 1).gather(1, best)
    return ids


def input_embeddings(encoder) -> torch.Tensor:
    """The encoder's input embedding matrix (V, H): the weights the fitted head is tied to."""
    return encoder.get_input_embeddings().weight


def head_vocab_size(encoder, tokenizer) -> int:
    """The tokenizer's pieces that have an embedding row: the vocabulary the head predicts over."""
    return min(len(tokenizer), input_embeddings(encoder).shape[0])


def corpus_vocab(tokenizer, texts: Sequence[str], max_length: int = 512) -> set[int]:
    """The set of (non-special) subword ids of a corpus: V_lang of the paper's Table 6."""
    ids = set(np.unique(tokenize_ids(tokenizer, texts, max_length).flat).tolist())
    return ids - set(special_ids(tokenizer))


def save_head(head: FittedMLMHead, stats: dict | None, out_dir, file: str = HEAD_FILE) -> None:
    """``file`` (the trainable weights) and, unless ``stats`` is None, ``head.json``, atomically."""
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    state = {k: v.detach().cpu().contiguous() for k, v in head.state_dict().items()}
    with atomic_write(out_dir / file) as tmp:
        save_file(state, str(tmp))
    if stats is None:
        return
    with atomic_write(out_dir / STATS_FILE) as tmp:
        tmp.write_text(json.dumps({"head": "fitted", **stats}, indent=2))


def write_pretrained_marker(out_dir) -> None:
    """The model has its own MLM head: record that instead of fitting one."""
    out_dir = Path(out_dir)
    with atomic_write(out_dir / STATS_FILE) as tmp:
        tmp.write_text(json.dumps({"head": PRETRAINED_MARKER}, indent=2))


def read_head_record(head_dir) -> dict:
    """The head record (``head.json``) of a head folder: which head and its held-out quality."""
    path = Path(head_dir) / STATS_FILE
    if not path.exists():
        raise LangrepError(f"MLM head record not found: {path}")
    try:
        record = read_json(path)
        kind = record["head"]
    except (ValueError, KeyError, TypeError) as e:
        raise LangrepError(f"{path}: not an MLM head record ({e})") from None
    if kind not in ("pretrained", "fitted"):
        raise LangrepError(f"{path}: unknown head kind {kind!r}")
    return record


def head_kind(head_dir) -> str:
    """``pretrained`` or ``fitted``, read from ``head.json``."""
    return read_head_record(head_dir)["head"]


def load_head(head_dir, encoder, file: str = HEAD_FILE) -> FittedMLMHead:
    """The fitted MLM head saved in ``head_dir`` (``file``), tied to ``encoder``'s input embeddings."""
    path = Path(head_dir) / file
    if not path.exists():
        raise LangrepError(f"fitted MLM head not found: {path}")
    state = read_safetensors(path)
    missing = _TENSORS - set(state)
    if missing:
        raise LangrepError(f"{path}: missing tensors {sorted(missing)} (a head from an older langrep? refit it)")
    emb = input_embeddings(encoder)
    if len(state["bias"]) > emb.shape[0] or state["dense_out.weight"].shape[0] != emb.shape[1]:
        raise LangrepError(f"{path}: head does not match the encoder (vocab {emb.shape[0]}, hidden {emb.shape[1]})")
    eps = getattr(getattr(encoder, "config", None), "layer_norm_eps", 1e-12)
    head = FittedMLMHead(emb, len(state["bias"]), state["dense_in.weight"].shape[0], layer_norm_eps=eps)
    head.load_state_dict(state, strict=True)
    return head.eval()


# ----------------------------------------------------------------------------- encoder + head
@dataclass
class Decoder:
    """A base encoder (BertModel-like) and an MLM head on its hidden state ``layer``.

    ``protocol``: ``top`` (the head reads the last layer, the paper's protocol) or
    ``decode_layer`` (a fitted head reads a lower layer; :mod:`langrep.translation.decode_layer`).
    """

    encoder: torch.nn.Module
    head: Callable[[torch.Tensor], torch.Tensor]
    kind: str  # "pretrained" | "fitted"
    layer: int | None = None  # the hidden state the head reads (0..L); None: the top layer
    protocol: str = "top"
    reconstruction: float | None = None  # a fitted head's held-out reconstruction (%) at ``layer``

    @property
    def device(self):
        """The device the encoder runs on."""
        return next(self.encoder.parameters()).device

    @property
    def read_layer(self) -> int:
        """The hidden state the head reads, as a number (the top layer L when ``layer`` is None)."""
        from langrep.means.layer_shift import n_layers

        return n_layers(self.encoder) if self.layer is None else self.layer

    def argmax(self, hidden: torch.Tensor) -> torch.Tensor:
        """Token ids of the best logit of every row of ``hidden`` [N, H], over the whole vocabulary."""
        if hasattr(self.head, "argmax"):  # the fitted head: chunked, without materializing [N, V] logits
            return self.head.argmax(hidden)
        return self.head(hidden).argmax(-1)


def split_masked_lm(mlm) -> tuple[torch.nn.Module, torch.nn.Module]:
    """(base encoder, MLM head module) of an ``AutoModelForMaskedLM``."""
    base = mlm.base_model
    for name in ("cls", "lm_head", "predictions"):
        head = getattr(mlm, name, None)
        if isinstance(head, torch.nn.Module):
            return base, head
    raise LangrepError(f"cannot find the MLM head of {type(mlm).__name__}")


def load_decoders(model_dir, head_dir, device: str | None = "cpu") -> tuple[list[Decoder], object]:
    """The decoders the ``mlm_head`` rule prepared, sharing one encoder: the top layer's (the
    model's own head, or the fitted one), then the decode layer's where a fitted head's
    ``head.json`` names one below the top; and the tokenizer."""
    from langrep.means.layer_shift import n_layers
    from langrep.models import load_encoder, load_masked_lm

    record = read_head_record(head_dir)
    if record["head"] == "pretrained":
        mlm, tokenizer = load_masked_lm(model_dir, device=device)
        base, head = split_masked_lm(mlm)
        return [Decoder(base, head, "pretrained", n_layers(base))], tokenizer
    encoder, tokenizer = load_encoder(model_dir, device=device)
    dev = next(encoder.parameters()).device
    top = n_layers(encoder)
    out = [
        Decoder(
            encoder, load_head(head_dir, encoder).to(dev), "fitted", top, "top", record.get("heldout_reconstruction")
        )
    ]
    decode = record.get("decode_head")
    if decode:
        head = load_head(head_dir, encoder, decode.get("file", DECODE_HEAD_FILE)).to(dev)
        layer = int(decode["layer"])
        out.append(Decoder(encoder, head, "fitted", layer, "decode_layer", decode.get("heldout_reconstruction")))
    return out, tokenizer


def load_decoder(model_dir, head_dir, device: str | None = "cpu") -> tuple[Decoder, object]:
    """The top layer's decoder the ``mlm_head`` rule chose: the model's own head, or the fitted one."""
    decoders, tokenizer = load_decoders(model_dir, head_dir, device)
    return decoders[0], tokenizer
