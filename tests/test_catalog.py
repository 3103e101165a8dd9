"""The Tatoeba catalog: every LASER language, code resolution, presets, and a download of a language
the offline mirror lacks (through a file:// URL, no network)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from langrep.data import catalog, corpora, fetch
from langrep.data.download import DownloadSettings
from langrep.errors import LangrepError
from langrep.settings.data import DataSettings


def test_every_laser_language_has_a_code_and_both_checksums():
    assert len(catalog.TATOEBA_LANGUAGES) == 112  # LASER's README: "the test set for 112 languages"
    assert len(set(catalog.TATOEBA_CODES.values())) == 112
    for code, lang in catalog.TATOEBA_LANGUAGES.items():
        assert len(code) in (2, 3) and code.isascii() and code.islower()
        for rel in catalog.tatoeba_relpaths(lang.laser).values():
            assert len(catalog.TATOEBA_SHA256[Path(rel).name]) == 64, rel
    assert len(catalog.TATOEBA_SHA256) == 224


def test_the_mirror_agrees_with_the_catalog(shared_data):
    files = sorted((shared_data / "tatoeba").glob("tatoeba.*"))
    assert len(files) == 36
    for f in files:
        assert hashlib.sha256(f.read_bytes()).hexdigest() == catalog.TATOEBA_SHA256[f.name], f.name


@pytest.mark.parametrize(
    "given, code",
    [
        ("nld", "nl"),
        ("jpn", "ja"),
        ("heb", "he"),
        ("nl", "nl"),  # LASER's code or ISO 639-1
        ("cmn", "zh"),
        ("swh", "sw"),
        ("pes", "fa"),
        ("zsm", "ms"),  # LASER names the individual language
        ("kur", "kmr"),
        ("ku", "kmr"),
        ("kmr", "kmr"),  # Kurdish is kmr, as in UD
        ("yue", "yue"),
        ("hsb", "hsb"),
        ("ang", "ang"),  # no ISO 639-1 code: LASER's
    ],
)
def test_codes_resolve_to_iso_639_1_where_one_exists(given, code):
    assert catalog.resolve_tatoeba_lang(given) == code
    assert catalog.tatoeba_code(code) == catalog.TATOEBA_LANGUAGES[code].laser


def test_presets_and_duplicates():
    xtreme = catalog.resolve_tatoeba_langs(["xtreme"])
    assert len(xtreme) == 36 and xtreme[:3] == ["af", "ar", "bg"] and "en" not in xtreme
    assert catalog.resolve_tatoeba_langs(["nld", "de", "deu", "nl"]) == ["nl", "de"]
    assert catalog.resolve_tatoeba_langs(["ja", "xtreme"])[:2] == ["ja", "af"]  # order kept, ja once
    assert len(catalog.resolve_tatoeba_langs(["xtreme", "ja"])) == 36
    assert catalog.resolve_tatoeba_langs([]) == [] and catalog.resolve_tatoeba_langs(None) == []


@pytest.mark.parametrize(
    "given, suggested",
    [
        ("ndl", "nl (nld, Dutch)"),
        ("Dutch", "nl (nld, Dutch)"),
        ("jap", "ja (jpn, Japanese)"),
        ("deu2", "de (deu, German)"),
    ],
)
def test_unknown_code_names_it_and_the_closest_known_ones(given, suggested):
    with pytest.raises(LangrepError) as e:
        catalog.resolve_tatoeba_langs(["de", given])
    msg = str(e.value)
    assert msg.startswith(f"config key retrieval.tatoeba.langs: unknown Tatoeba language {given!r}; did you mean ")
    assert suggested in msg.split("?")[0]


def test_unknown_code_without_close_ones():
    with pytest.raises(LangrepError, match=r"unknown Tatoeba language 'qqqqq' \(LASER's Tatoeba set has 112"):
        catalog.resolve_tatoeba_lang("qqqqq")


def _remote(tmp_path: Path, laser: str, n: int = 5) -> dict[str, bytes]:
    """A fake LASER tree (data/tatoeba/v1 flattened) holding one pair."""
    remote = tmp_path / "remote" / "tatoeba"  # the registry's layout under a base URL
    remote.mkdir(parents=True, exist_ok=True)
    files = {
        f"tatoeba.{laser}-eng.{laser}": "".join(f"Zin nummer {i}.\n" for i in range(n)).encode(),
        f"tatoeba.{laser}-eng.eng": "".join(f"Sentence number {i}.\n" for i in range(n)).encode(),
    }
    for name, data in files.items():
        (remote / name).write_bytes(data)
    return files


def test_download_of_a_language_not_in_the_mirror(tmp_path, http_folder):
    """nld from a local HTTP base URL: placed under data/raw, checked against the given sha256,
    normalized as tatoeba_nl-en exactly like a built-in pair."""
    files = _remote(tmp_path, "nld")
    downloads = DownloadSettings.from_config(
        {
            "base_url": http_folder(tmp_path / "remote"),
            "sha256": {f"tatoeba/{n}": hashlib.sha256(b).hexdigest() for n, b in files.items()},
        }
    )
    raw = tmp_path / "raw"
    out = fetch.fetch("tatoeba", raw_root=raw, mirror=None, code=catalog.tatoeba_code("nl"), downloads=downloads)
    assert [p.relative_to(raw).as_posix() for p in out] == [
        "tatoeba/tatoeba.nld-eng.nld",
        "tatoeba/tatoeba.nld-eng.eng",
    ]
    assert {p.name: p.read_bytes() for p in out} == files

    settings = DataSettings.from_config({"mirror": None})
    inputs = corpora.corpus_inputs("tatoeba_nl-en", "nl", settings, raw_root=raw)
    assert inputs == {"xx": str(out[0]), "en": str(out[1])}
    for lang, first in (("nl", "Zin nummer 0."), ("en", "Sentence number 0.")):
        dest = tmp_path / "corpora" / f"{lang}.parquet"
        assert corpora.normalize_corpus("tatoeba_nl-en", lang, inputs, dest) == 5
        df = pd.read_parquet(dest)
        assert df["id"].tolist() == ["1", "2", "3", "4", "5"] and df["text"][0] == first
        assert set(df["lang"]) == {lang}


def test_download_with_a_wrong_checksum_fails_and_places_nothing(tmp_path, http_folder):
    _remote(tmp_path, "nld")  # not the published files: the catalog's sha256 cannot match
    downloads = DownloadSettings.from_config({"base_url": http_folder(tmp_path / "remote"), "retries": 0})
    raw = tmp_path / "raw"
    with pytest.raises(
        LangrepError,
        match="data set tatoeba: .*tatoeba.nld-eng.nld failed its check.*"
        + catalog.TATOEBA_SHA256["tatoeba.nld-eng.nld"],
    ):
        fetch.fetch_tatoeba("nld", raw_root=raw, mirror=None, downloads=downloads)
    assert not [p for p in raw.rglob("*") if p.is_file()]


def test_a_language_missing_from_the_mirror_fails_naming_the_file(shared_data, tmp_path):
    with pytest.raises(LangrepError, match=r"data set tatoeba: .*tatoeba\.nld-eng\.nld is not in the offline mirror"):
        fetch.fetch_tatoeba("nld", raw_root=tmp_path, mirror=shared_data)
