"""profiles/slurm on a real SLURM cluster (tests/slurm/cluster.sh up): a small configuration of the
pipeline submitted job by job with sbatch, checked against sacct and against a local run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from test_workflow import SNAKEMAKE, small_config, write_config

ROOT = Path(__file__).resolve().parents[1]
STATE = Path(os.environ.get("LANGREP_SLURM_DIR", "/tmp/langrep-slurm"))
pytestmark = [pytest.mark.slurm, pytest.mark.slow]
# the test cluster's node: 2 CPUs, ~20 GB; the account cluster.sh creates
THREADS = 2
# torch's float sums depend on the thread count: the local run in test_scores_equal_a_local_run uses the same
THREADED = ("extract", "extract_tatoeba", "extract_bucc", "retrieval_tatoeba", "retrieval_bucc_mine")
SET_THREADS = ["--set-threads", *(f"{r}={THREADS}" for r in THREADED)]
OVERRIDES = [
    *("--default-resources", "slurm_account=langrep", "mem_mb=1000*attempt", "runtime=10*attempt"),
    *SET_THREADS,
    *("--set-resources", "extract:mem_mb=1500*attempt", "extract:runtime=20", "extract_tatoeba:mem_mb=2500*attempt"),
    *("extract_bucc:mem_mb=2500", "retrieval_bucc_mine:mem_mb=2000", "retrieval_bucc_mine:runtime=10"),
    *("--slurm-init-seconds-before-status-checks", "2", "--jobs", "2", "--latency-wait", "5"),
]
TARGETS = ["results/tiny/scores/tatoeba.csv", "results/tiny/scores/bucc.csv", "results/tiny/scores/means.csv"]
# what the run does to the first running job of a rule: SIGKILL its processes (the OOM killer, a
# failing node) or scancel it (a user, a preemption); Snakemake must retry both
PERTURB = {"extract": "kill", "extract_tatoeba": "scancel"}


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


def _command(wd: Path, *args) -> list[str]:
    cmd = [*SNAKEMAKE, *TARGETS, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(wd)]
    cmd += ["--configfile", str(wd / "config/config.yaml"), *args]
    return cmd


def _snakemake(wd: Path, env: dict, *args) -> subprocess.CompletedProcess:
    return subprocess.run(_command(wd, *args), cwd=wd, env=env, capture_output=True, text=True, timeout=900)


def _kill_job(env: dict, jid: str) -> None:
    """SIGKILL every process of a running job, as the OOM killer or a failing node does."""
    pids = subprocess.run(["scontrol", "listpids", jid], env=env, capture_output=True, text=True).stdout
    for line in pids.splitlines()[1:]:
        subprocess.run(["kill", "-9", line.split()[0]], capture_output=True)


def _perturb(env: dict, how: str, jid: str) -> None:
    if how == "scancel":
        subprocess.run(["scancel", jid], env=env, capture_output=True, check=True)
    else:
        _kill_job(env, jid)


def _run_perturbed(wd: Path, env: dict, *args) -> tuple[int, str, dict[str, str]]:
    """Run Snakemake and hit the first SLURM job of each rule of PERTURB once it runs;
    (returncode, log, {rule: job id})."""
    log_path = wd / "snakemake.out"
    hit: dict[str, str] = {}
    with log_path.open("w") as out:
        proc = subprocess.Popen(_command(wd, *args), cwd=wd, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 900
        while proc.poll() is None and time.monotonic() < deadline:
            queue = subprocess.run(
                ["squeue", "-h", "-t", "RUNNING", "-o", "%i|%k"], env=env, capture_output=True, text=True
            ).stdout
            for line in queue.splitlines():
                jid, comment = line.split("|", 1)
                rule = next((r for r in PERTURB if comment.startswith(f"rule_{r}_") and r not in hit), None)
                if rule:
                    time.sleep(2)  # let the job start its work, then hit it mid-way
                    _perturb(env, PERTURB[rule], jid)
                    hit[rule] = jid
            time.sleep(0.5)
        if proc.poll() is None:
            proc.kill()
        rc = proc.wait()
    return rc, log_path.read_text(), hit


def _config(wd: Path, tiny_model_dir, shared_data) -> None:
    cfg = small_config(tiny_model_dir, shared_data)
    cfg["retrieval"].update(layer=2)
    cfg["retrieval"]["tatoeba"]["langs"] = ["de", "zh"]
    cfg["retrieval"]["bucc"]["pairs"] = ["zh"]  # zh-en dev, capped at data.bucc_sentences
    cfg["analysis"] = {"heldout_sentences": 10, "tokens_from": 100}
    cfg["extraction"]["dtype"] = "float32"
    write_config(wd, cfg)


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory, tiny_model_dir, shared_data):
    """The small configuration through profiles/slurm, its first `extract` job killed and its first
    `extract_tatoeba` job cancelled mid-run."""
    env = _cluster_env()
    wd = tmp_path_factory.mktemp("slurm")
    _config(wd, tiny_model_dir, shared_data)
    profile = ["--profile", str(ROOT / "profiles/slurm")]  # + profiles/default, as users get it
    rc, log, hit = _run_perturbed(wd, env, *profile, *OVERRIDES)
    assert rc == 0, log[-6000:]
    assert set(hit) == set(PERTURB), f"jobs seen running and hit: {hit}"
    return wd, env, log, hit


def _sacct(env: dict, ids: list[str]) -> list[dict]:
    """One row per allocation (-X): what the job asked for and how it ended."""
    fields = "JobID,JobName,State,ReqMem,ReqCPUS,Timelimit,Elapsed,Comment"
    out = subprocess.run(
        ["sacct", "-X", "-P", "-n", "-j", ",".join(ids), "-o", fields],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [dict(zip(fields.split(","), line.split("|"))) for line in out.splitlines()]


def _submitted_jobs(log: str) -> dict[str, tuple[str, str]]:
    """SLURM job id -> (rule, Snakemake's block for that job: threads, resources) from the run's log.

    Read in order: a retried job prints its block again (the next attempt's resources), then its
    new submission."""
    pattern = r"^rule (\w+):\n(.*?)(?=^\S|\Z)|Job (\d+) has been submitted with SLURM jobid (\d+)"
    latest, jobs = {}, {}
    for m in re.finditer(pattern, log, re.S | re.M):
        if m.group(1):
            jobid = re.search(r"jobid: (\d+)", m.group(2))
            if jobid:
                latest[jobid.group(1)] = (m.group(1), m.group(2))
        else:
            jobs[m.group(4)] = latest[m.group(3)]
    return jobs


def test_every_job_went_through_sbatch_with_its_resources(slurm_run):
    wd, env, log, hit = slurm_run
    jobs = _submitted_jobs(log)
    n = len(re.findall(r"has been submitted with SLURM jobid", log))
    assert jobs and len(jobs) == n, log[-3000:]
    rows = {r["JobID"]: r for r in _sacct(env, list(jobs))}
    assert set(rows) == set(jobs), "sacct lists exactly one allocation per submitted job"
    rules = {rule for rule, _ in jobs.values()}
    assert {"extract", "extract_tatoeba", "extract_bucc", "retrieval_tatoeba", "retrieval_bucc_mine"} <= rules
    assert "means_analysis" in rules
    # tiny steps and downloads stay on the submitting host (localrule: True)
    local = set(re.findall(r"^localrule (\w+):", log, re.M))
    assert {"normalize_corpus", "materialize_model", "fetch_tatoeba"} <= local
    assert not local & rules
    for jid, (rule, block) in jobs.items():
        row = rows[jid]
        want = {hit["extract"]: "FAILED", hit["extract_tatoeba"]: "CANCELLED"}.get(jid, "COMPLETED")
        assert row["State"].split(" by ")[0] == want, (rule, row)
        threads = int(re.search(r"threads: (\d+)", block).group(1)) if "threads:" in block else 1
        mem = int(re.search(r"\bmem_mb=(\d+)", block).group(1))
        runtime = int(re.search(r"\bruntime=(\d+)", block).group(1))
        assert int(row["ReqCPUS"]) == threads, (rule, row)
        assert row["ReqMem"] == f"{mem}M", (rule, row)
        h, m_, s = (int(x) for x in row["Timelimit"].split(":"))
        assert h * 60 + m_ == runtime and s == 0, (rule, row)
        assert row["Comment"].startswith(f"rule_{rule}"), (rule, row)  # the plugin names the rule there
        assert row["JobName"].startswith("langrep_"), row  # the profile's slurm-jobname-prefix
    extract_threads = {int(re.search(r"threads: (\d+)", b).group(1)) for r, b in jobs.values() if r == "extract"}
    assert extract_threads == {THREADS}
    assert (wd / "data/models/tiny/config.json").exists()  # materialised once, on the submitting host
    assert list((wd / "logs/slurm/rule_extract").rglob("*.log")), "SLURM output under logs/slurm (the profile)"


@pytest.mark.parametrize("rule, state", [("extract", "FAILED"), ("extract_tatoeba", "CANCELLED")])
def test_a_killed_or_cancelled_job_is_retried(slurm_run, rule, state):
    wd, env, log, hit = slurm_run
    jobs = _submitted_jobs(log)
    rows = _sacct(env, list(jobs))
    comment = next(r["Comment"] for r in rows if r["JobID"] == hit[rule])
    same = [r for r in rows if r["Comment"] == comment]
    assert [r["State"].split(" by ")[0] for r in same] == [state, "COMPLETED"], same  # "CANCELLED by <uid>"
    assert int(same[1]["JobID"]) > int(hit[rule])
    # the retry asked for the second attempt's resources (mem_mb and runtime grow with the attempt)
    assert int(same[1]["ReqMem"].rstrip("M")) > int(same[0]["ReqMem"].rstrip("M"))


def test_scores_equal_a_local_run(slurm_run, tmp_path, tiny_model_dir, shared_data):
    wd, env, _, _ = slurm_run
    local = tmp_path / "local"
    _config(local, tiny_model_dir, shared_data)
    r = _snakemake(local, env, "--cores", str(THREADS), *SET_THREADS)
    assert r.returncode == 0, r.stderr[-3000:]
    for t in TARGETS:
        assert (wd / t).read_bytes() == (local / t).read_bytes(), t


def test_a_job_failing_for_good_stops_the_run_naming_its_log(slurm_run, tmp_path):
    wd, env, _, _ = slurm_run
    broken = tmp_path / "broken"
    shutil.copytree(wd, broken, symlinks=True)
    # a corrupt cached input: its readers fail on every attempt (--retries 1: two attempts each)
    with (broken / "results/tiny/embeddings/tatoeba_de-en/de.parquet").open("r+b") as f:
        f.truncate(1000)
    profile = ["--profile", str(ROOT / "profiles/slurm")]
    r = _snakemake(broken, env, *profile, *OVERRIDES, "--retries", "1")
    out = r.stdout + r.stderr
    assert r.returncode != 0
    rule_log = "logs/tiny/retrieval_tatoeba.log"
    assert "Error in rule retrieval_tatoeba" in out and rule_log in out, out[-4000:]
    assert "tatoeba_de-en/de.parquet: cannot read it" in (broken / rule_log).read_text()
    ids = re.findall(r"has been submitted with SLURM jobid (\d+)", out)
    # both readers of the corrupt file (retrieval_tatoeba, means_analysis) fail twice: attempt 1 and its retry
    attempts: dict[str, list[str]] = {}
    for row in _sacct(env, ids):
        rule = re.match(r"rule_(\w+?)_wildcards", row["Comment"]).group(1)
        attempts.setdefault(rule, []).append(row["State"])
    assert attempts == {r: ["FAILED", "FAILED"] for r in ("retrieval_tatoeba", "means_analysis")}, attempts
