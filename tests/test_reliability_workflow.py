"""Fault cases on one finished small run (issue 24): a config that cannot run stops before the DAG
and changes no cached output (same bytes, same mtime); a damaged cache file names itself, its rule
and the remedy, and following the remedy rebuilds it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from test_workflow import run, tiny_full_config, write_config

TARGETS = ["results/tiny/scores/tatoeba.csv", "results/tiny/scores/translation.csv"]


def snapshot(workdir: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mtime (ns) of every file under data/ and results/."""
    out = {}
    for top in ("data", "results"):
        for p in sorted((workdir / top).rglob("*")):
            if p.is_file():
                out[str(p.relative_to(workdir))] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def finished(tmp_path_factory, tiny_model_dir, shared_data):
    """A small run whose Tatoeba and translation scores are made (and cached)."""
    workdir = tmp_path_factory.mktemp("finished")
    cfg = tiny_full_config(tiny_model_dir, shared_data)
    cfg["retrieval"]["bucc"]["pairs"] = []
    cfg["extraction"]["dtype"] = "float32"  # a rebuilt file equals the first one, byte for byte
    write_config(workdir, cfg)
    done = run(workdir, *TARGETS, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return workdir


# (--config value, target, the text the error must hold): the cases of issue 24 (every layer key is
# checked one by one in test_reliability.py)
CANNOT_RUN = [
    ("translation={layer: 50}", TARGETS[1], "config key translation.layer: layer 50 is out of range for model tiny"),
    ("retrieval={layers: [3, 99]}", TARGETS[0], "config key retrieval.layers: layer 99"),
    ("extraction={pooled_layers: [99]}", TARGETS[0], "config key extraction.pooled_layers: layer 99"),
    ("transfer={train: {read_layer: 99}}", TARGETS[0], "config key transfer.train.read_layer: layer 99"),
    ("extraction={max_length: 100000}", TARGETS[0], "config key extraction.max_length: 100000 tokens"),
    ("translation={alphas: [.nan]}", TARGETS[1], "config key translation.alphas[0]: nan is not a finite number"),
    ("retrival={layer: 3}", TARGETS[0], "config key retrival: unknown key; did you mean retrieval?"),
]


@pytest.mark.slow
def test_configs_that_cannot_run_stop_before_any_job_and_touch_nothing(finished):
    before = snapshot(finished)
    assert any(k.startswith("results/tiny/embeddings/") for k in before) and TARGETS[1] in before
    for value, target, message in CANNOT_RUN:
        out = run(finished, target, "--config", value, check=False)
        text = out.stdout + out.stderr
        assert out.returncode != 0, value
        assert message in text, (value, text[-2000:])
        assert "Building DAG" not in text and "rule " not in text, (value, text[-2000:])  # no job planned
        assert len(text.strip().splitlines()) <= 12, (value, text)  # a short error, not the schema
        assert snapshot(finished) == before, value
    # and the run still has nothing to do
    again = run(finished, *TARGETS, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr


@pytest.mark.slow
def test_a_truncated_cache_file_names_itself_and_heals(finished):
    scores = finished / TARGETS[0]
    reference = scores.read_bytes()
    damaged = "results/tiny/embeddings/tatoeba_de-en/de.parquet"
    size = (finished / damaged).stat().st_size
    os.truncate(finished / damaged, size // 2)

    failed = run(finished, TARGETS[0], check=False)
    assert failed.returncode != 0
    log = (finished / "logs/tiny/retrieval_tatoeba.log").read_text()
    remedy = f"`snakemake --forcerun {damaged}`"
    for text in (log, failed.stdout + failed.stderr):  # the job's log, and the terminal
        assert f"{damaged}: cannot read it (" in text and remedy in text, text[-3000:]
        assert "made by rule extract_tatoeba" in text and f"rm {damaged}" in text

    # the remedy as printed: the next run rebuilds the file and scores the same
    healed = run(finished, TARGETS[0], "--forcerun", damaged, check=False)
    assert healed.returncode == 0, healed.stderr[-3000:]
    assert (finished / damaged).stat().st_size == size
    assert scores.read_bytes() == reference
