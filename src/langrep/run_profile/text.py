"""The profile as text, and the ``langrep-profile`` command."""

from __future__ import annotations

import argparse
import sys
import time

from langrep.errors import LangrepError
from langrep.run_profile.jobs import Profile, concurrency, profile


def _utc(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


def _minutes(s: float) -> str:
    return f"{int(s // 60)} min {s % 60:.0f} s"


def _num(x: float | None, fmt: str = ".1f") -> str:
    return "-" if x is None else format(x, fmt)


def format_profile(p: Profile) -> str:
    """The profile as text: the run's totals, its critical path, the rules, and what was skipped."""
    n = len(p.jobs)
    job_s = sum(j.wall_s for j in p.jobs)
    timed = [j for j in p.jobs if j.cpu_s is not None]
    cpu_s = sum(j.cpu_s for j in timed)
    path_s = sum(j.wall_s for j in p.critical_path)
    wall = max(p.wall_s, 1e-9)
    lower = "" if len(timed) == n else f", a lower bound: {n - len(timed)} job(s) have no CPU time"
    lines = [
        f"Run profile of {p.workdir}: {n} jobs, {_utc(p.start)} to {_utc(p.end)[11:]} UTC",
        f"  wall time     {p.wall_s:8.1f} s ({_minutes(p.wall_s)}): first job's start to last job's end",
        f"  job time      {job_s:8.1f} s summed over the jobs: {job_s / wall:.2f} jobs at a time on average",
        "  jobs at once  "
        + ", ".join(f"{k}: {t:.0f} s" for k, t in concurrency(p.jobs).items() if t >= 0.5)
        + " (how long the run had that many jobs running)",
        f"  CPU time      {cpu_s:8.1f} s in {len(timed)} benchmarked job(s): parallelism (CPU s / wall) "
        f"{cpu_s / wall:.2f}{lower}",
        f"  critical path {path_s:8.1f} s ({100 * path_s / wall:.0f}% of the wall time) in "
        f"{len(p.critical_path)} jobs: the run's length with unlimited cores",
        "",
        "Critical path (start, end: seconds after the run's start; wall: the job's own time)",
    ]
    rw = max([len(r.rule) for r in p.rules] + [4])
    lines.append(f"  {'start':>7} {'end':>7} {'wall':>7}  {'rule':<{rw}}  output")
    for j in p.critical_path:
        lines.append(
            f"  {j.start - p.start:7.1f} {j.end - p.start:7.1f} {j.wall_s:7.1f}  {j.rule:<{rw}}  {j.name}"
            + (f" (+{len(j.outputs) - 1} more)" if len(j.outputs) > 1 else "")
        )
    lines += [
        "",
        "Per rule (most wall time first; CPU and memory from the jobs with a benchmark file)",
        f"  {'rule':<{rw}} {'jobs':>5} {'wall s':>8} {'wall %':>6} {'CPU s':>8} {'CPU/wall':>8} "
        f"{'max RSS MB':>10} {'benchmarked':>11}",
    ]
    for r in p.rules:
        cores = r.cpu_s / r.benchmarked_wall_s if r.cpu_s is not None and r.benchmarked_wall_s > 0 else None
        lines.append(
            f"  {r.rule:<{rw}} {r.jobs:5d} {r.wall_s:8.1f} {100 * r.wall_s / max(job_s, 1e-9):6.1f} "
            f"{_num(r.cpu_s):>8} {_num(cores, '.2f'):>8} {_num(r.max_rss_mb, '.0f'):>10} "
            f"{f'{r.benchmarked}/{r.jobs}':>11}"
        )
    if p.notes:
        lines += ["", "Skipped or left out:"] + [f"  - {note}" for note in p.notes]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``langrep-profile [WORKDIR] [--all]``: print where a run's time went."""
    parser = argparse.ArgumentParser(
        prog="langrep-profile",
        description="Where a Snakemake run's time went: wall time, critical path, time per rule "
        "(from .snakemake/metadata and the rules' benchmark: files).",
    )
    parser.add_argument("workdir", nargs="?", default=".", help="the folder Snakemake ran in (default: .)")
    parser.add_argument("--all", action="store_true", help="every recorded job, not only the latest run's")
    args = parser.parse_args(argv)
    try:
        p = profile(args.workdir, all_runs=args.all)
    except LangrepError as err:
        print(f"langrep-profile: {err}", file=sys.stderr)
        return 1
    sys.stdout.write(format_profile(p))
    return 0
