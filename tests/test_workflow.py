"""The workflow end to end on a tiny random model and the real mirrored data, in a temporary folder."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from langrep.means.representations import read_means

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def small_config(model_dir: Path, mirror: Path) -> dict:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["data"]["mirror"] = str(mirror)
    cfg["data"]["mono_sentences"] = 40
    cfg["models"] = {"tiny": {"source": str(model_dir)}}
    cfg["languages"] = ["en", "de"]
    cfg["extraction"]["token_budget"] = 512
    # layers the tiny model (3 layers: hidden states 0..3) has; the workflow refuses any other
    cfg["retrieval"]["layer"] = 2
    cfg["translation"]["layer"] = 2
    cfg["transfer"]["train"]["read_layer"] = "last"
    cfg["transfer"]["pos"]["layers"] = [1]
    return cfg


def run(workdir: Path, *args, check=True, **kw):
    cmd = SNAKEMAKE + [
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        "2",
        "--configfile",
        str(workdir / "config" / "config.yaml"),
        "--rerun-incomplete",
        *args,
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, check=check, **kw)


def write_config(workdir: Path, cfg: dict) -> None:
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


TARGETS = [
    "results/tiny/means/mono/en.parquet",
    "results/tiny/means/mono/de.parquet",
    "results/tiny/embeddings/tatoeba_de-en/de.parquet",
]


@pytest.fixture()
def workdir(tmp_path, tiny_model_dir, shared_data):
    cfg = small_config(tiny_model_dir, shared_data)
    # batches of a few sentences: extraction takes seconds, so that the kill below can come while a
    # job writes its output; float32, so that the rerun's means equal the first run's
    cfg["extraction"].update(token_budget=32, dtype="float32")
    write_config(tmp_path, cfg)
    return tmp_path


@pytest.mark.slow
def test_extraction_stage_runs_caches_and_survives_a_kill(workdir):
    first = run(workdir, *TARGETS)
    for t in TARGETS:
        assert (workdir / t).stat().st_size > 0, first.stderr
    en = read_means(workdir / TARGETS[0])
    assert en.means.shape == (4, 32) and en.n_tokens > 40
    assert en.meta["corpus_sha256"] and np.isfinite(en.means).all()
    for log in ("logs/tiny/extract/mono/en.log", "logs/tiny/materialize_model.log"):
        assert (workdir / log).exists()

    # A second run has nothing to do.
    again = run(workdir, *TARGETS)
    assert "Nothing to be done" in again.stdout + again.stderr

    # A downstream-only parameter does not re-run extraction.
    cfg = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    cfg["retrieval"]["layer"] = 1
    write_config(workdir, cfg)
    dry = run(workdir, "-n", *TARGETS)
    assert "Nothing to be done" in dry.stdout + dry.stderr

    # Kill the run while a job is writing an output (its temporary file exists), rerun as the README
    # says (unlock, run again), and get the same artifacts and no temporary left behind.
    means_ref = read_means(workdir / TARGETS[0]).means
    for t in TARGETS:
        (workdir / t).unlink()
    for p in (workdir / "results/tiny/sums").rglob("*.parquet"):
        p.unlink()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    # (targets first: after --configfile they would be read as more config files)
    cmd = SNAKEMAKE + [
        *TARGETS,
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        "1",
        "--configfile",
        str(workdir / "config" / "config.yaml"),
    ]
    proc = subprocess.Popen(
        cmd, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    outputs = [workdir / "results/tiny" / d / "tatoeba_de-en" for d in ("embeddings", "sums")]
    outputs += [workdir / "results/tiny" / d / "mono" for d in ("embeddings", "sums", "means")]
    caught = []
    deadline = time.time() + 240
    while not caught and time.time() < deadline and proc.poll() is None:
        caught = [e.name for d in outputs if d.is_dir() for e in os.scandir(d) if e.name.endswith(".tmp")]
        time.sleep(0.002)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert caught, "the run ended before any output was being written: nothing was killed mid-write"
    assert list(workdir.rglob(".*.tmp")), "the kill came while a temporary output existed"
    run(workdir, "--unlock", *TARGETS)
    rerun = run(workdir, *TARGETS)
    for t in TARGETS:
        assert (workdir / t).exists(), rerun.stderr
    np.testing.assert_allclose(read_means(workdir / TARGETS[0]).means, means_ref, rtol=1e-6, atol=1e-6)
    assert not list(workdir.rglob(".*.tmp")), "a killed run left a temporary file behind"


def tiny_full_config(model_dir: Path, mirror: Path) -> dict:
    """Every stage, sized for seconds: two Tatoeba pairs, BUCC zh-en dev, one translation pair,
    one POS and one parsing test language."""
    cfg = small_config(model_dir, mirror)
    cfg["retrieval"]["tatoeba"]["langs"] = ["de", "zh"]
    cfg["retrieval"]["bucc"]["pairs"] = ["zh"]
    t = cfg["translation"]
    t.update(targets=["de"], n_sentences=4, alphas=[0, 1], layer=2, n_samples=1)
    tr = cfg["transfer"]
    tr.update(test_sentences=8, bootstrap=50)
    tr["train"].update(
        train_sentences=24, dev_sentences=8, batch_size=8, max_steps=4, read_layer="last", train_top_layers=1
    )
    tr["pos"].update(langs=["de"], layers=[1])
    tr["parsing"].update(langs=["kk"], layers=["last"])
    cfg["report"]["run"] = "tiny"
    return cfg


@pytest.mark.slow
def test_whole_workflow_on_a_tiny_model(tmp_path, tiny_model_dir, shared_data):
    """`snakemake` (rule all) end to end: every stage's artifacts, the report, then nothing to do."""
    import json

    import pandas as pd

    write_config(tmp_path, tiny_full_config(tiny_model_dir, shared_data))
    first = run(tmp_path, check=False, preexec_fn=lambda: os.umask(0o022))
    assert first.returncode == 0, first.stderr[-6000:]
    # under umask 022 every artifact is readable by others: 0644 files, 0755 folders
    for top in ("data", "results", "reports"):
        for p in (tmp_path / top).rglob("*"):
            if not p.is_symlink():
                assert stat.S_IMODE(p.stat().st_mode) == (0o755 if p.is_dir() else 0o644), p

    scores = tmp_path / "results/tiny/scores"
    tatoeba = pd.read_csv(scores / "tatoeba.csv")
    assert set(tatoeba["lang"]) == {"de", "zh"}
    assert set(tatoeba["method"]) == {"original", "zero_mean", "mds"}
    assert set(tatoeba["layer"]) == set(range(4))  # every layer of a 3-layer model, 0 = embeddings
    acc = tatoeba.query("metric == 'accuracy'")["value"]
    assert ((acc >= 0) & (acc <= 100)).all() and len(acc) > 0
    bucc = pd.read_csv(scores / "bucc.csv")
    assert {"precision", "recall", "f1"} <= set(bucc["metric"]) and set(bucc["lang"]) == {"zh"}
    translation = pd.read_csv(scores / "translation.csv")
    assert set(translation["lang"]) == {"en-de", "de-en"} and set(translation["alpha"]) == {0, 1}
    assert {"bleu1", "convert_rate"} <= set(translation["metric"])
    for task, metrics, langs in (("pos", {"accuracy"}, {"de"}), ("parsing", {"uas", "las"}, {"kk"})):
        df = pd.read_csv(scores / f"{task}.csv")
        assert metrics <= set(df["metric"]), task
        assert langs <= set(df["lang"]), task
        assert {"original", "zero_mean", "mds"} <= set(df["method"]), task

    report_dir = tmp_path / "reports/tiny"
    md = (report_dir / "report.md").read_text()
    for table in ("Table 1", "Table 2", "Table 3", "Table 4", "Table 5"):
        assert table in md, table
    assert (report_dir / "report.html").stat().st_size > 0
    assert list((report_dir / "figures/tiny").glob("*.png"))
    prov = json.loads((report_dir / "provenance.json").read_text())
    assert prov["config"]["models"]["tiny"]["source"] == str(tiny_model_dir)

    # langrep-profile: every job of the run, each with its benchmark file; the report ends the run
    from langrep.run_profile import format_profile, profile

    prof = profile(tmp_path)
    assert {"materialize_model", "extract", "translation_sweep", "report"} <= {r.rule for r in prof.rules}
    assert not [n for n in prof.notes if "benchmark" in n], prof.notes
    steps = int(re.findall(r"\d+ of (\d+) steps", first.stderr)[-1])
    assert len(prof.jobs) == steps - 1  # all but rule all's (it writes nothing)
    path = prof.critical_path
    assert path[-1].rule == "report" and all(a.end <= b.start for a, b in zip(path, path[1:]))
    assert "Per rule" in format_profile(prof)

    again = run(tmp_path, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr, again.stdout[-3000:]
