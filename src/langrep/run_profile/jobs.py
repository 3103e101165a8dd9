"""The run's jobs from Snakemake's metadata and the benchmark files; its critical path and rule sums
(the package docstring says where each number comes from)."""

from __future__ import annotations

import base64
import csv
import json
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from graphlib import CycleError, TopologicalSorter
from pathlib import Path, PurePosixPath

from langrep.errors import LangrepError
from langrep.paths import benchmark_of

SAME_JOB_S = 1.0  # a job's outputs are marked incomplete within this of each other
STALE_S = 1.0  # a benchmark file this much older than its job's start is an earlier run's


@dataclass(frozen=True)
class Job:
    """One finished job: its rule, files and times (epoch seconds); CPU and memory from its benchmark."""

    rule: str
    outputs: tuple[str, ...]
    start: float
    end: float
    inputs: tuple[str, ...] = ()
    logs: tuple[str, ...] = ()
    cpu_s: float | None = None
    max_rss_mb: float | None = None

    @property
    def wall_s(self) -> float:
        """The job's wall time in seconds (end minus start, never negative)."""
        return max(self.end - self.start, 0.0)

    @property
    def name(self) -> str:
        """The job's first output, or its rule when it has none."""
        return self.outputs[0] if self.outputs else self.rule


@dataclass(frozen=True)
class RuleTime:
    """The jobs of one rule, summed."""

    rule: str
    jobs: int
    wall_s: float
    cpu_s: float | None  # over the jobs with a benchmark CPU time (None: none has)
    benchmarked: int  # how many jobs have one
    benchmarked_wall_s: float  # their wall time (cpu_s / this: the cores a job of the rule kept busy)
    max_rss_mb: float | None


@dataclass
class Profile:
    """A run's profile: its jobs (by start), span, critical path, rules (by wall time) and notes."""

    workdir: Path
    jobs: list[Job]
    start: float
    end: float
    critical_path: list[Job]
    rules: list[RuleTime]
    notes: list[str] = field(default_factory=list)

    @property
    def wall_s(self) -> float:
        """The run's wall time in seconds: first job's start to last job's end."""
        return self.end - self.start


def _metadata_records(workdir: Path) -> list[tuple[str, dict]]:
    """(output path, record) of every metadata record, from the file backend and/or the SQLite one."""
    out = []
    root = workdir / ".snakemake" / "metadata"
    for dirpath, _, files in os.walk(root):
        rel = Path(dirpath).relative_to(root).parts  # long names: "@"-prefixed chunks as folders
        for name in files:
            key = "".join(p.removeprefix("@") for p in (*rel, name))
            try:
                record = json.loads((Path(dirpath) / name).read_text())
                out.append((base64.urlsafe_b64decode(key).decode(), record))
            except (ValueError, OSError):
                out.append((str(Path(dirpath) / name), {}))  # unreadable: reported as skipped
    db = workdir / ".snakemake" / "metadata.db"
    if db.is_file():
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(
                "SELECT * FROM snakemake_metadata WHERE namespace = ?", (str(workdir.absolute()),)
            ).fetchall()
        for row in rows:
            record = dict(row)
            for key in ("input", "log"):
                record[key] = json.loads(record[key]) if record[key] else []
            out.append((record["target"], record))
    return out


def read_benchmark(path: Path) -> tuple[float | None, float | None]:
    """(cpu_time s, max_rss MB) of a ``benchmark:`` TSV's first row; None where it says NA."""

    def number(value):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None

    with open(path, newline="") as f:
        row = next(csv.DictReader(f, delimiter="\t"), None)
    if row is None or "cpu_time" not in row:
        raise LangrepError(f"{path}: not a Snakemake benchmark file (no cpu_time column)")
    return number(row["cpu_time"]), number(row.get("max_rss"))


def _group_jobs(records, notes: list[str]) -> list[Job]:
    """The finished jobs of ``records`` ((output, record) pairs): one per rule, job hash and start."""
    groups: dict[tuple, list] = {}
    unreadable = incomplete = 0
    for output, rec in records:
        if not rec.get("rule") or rec.get("starttime") is None or rec.get("endtime") is None:
            unreadable += 1
        elif rec.get("incomplete"):
            incomplete += 1
        else:
            groups.setdefault((rec["rule"], rec.get("job_hash")), []).append((rec["starttime"], output, rec))
    if unreadable:
        notes.append(f"{unreadable} metadata record(s) without rule or times skipped")
    if incomplete:
        notes.append(f"{incomplete} output(s) of unfinished jobs skipped")
    jobs = []
    for (rule, _), members in groups.items():
        members.sort(key=lambda m: m[0])
        cluster = [members[0]]
        for m in members[1:] + [None]:
            if m is not None and m[0] - cluster[0][0] <= SAME_JOB_S:
                cluster.append(m)
                continue
            rec = cluster[0][2]
            jobs.append(
                Job(
                    rule=rule,
                    outputs=tuple(sorted(c[1] for c in cluster)),
                    start=min(c[0] for c in cluster),
                    end=max(c[2]["endtime"] for c in cluster),
                    inputs=tuple(rec.get("input") or ()),
                    logs=tuple(rec.get("log") or ()),
                )
            )
            cluster = [m]
    return jobs


def _run_starts(workdir: Path) -> list[float]:
    """When each Snakemake run here began: the names of its logs (local time, as Snakemake writes them)."""
    starts = []
    for log in (workdir / ".snakemake" / "log").glob("*.snakemake.log"):
        try:
            starts.append(datetime.strptime(log.name.split(".snakemake")[0], "%Y-%m-%dT%H%M%S.%f").timestamp())
        except ValueError:
            continue
    return sorted(starts)


def _latest_run(jobs: list[Job], workdir: Path, notes: list[str]) -> list[Job]:
    """The jobs of the latest run that ran any (all jobs when the runs' logs are gone)."""
    last = max(j.start for j in jobs)
    begun = [s for s in _run_starts(workdir) if s <= last]
    if not begun:
        notes.append("no .snakemake/log: every recorded job counted as one run")
        return jobs
    kept = [j for j in jobs if j.start >= begun[-1]]
    if len(kept) < len(jobs):
        notes.append(f"{len(jobs) - len(kept)} job(s) of earlier runs left out (--all counts them)")
    return kept


def _with_benchmarks(jobs: list[Job], workdir: Path, notes: list[str]) -> list[Job]:
    """The jobs with CPU time and memory from their benchmark files, where there are (fresh) ones."""
    out, missing, stale = [], {}, 0
    for job in jobs:
        found = None
        for log in job.logs:
            bench = benchmark_of(log)
            if bench and (workdir / bench).is_file():
                found = workdir / bench
                break
        if found is not None and found.stat().st_mtime < job.start - STALE_S:
            stale, found = stale + 1, None
        if found is None:
            missing[job.rule] = missing.get(job.rule, 0) + 1
            out.append(job)
            continue
        cpu, rss = read_benchmark(found)
        out.append(Job(**{**job.__dict__, "cpu_s": cpu, "max_rss_mb": rss}))
    if missing:
        listed = ", ".join(f"{rule} ({n})" for rule, n in sorted(missing.items()))
        notes.append(f"no benchmark file: no CPU time or memory for {sum(missing.values())} job(s): {listed}")
    if stale:
        notes.append(f"{stale} benchmark file(s) older than their job left out (an earlier run's)")
    return out


def dependencies(jobs: list[Job]) -> dict[int, set[int]]:
    """For each job (by index), the jobs whose outputs it read: an input, or a folder above one."""
    made_by = {out: i for i, job in enumerate(jobs) for out in job.outputs}
    deps = {}
    for i, job in enumerate(jobs):
        found = set()
        for f in job.inputs:
            for p in (f, *map(str, PurePosixPath(f).parents)):
                if p in made_by and made_by[p] != i:
                    found.add(made_by[p])
                    break
        deps[i] = found
    return deps


def critical_path(jobs: list[Job]) -> list[Job]:
    """The chain of dependent jobs with the largest summed wall time, first job first: the run's
    length with unlimited cores. Raises LangrepError on a dependency cycle."""
    if not jobs:
        return []
    deps = dependencies(jobs)
    try:
        order = list(TopologicalSorter(deps).static_order())
    except CycleError as err:
        raise LangrepError(f"the recorded jobs depend on each other in a cycle: {err.args[1]}") from None
    finish: dict[int, float] = {}
    via: dict[int, int | None] = {}
    for i in order:
        before = max(deps[i], key=lambda d: finish[d], default=None)
        via[i] = before
        finish[i] = jobs[i].wall_s + (finish[before] if before is not None else 0.0)
    i = max(finish, key=finish.get)
    path = []
    while i is not None:
        path.append(jobs[i])
        i = via[i]
    return path[::-1]


def concurrency(jobs: list[Job]) -> dict[int, float]:
    """Seconds of the run (first start to last end) during which exactly k jobs ran, for each k seen."""
    events = sorted([(j.start, 1) for j in jobs] + [(j.end, -1) for j in jobs])
    out: dict[int, float] = {}
    running = 0
    for (t, step), (t_next, _) in zip(events, events[1:]):
        running += step
        if t_next > t:
            out[running] = out.get(running, 0.0) + t_next - t
    return dict(sorted(out.items()))


def rule_times(jobs: list[Job]) -> list[RuleTime]:
    """Each rule's jobs summed (wall, CPU from the benchmarked ones, peak memory), most wall time first."""
    by_rule: dict[str, list[Job]] = {}
    for job in jobs:
        by_rule.setdefault(job.rule, []).append(job)
    rows = []
    for rule, js in by_rule.items():
        cpus = [j.cpu_s for j in js if j.cpu_s is not None]
        rss = [j.max_rss_mb for j in js if j.max_rss_mb is not None]
        rows.append(
            RuleTime(
                rule=rule,
                jobs=len(js),
                wall_s=sum(j.wall_s for j in js),
                cpu_s=sum(cpus) if cpus else None,
                benchmarked=len(cpus),
                benchmarked_wall_s=sum(j.wall_s for j in js if j.cpu_s is not None),
                max_rss_mb=max(rss) if rss else None,
            )
        )
    return sorted(rows, key=lambda r: (-r.wall_s, r.rule))


def profile(workdir: str | Path = ".", all_runs: bool = False) -> Profile:
    """The profile of the latest Snakemake run in ``workdir`` (``all_runs``: of every recorded job)."""
    workdir = Path(workdir)
    if not (workdir / ".snakemake").is_dir():
        raise LangrepError(f"{workdir}: no .snakemake folder (not a folder Snakemake ran in)")
    notes: list[str] = []
    jobs = _group_jobs(_metadata_records(workdir), notes)
    if not jobs:
        raise LangrepError(
            f"{workdir / '.snakemake/metadata'}: no finished job recorded (no run yet, or run with --drop-metadata)"
        )
    if not all_runs:
        jobs = _latest_run(jobs, workdir, notes)
    jobs = sorted(_with_benchmarks(jobs, workdir, notes), key=lambda j: (j.start, j.name))
    return Profile(
        workdir=workdir,
        jobs=jobs,
        start=min(j.start for j in jobs),
        end=max(j.end for j in jobs),
        critical_path=critical_path(jobs),
        rules=rule_times(jobs),
        notes=notes,
    )
