"""The execution profiles: the workflow dry-runs with each profile and both configs, the SLURM
profile needs no SLURM installation for that, and its per-rule resources name real rules."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = shutil.which("snakemake") or str(Path(sys.executable).with_name("snakemake"))
MIRROR = Path(os.environ.get("LANGREP_DATA_MIRROR") or ROOT.parent / "shared" / "data").resolve()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A working copy of the workflow (no data, no results): a dry run must not touch the repo."""
    if not (ROOT / "Snakefile").is_file():
        pytest.fail("no Snakefile at the repository root")
    wd = tmp_path_factory.mktemp("wf")
    for name in ("Snakefile", "config", "workflow", "profiles"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, wd / name)
    return wd


# jobs a dry run must never start or cancel; the queries (the executor plugin asks `scontrol show
# config` when it loads) answer as where no cluster is reachable: they fail
SLURM_JOB_TOOLS = ("sbatch", "srun", "scancel")
SLURM_QUERIES = ("squeue", "sacct", "sacctmgr", "sinfo", "scontrol", "sshare")


def _snakemake(wd: Path, *args, mirror: str | None = None) -> subprocess.CompletedProcess:
    """Snakemake in ``wd`` with SLURM's commands shadowed by shims that record a call and fail: a dry
    run must need no SLURM, whether the machine has SLURM installed (a login node) or not. (Removing
    the PATH entries that hold sbatch would remove /usr/bin where SLURM is a system package.)"""
    shims = wd / ".slurm-shims"
    shims.mkdir(exist_ok=True)
    called = shims / "called"
    for tool in SLURM_JOB_TOOLS + SLURM_QUERIES:
        record = f'echo "{tool} $*" >> "{called}"\n' if tool in SLURM_JOB_TOOLS else ""
        (shims / tool).write_text(f'#!/bin/sh\n{record}echo "{tool}: no cluster in a dry run" >&2\nexit 1\n')
        (shims / tool).chmod(0o755)
    called.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env["LANGREP_DATA_MIRROR"] = mirror if mirror is not None else ""
    env["PATH"] = os.pathsep.join([str(shims), env.get("PATH", "")])
    r = subprocess.run([SNAKEMAKE, *args], cwd=wd, env=env, capture_output=True, text=True, timeout=300)
    assert not called.exists(), f"a dry run started or cancelled SLURM jobs: {called.read_text()}"
    return r


@pytest.mark.parametrize("profile", ["default", "slurm"])
@pytest.mark.parametrize("configfile", ["config/config.yaml", "config/paper.yaml"])
def test_dry_run(workdir, profile, configfile):
    # the default config reads the offline mirror; the paper config downloads (nothing is fetched in -n)
    mirror = str(MIRROR) if configfile == "config/config.yaml" else ""
    r = _snakemake(workdir, "-n", "--profile", f"profiles/{profile}", "--configfile", configfile, mirror=mirror)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout + r.stderr
    assert "This was a dry-run" in out
    # the report and provenance are part of every run
    stats = re.search(r"Job stats:\n(.*?)\n\n", out, re.S).group(1)
    jobs = {l.split()[0] for l in stats.splitlines()[2:] if l.strip()}
    assert {"report", "provenance", "extract"} <= jobs, stats
    if configfile == "config/paper.yaml":
        # --configfile must replace the default config, not merge into it: only the paper's model
        assert "results/mbert/" in out and "results/e5-small/" not in out
    if profile == "slurm":
        assert "executor: slurm" in (workdir / "profiles/slurm/config.yaml").read_text()
        # extraction jobs ask SLURM for a GPU (set-resources), whatever the config says
        extract_blocks = re.findall(r"rule extract:\n(.*?)\n\n", out, re.S)
        assert extract_blocks and all(re.search(r"\bgpu=1\b", b) for b in extract_blocks)


def test_slurm_set_resources_name_real_rules(workdir):
    r = _snakemake(workdir, "--list-rules", mirror=str(MIRROR))
    assert r.returncode == 0, r.stderr[-3000:]
    rules = set(r.stdout.split())
    prof = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    assert prof["executor"] == "slurm"
    unknown = set(prof["set-resources"]) - rules
    assert not unknown, f"profiles/slurm/config.yaml sets resources of unknown rules {unknown}"
    for rule, res in prof["set-resources"].items():
        # one GPU, and memory and time that grow with the attempt (so that retries help)
        assert res.get("gpu") == 1, rule
        if rule.startswith("transfer_"):  # the config's transfer.mem_mb/*_runtime hold these
            assert "mem_mb" not in res and "runtime" not in res, rule
        else:
            assert "attempt" in res["mem_mb"] and "attempt" in res["runtime"], rule
    assert not set(prof["set-threads"]) - rules


def test_slurm_jobs_get_as_many_cpus_as_threads(workdir):
    """With the login node's cores (--cores 64; profiles/default adds `cores: all`), every job's
    threads are the SLURM profile's set-threads (1 for the others), and no job asks for another
    number of CPUs (the executor asks for as many CPUs as threads when cpus_per_task is unset)."""
    prof = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    transfer = {"mem_mb": 12345, "train_runtime": 77, "eval_runtime": 88}  # not the profile's numbers
    r = _snakemake(
        workdir,
        *("-n", "--profile", "profiles/slurm", "--cores", "64", "--configfile", "config/paper.yaml"),
        *("--config", f"transfer={transfer}"),
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    jobs = re.findall(r"^(?:local)?rule (\w+):\n(.*?)(?:\n\n|\Z)", r.stdout, re.S | re.M)
    assert len(jobs) > 100
    for rule, block in jobs:
        if rule == "all":
            continue
        threads = int(re.search(r"threads: (\d+)", block).group(1)) if "threads:" in block else 1
        assert threads == prof["set-threads"].get(rule, 1), (rule, threads)
        assert "cpus_per_task" not in block and "cpus_per_gpu" not in block, (rule, block)
    assert {"extract", "transfer_train"} <= {rule for rule, _ in jobs}
    # the config's transfer resources reach the SLURM jobs (first attempt)
    for rule, runtime in (("transfer_train", "train_runtime"), ("transfer_evaluate", "eval_runtime")):
        blocks = [b for r, b in jobs if r == rule]
        assert blocks and all(f"mem_mb={transfer['mem_mb']}," in b for b in blocks), rule
        assert all(re.search(rf"\bruntime={transfer[runtime]}\b", b) for b in blocks), rule


def test_workflow_profile_does_not_override_slurm():
    """profiles/default is Snakemake's implicit workflow profile and wins per key over --profile:
    it must not set anything the SLURM profile sets differently (latency-wait, resources...)."""
    default = yaml.safe_load((ROOT / "profiles/default/config.yaml").read_text())
    slurm = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    clash = {k for k in set(default) & set(slurm) if default[k] != slurm[k]}
    assert not clash, f"profiles/default would override the SLURM profile's {clash}"
    assert not {"executor", "resources", "default-resources", "set-resources", "latency-wait"} & set(default)
