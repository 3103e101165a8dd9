"""profiles/slurm on a real SLURM cluster (tests/slurm/cluster.sh up): a small configuration of the
pipeline submitted job by job with sbatch, checked against sacct and against a local run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_workflow import SNAKEMAKE, small_config, write_config

ROOT = Path(__file__).resolve().parents[1]
STATE = Path(os.environ.get("LANGREP_SLURM_DIR", "/tmp/langrep-slurm"))
# Known to fail on the test cluster (issue 22, open): every normalize_corpus job ends FAILED
# ("Reason: Unknown") when submitted through profiles/slurm; strict, so the marker must go once it passes.
KNOWN_FAILURE = pytest.mark.xfail(reason="issue 22: normalize_corpus jobs fail on the test cluster", strict=True)
pytestmark = [pytest.mark.slurm, pytest.mark.slow, KNOWN_FAILURE]
# the test cluster's node: 2 CPUs, ~20 GB; the account cluster.sh creates
THREADS = 2
OVERRIDES = [
    *("--default-resources", "slurm_account=langrep", "mem_mb=1000*attempt", "runtime=10*attempt"),
    *("--set-threads", *(f"{r}={THREADS}" for r in ("extract", "extract_tatoeba", "retrieval_tatoeba"))),
    *("--set-resources", "extract:mem_mb=3000", "extract:runtime=20", "extract_tatoeba:mem_mb=2500"),
    *("--slurm-init-seconds-before-status-checks", "2", "--jobs", "2", "--latency-wait", "5"),
]
TARGETS = ["results/tiny/scores/tatoeba.csv", "results/tiny/scores/means.csv"]


def _cluster_env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if "SLURM_CONF" not in env and (STATE / "slurm.conf").exists():
        env["SLURM_CONF"] = str(STATE / "slurm.conf")
    ok = shutil.which("sbatch") and subprocess.run(["sinfo", "-h"], env=env, capture_output=True).returncode == 0
    if not ok:
        msg = "no SLURM cluster answers (start one: tests/slurm/cluster.sh up)"
        if os.environ.get("LANGREP_REQUIRE_SLURM") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return env


def _snakemake(wd: Path, env: dict, *args) -> subprocess.CompletedProcess:
    cmd = [*SNAKEMAKE, *TARGETS, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(wd)]
    cmd += ["--configfile", str(wd / "config/config.yaml"), *args]
    return subprocess.run(cmd, cwd=wd, env=env, capture_output=True, text=True, timeout=900)


def _config(wd: Path, tiny_model_dir, shared_data) -> None:
    cfg = small_config(tiny_model_dir, shared_data)
    cfg["retrieval"].update(layer=2)
    cfg["retrieval"]["tatoeba"]["langs"] = ["de"]
    cfg["retrieval"]["bucc"]["pairs"] = []
    cfg["analysis"] = {"heldout_sentences": 10, "tokens_from": 100}
    cfg["extraction"]["dtype"] = "float32"
    write_config(wd, cfg)


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory, tiny_model_dir, shared_data):
    env = _cluster_env()
    wd = tmp_path_factory.mktemp("slurm")
    _config(wd, tiny_model_dir, shared_data)
    profile = ["--profile", str(ROOT / "profiles/slurm")]  # + profiles/default, as users get it
    r = _snakemake(wd, env, *profile, *OVERRIDES)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    return wd, env, r.stdout + r.stderr


def _sacct(env: dict, ids: list[str]) -> list[dict]:
    fields = "JobID,JobName,State,ReqMem,ReqCPUS,Timelimit,MaxRSS,Elapsed,Comment"
    out = subprocess.run(
        ["sacct", "-P", "-n", "-j", ",".join(ids), "-o", fields], env=env, capture_output=True, text=True, check=True
    ).stdout
    return [dict(zip(fields.split(","), line.split("|"))) for line in out.splitlines()]


def test_every_job_went_through_sbatch_with_its_resources(slurm_run):
    wd, env, log = slurm_run
    # Snakemake's own record of each job: its block (threads, resources), then its SLURM job id
    blocks = re.findall(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", log, re.S | re.M)
    submitted = dict(re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", log))
    assert submitted, log[-3000:]
    jobs = {}
    for rule, block in blocks:
        m = re.search(r"jobid: (\d+)", block)
        if m and m.group(1) in submitted:
            jobs[submitted[m.group(1)]] = (rule, block)
    assert len(jobs) == len(submitted)
    rows = {r["JobID"]: r for r in _sacct(env, list(jobs))}
    assert set(rows) == set(jobs), "sacct lists exactly one allocation per submitted job"
    rules = {rule for rule, _ in jobs.values()}
    assert {"extract", "extract_tatoeba", "language_means", "retrieval_tatoeba", "means_analysis"} <= rules
    for jid, (rule, block) in jobs.items():
        row = rows[jid]
        assert row["State"] == "COMPLETED", (rule, row)
        threads = int(re.search(r"threads: (\d+)", block).group(1)) if "threads:" in block else 1
        mem = int(re.search(r"\bmem_mb=(\d+)", block).group(1))
        runtime = int(re.search(r"\bruntime=(\d+)", block).group(1))
        assert int(row["ReqCPUS"]) == threads, (rule, row)
        assert row["ReqMem"] == f"{mem}M", (rule, row)
        h, m_, s = (int(x) for x in row["Timelimit"].split(":"))
        assert h * 60 + m_ == runtime and s == 0, (rule, row)
        assert rule in row["Comment"], (rule, row)  # the plugin names the rule in the job's comment
    assert {rule: int(re.search(r"threads: (\d+)", b).group(1)) for _, (rule, b) in jobs.items() if "threads:" in b}[
        "extract"
    ] == THREADS
    assert (wd / "data/models/tiny/config.json").exists()  # materialised once, on the submitting host


def test_scores_equal_a_local_run(slurm_run, tmp_path, tiny_model_dir, shared_data):
    wd, env, _ = slurm_run
    local = tmp_path / "local"
    _config(local, tiny_model_dir, shared_data)
    r = _snakemake(local, env, "--cores", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    for t in TARGETS:
        assert (wd / t).read_bytes() == (local / t).read_bytes(), t
