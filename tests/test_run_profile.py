"""langrep-profile: the critical path and rule sums on hand-built jobs, then on real Snakemake runs of
a toy workflow whose jobs sleep known times in a known shape (a diamond beside a chain)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from langrep.errors import LangrepError
from langrep.paths import benchmark_of
from langrep.run_profile import (
    Job,
    concurrency,
    critical_path,
    dependencies,
    format_profile,
    main,
    profile,
    rule_times,
)

SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def job(rule, out, start, end, inputs=(), cpu=None, rss=None):
    return Job(rule=rule, outputs=(out,), start=start, end=end, inputs=tuple(inputs), cpu_s=cpu, max_rss_mb=rss)


def test_critical_path_is_the_longest_chain_of_dependent_jobs():
    # diamond a -> (b, c) -> d, beside a chain e -> f -> g; durations make a-b-d the longest (2+5+1 = 8)
    # although the chain's last job ends last and c runs long (4 s) but beside b
    jobs = [
        job("a", "a", 0, 2),
        job("b", "b", 2, 7, ["a"]),
        job("c", "c", 2, 6, ["a"]),
        job("d", "d", 7, 8, ["b", "c"]),
        job("e", "e", 0, 3),
        job("f", "f", 3, 6, ["e"]),
        job("g", "g", 8, 9.5, ["f", "missing/elsewhere"]),  # waited for a core: 2 s of queueing, not on a path
    ]
    assert [j.rule for j in critical_path(jobs)] == ["a", "b", "d"]
    # the chain grows to 3 + 3 + 2.5 = 8.5: now it is the longest
    jobs[-1] = job("g", "g", 8, 10.5, ["f"])
    assert [j.rule for j in critical_path(jobs)] == ["e", "f", "g"]
    assert critical_path([]) == []


def test_dependencies_follow_inputs_and_folders_above_them():
    jobs = [
        job("model", "data/models/m", 0, 1),
        job("use", "x", 1, 2, ["data/models/m/config.json", "data/raw/untracked.txt"]),
        job("self", "y", 2, 3, ["y"]),
    ]
    assert dependencies(jobs) == {0: set(), 1: {0}, 2: set()}
    cycle = [job("p", "p", 0, 1, ["q"]), job("q", "q", 1, 2, ["p"])]
    with pytest.raises(LangrepError, match="cycle"):
        critical_path(cycle)


def test_rule_times_sum_each_rules_jobs():
    jobs = [
        job("x", "1", 0, 4, cpu=3.0, rss=100),
        job("x", "2", 0, 2, cpu=None, rss=None),  # no benchmark: counts in wall time only
        job("y", "3", 1, 11, cpu=18.0, rss=50),
        job("z", "4", 0, 1),
    ]
    rows = {r.rule: r for r in rule_times(jobs)}
    assert [r.rule for r in rule_times(jobs)] == ["y", "x", "z"]  # most wall time first
    assert (rows["x"].jobs, rows["x"].wall_s, rows["x"].cpu_s, rows["x"].benchmarked) == (2, 6.0, 3.0, 1)
    assert rows["x"].benchmarked_wall_s == 4.0 and rows["x"].max_rss_mb == 100
    assert rows["y"].cpu_s / rows["y"].benchmarked_wall_s == pytest.approx(1.8)
    assert rows["z"].cpu_s is None and rows["z"].max_rss_mb is None


def test_concurrency_counts_the_seconds_with_k_jobs_running():
    # 0-2: one job; 2-3: two; 3-4: three; 4-5: one; 5-6: none (a gap); 6-8: one
    jobs = [job("x", "1", 0, 5), job("x", "2", 2, 4), job("y", "3", 3, 4), job("z", "4", 6, 8)]
    assert concurrency(jobs) == {0: 1.0, 1: 5.0, 2: 1.0, 3: 1.0}
    assert sum(concurrency(jobs).values()) == 8.0


def test_benchmark_files_sit_beside_the_logs():
    assert benchmark_of("logs/m/extract/mono/de.log") == "logs/m/extract/mono/de.benchmark.tsv"
    assert benchmark_of("logs/report/default/report.log") == "logs/report/default/report.benchmark.tsv"
    assert benchmark_of("elsewhere/x.log") is None and benchmark_of("logs/x.txt") is None


def test_the_command_imports_no_array_or_model_library():
    code = "import sys, langrep.run_profile; print([m for m in ('torch', 'numpy', 'pandas') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_folder_without_a_run_is_one_clear_error(tmp_path, capsys):
    assert main([str(tmp_path)]) == 1
    assert f"{tmp_path}: no .snakemake folder" in capsys.readouterr().err
    (tmp_path / ".snakemake" / "metadata").mkdir(parents=True)
    with pytest.raises(LangrepError, match="no finished job recorded"):
        profile(tmp_path)


LONG = "c_" + "x" * 200 + ".txt"  # its metadata record's name is split into folders (over 255 chars)

TOY = f"""
rule all:
    input: "d.txt", "g3.txt"

rule a:
    output: "a.txt"
    log: "logs/a.log"
    benchmark: "logs/a.benchmark.tsv"
    shell: "sleep 1; touch {{output}}"

rule b:  # 1 s of CPU, then 2.5 s asleep in the same process (Snakemake samples its CPU time then)
    input: "a.txt"
    output: "b.txt"
    log: "logs/b.log"
    benchmark: "logs/b.benchmark.tsv"
    shell: "{sys.executable} -c 'import time\\nwhile time.process_time() < 1: pass\\ntime.sleep(2.5)'; touch {{output}}"

rule c:  # no benchmark
    input: "a.txt"
    output: "{LONG}"
    log: "logs/c.log"
    shell: "sleep 0.5; touch {{output}}"

rule d:
    input: "b.txt", "{LONG}"
    output: "d.txt"
    log: "logs/d.log"
    benchmark: "logs/d.benchmark.tsv"
    shell: "sleep 1; touch {{output}}"

rule step:  # g1 -> g2 -> g3
    input: lambda w: [] if w.n == "1" else [f"g{{int(w.n) - 1}}.txt"]
    output: "g{{n}}.txt"
    log: "logs/step/{{n}}.log"
    benchmark: "logs/step/{{n}}.benchmark.tsv"
    shell: "sleep 1; touch {{output}}"
"""
SLEEPS = {"a": 1.0, "b": 3.5, "c": 0.5, "d": 1.0, "step": 1.0}  # b: at least its CPU time + its sleep
SLACK = 10  # process starts and CPU on a loaded machine (2 cores shared by several runs: up to +5 s seen)


def _snakemake(wd: Path, *args):
    r = subprocess.run(SNAKEMAKE + ["--cores", "2", *args], cwd=wd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]


def test_profile_of_a_real_run_finds_the_shape_and_times(tmp_path):
    (tmp_path / "Snakefile").write_text(textwrap.dedent(TOY))
    _snakemake(tmp_path)
    p = profile(tmp_path)

    assert {r.rule: r.jobs for r in p.rules} == {"a": 1, "b": 1, "c": 1, "d": 1, "step": 3}
    for j in p.jobs:  # start: before the shell ran; end: the output's mtime, after the sleep
        assert SLEEPS[j.rule] <= j.wall_s < SLEEPS[j.rule] + SLACK, (j.rule, j.wall_s)
    assert {j.name for j in p.jobs if j.rule == "c"} == {LONG}
    path = p.critical_path
    assert [j.rule for j in path] == ["a", "b", "d"]
    assert 5.5 <= sum(j.wall_s for j in path) <= min(p.wall_s + 0.01, 5.5 + SLACK)
    assert p.wall_s < sum(j.wall_s for j in p.jobs)  # two cores: jobs ran side by side
    running = concurrency(p.jobs)
    assert max(running) == 2 and running[2] > 1 and sum(running.values()) == pytest.approx(p.wall_s)
    b = next(j for j in p.jobs if j.rule == "b")
    assert 0.95 <= b.cpu_s < 3 and b.max_rss_mb > 1  # psutil counts in 10 ms ticks, the TSV rounds
    missing = [n for n in p.notes if "no benchmark" in n]
    assert missing == ["no benchmark file: no CPU time or memory for 1 job(s): c (1)"]

    text = format_profile(p)
    assert f"Run profile of {tmp_path}: 7 jobs" in text
    lines = text.splitlines()
    cp = lines.index("Critical path (start, end: seconds after the run's start; wall: the job's own time)")
    assert [line.split()[3] for line in lines[cp + 2 : cp + 5]] == ["a", "b", "d"]
    assert lines[cp + 5] == ""

    # A second run redoes d only: the profile shows that run; --all every recorded job.
    (tmp_path / ".snakemake/metadata/not-base64!").write_text("{")
    os.utime(tmp_path / "logs/a.benchmark.tsv", (p.start - 100, p.start - 100))
    _snakemake(tmp_path, "-R", "d")
    again = profile(tmp_path)
    assert [j.rule for j in again.jobs] == ["d"] and again.start > p.end
    assert "6 job(s) of earlier runs left out (--all counts them)" in again.notes
    assert "1 metadata record(s) without rule or times skipped" in again.notes
    every = profile(tmp_path, all_runs=True)
    assert len(every.jobs) == 7 and every.wall_s > again.wall_s
    assert "1 benchmark file(s) older than their job left out (an earlier run's)" in every.notes
    assert next(j for j in every.jobs if j.rule == "a").cpu_s is None
