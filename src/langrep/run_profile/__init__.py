"""Where a run's time went: its wall time, critical path and time per rule, from Snakemake's records.

``langrep-profile [WORKDIR]`` (or ``python -m langrep.run_profile``) after a run; docs/time-profile.md.

Where the numbers come from, and why there:

- **Jobs, their start and end, and what they waited for**: Snakemake's own metadata, one record per
  output file under ``.snakemake/metadata/`` (the default file backend; the SQLite one of
  ``--persistence-backend db`` is read too). A record names the rule, the job's input and log files,
  ``starttime`` (when Snakemake marked the output incomplete: the job started) and ``endtime`` (the
  output's mtime: when the job wrote it). Records with the same rule and ``job_hash`` whose starts lie
  within a second are one job, ending at its last output. A job depends on the jobs that made its
  inputs (or a folder above an input). Every job of every rule has a record, with or without a
  ``benchmark:`` directive, and the records need nothing else: no Snakefile, no config, no rebuilt
  DAG (``snakemake --dag`` would need the run's exact config and still give no times), so a finished
  run profiles after its config changed, and on another machine.
- **CPU time and memory**: the rules' ``benchmark:`` files, found through the job's log
  (``langrep.paths.benchmark_of``: ``logs/{job}.benchmark.tsv`` beside ``logs/{job}.log``). A file
  older than its job's start is an earlier run's and is left out.

Limits: the metadata keeps the latest record of each output, so a profile shows the jobs of the
latest Snakemake run that ran any (``all_runs`` widens it to every recorded job): a job of a run is
one that started after that run's ``.snakemake/log/*.snakemake.log`` was opened. Outputs that are
gone (``temp()``) take their records with them. Snakemake samples CPU time every 0.5 s for a job's
first 30 s, then every 30 s, so a benchmark's ``cpu_time`` misses up to that last interval, and a job
shorter than 0.5 s often has none (``NA``).

It imports only the standard library and langrep.paths: the command starts in a tenth of a second.
"""

from langrep.run_profile.jobs import (
    Job,
    Profile,
    RuleTime,
    concurrency,
    critical_path,
    dependencies,
    profile,
    read_benchmark,
    rule_times,
)
from langrep.run_profile.text import format_profile, main

__all__ = [
    "Job",
    "Profile",
    "RuleTime",
    "concurrency",
    "critical_path",
    "dependencies",
    "format_profile",
    "main",
    "profile",
    "read_benchmark",
    "rule_times",
]
