"""The provenance record: package versions, git state, and checksums of exactly the files named."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from langrep.errors import LangrepError
from langrep.report.provenance import git_state, write_provenance

ROOT = Path(__file__).resolve().parents[1]


def test_provenance_git_versions_and_checksums_of_the_named_files(tmp_path):
    raw = tmp_path / "data" / "raw" / "tatoeba"
    raw.mkdir(parents=True)
    (raw / "a.txt").write_bytes(b"hello\n")
    (raw / "unused.txt").write_bytes(b"not an input of the run\n")  # not named: not hashed
    mdir = tmp_path / "data" / "models" / "m"
    mdir.mkdir(parents=True)
    (mdir / "langrep_source.json").write_text(json.dumps({"source": "x", "revision": "r1"}))
    (mdir / "model.safetensors").write_bytes(b"weights")
    cfg = {"models": {"m": {"source": "x", "revision": "r1"}, "n": {"source": "y"}}}
    rec = write_provenance(cfg, tmp_path / "prov.json", repo=ROOT, data_files=[raw / "a.txt"], model_dirs=[mdir])
    assert json.loads((tmp_path / "prov.json").read_text()) == rec
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode == 0:
        assert rec["git"]["commit"] == head.stdout.strip() and isinstance(rec["git"]["dirty"], bool)
    assert rec["packages"]["pandas"] == pd.__version__ and "torch" in rec["packages"]
    ((key, info),) = rec["data"].items()
    assert key.endswith("raw/tatoeba/a.txt") and info == {"sha256": hashlib.sha256(b"hello\n").hexdigest(), "bytes": 6}
    assert rec["models"]["m"]["files"]["model.safetensors"]["sha256"] == hashlib.sha256(b"weights").hexdigest()
    assert rec["models"]["m"]["materialized"]["revision"] == "r1"
    assert "files" not in rec["models"]["n"]  # no folder named for it
    assert rec["config"] == cfg
    import tokenizers
    import torch

    from langrep.models import cpu_has_native_bf16

    assert rec["packages"]["tokenizers"] == tokenizers.__version__ and "conllu" in rec["packages"]
    assert rec["compute"]["cuda_available"] is torch.cuda.is_available()
    want = "bfloat16" if torch.cuda.is_available() or cpu_has_native_bf16() else "float32"
    assert rec["compute"]["extraction_dtype"] == want  # what extraction.dtype auto picks on this host


def test_provenance_refuses_missing_files_and_foreign_folders(tmp_path):
    cfg = {"models": {"m": {"source": "x"}}}
    with pytest.raises(LangrepError, match="no such file"):
        write_provenance(cfg, tmp_path / "p.json", repo=tmp_path, data_files=[tmp_path / "gone.txt"])
    with pytest.raises(LangrepError, match=r"\['other'\] are not models"):
        write_provenance(cfg, tmp_path / "p.json", repo=tmp_path, model_dirs=[tmp_path / "other"])
    assert not (tmp_path / "p.json").exists()


def test_git_state_outside_a_repository(tmp_path):
    st = git_state(tmp_path)
    assert st["commit"] is None and st["dirty"] is None
