"""envs/langrep.yaml (the rules' conda environment) and its post-deploy script."""

import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENV = ROOT / "envs" / "langrep.yaml"
# pip distribution name -> conda-forge package name, where they differ
CONDA_NAMES = {"torch": "pytorch", "huggingface-hub": "huggingface_hub"}


def _pyproject_deps() -> list[str]:
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return [re.split(r"[<>=!~ ;\[]", d, maxsplit=1)[0].lower() for d in deps]


def _env():
    env = yaml.safe_load(ENV.read_text())
    conda = {}
    pip = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep["pip"]
        else:
            name, _, version = re.match(r"([A-Za-z0-9_.-]+)\s*((?:[=<>]=?)\s*(.*))?$", dep).groups()
            conda[name.lower()] = version
    return env, conda, pip


def test_conda_forge_only_and_every_dependency_pinned():
    env, conda, pip = _env()
    assert env["channels"] == ["conda-forge"]
    unpinned = [n for n, v in conda.items() if not v]
    assert unpinned == []
    assert not any(p.startswith("-e") or p.startswith(".") for p in pip), "the project is installed post-deploy"
    for req in pip:
        assert "==" in req


def test_every_library_dependency_is_in_the_environment():
    _, conda, pip = _env()
    pip_names = {re.split(r"==", p)[0].lower() for p in pip}
    missing = [d for d in _pyproject_deps() if CONDA_NAMES.get(d, d) not in conda and d not in pip_names]
    assert missing == []


def test_pins_are_the_versions_installed_here():
    """The env pins the minor releases the test suite runs with (pip install of the README)."""
    _, conda, _ = _env()
    for dist in _pyproject_deps():
        pin = conda.get(CONDA_NAMES.get(dist, dist))
        if pin is None or not re.fullmatch(r"\d+(\.\d+)*", pin):
            continue
        installed = metadata.version(dist).split("+")[0]
        assert installed.split(".")[: len(pin.split("."))] == pin.split("."), (dist, pin, installed)


@pytest.mark.slow
def test_post_deploy_installs_langrep_from_the_project_folder(tmp_path):
    """What Snakemake does after creating the env: run the script from the project folder."""
    venv = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = dict(os.environ, PATH=f"{venv / 'bin'}:{os.environ['PATH']}")
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    # the env's own build tool, as envs/langrep.yaml pins it
    pin = next(d for d in yaml.safe_load(ENV.read_text())["dependencies"] if str(d).startswith("setuptools"))
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", pin.split("#")[0].strip()],
        check=True,
        env=env,
        timeout=300,
    )
    script = ROOT / "envs" / "langrep.post-deploy.sh"
    wrong = subprocess.run(["bash", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert wrong.returncode != 0 and "run snakemake from the langrep project folder" in wrong.stderr
    done = subprocess.run(["bash", str(script)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import importlib.util; print(importlib.util.find_spec('langrep').origin)",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert where.stdout.strip() == str(ROOT / "src" / "langrep" / "__init__.py")
