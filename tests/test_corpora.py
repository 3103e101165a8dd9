"""Normalization into data/corpora/{corpus}/{lang}.parquet, on the mirrored files, and the rules."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from langrep.data import catalog, corpora, readers
from langrep.data.corpora import CorpusId
from langrep.errors import InputFormatError, LangrepError
from langrep.settings import data as data_settings
from langrep.settings.data import DataSettings

REPO = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("no_env_mirror")  # a mirror in the environment would win


@pytest.fixture
def settings(shared_data) -> DataSettings:
    return DataSettings.from_config({"mirror": str(shared_data)})


def _normalize(corpus, lang, settings, shared_data, out_dir, **kw):
    """Normalize straight from the mirror: its layout is the data/raw layout."""
    inputs = corpora.corpus_inputs(corpus, lang, settings, raw_root=shared_data)
    out = out_dir / corpus / f"{lang}.parquet"
    n = corpora.normalize_corpus(corpus, lang, inputs, out, **kw)
    table = pq.read_table(out)
    assert table.num_rows == n
    return table


def test_parse_corpus_ids():
    assert corpora.parse_corpus("mono") == CorpusId("mono")
    assert corpora.parse_corpus("tatoeba_kmr-en") == CorpusId("tatoeba", "kmr")
    assert corpora.parse_corpus("bucc_zh-en_test") == CorpusId("bucc", "zh", "test")
    assert corpora.parse_corpus("xnli_dev") == CorpusId("xnli", None, "dev")
    assert corpora.parse_corpus("ud_train") == CorpusId("ud", None, "train")
    for bad in ("tatoeba_de", "bucc_zh-en_train", "xnli", "ud_validation", "mono/x"):
        with pytest.raises(LangrepError, match=re.escape(repr(bad))):
            corpora.parse_corpus(bad)


def test_corpus_inputs(settings):
    assert corpora.corpus_inputs("tatoeba_zh-en", "en", settings) == {
        "xx": "data/raw/tatoeba/tatoeba.cmn-eng.cmn",
        "en": "data/raw/tatoeba/tatoeba.cmn-eng.eng",
    }
    assert corpora.corpus_inputs("bucc_zh-en_test", "zh", settings) == {
        "sentences": "data/raw/bucc2018/zh-en/zh-en.test.zh"
    }
    assert corpora.corpus_inputs("ud_dev", "en", settings) == {
        "conllu": "data/raw/ud/UD_English-EWT/en_ewt-ud-dev.conllu"
    }
    assert corpora.corpus_inputs("mono", "fr", settings) == {"text": "data/raw/mono/fr.txt"}
    assert corpora.corpus_inputs("mono", "kmr", settings) == {"text": "data/raw/tatoeba/tatoeba.kur-eng.kur"}
    assert corpora.corpus_inputs("mono", "bxr", settings) == {
        "conllu": "data/raw/ud/UD_Buryat-BDT/bxr_bdt-ud-train.conllu"
    }
    download = DataSettings.from_config({"mirror": None})
    assert corpora.corpus_inputs("mono", "kmr", download) == {"text": "data/raw/mono/kmr.txt"}
    with pytest.raises(LangrepError, match="tatoeba_de-en has no language 'fr'"):
        corpora.corpus_inputs("tatoeba_de-en", "fr", settings)
    with pytest.raises(LangrepError, match="xnli_test has no language 'ja'"):
        corpora.corpus_inputs("xnli_test", "ja", settings)
    with pytest.raises(LangrepError, match="unknown Tatoeba language 'zz'"):
        corpora.corpus_inputs("tatoeba_zz-en", "zz", settings)
    with pytest.raises(LangrepError, match="BUCC 2018 has no ja-en"):
        corpora.corpus_inputs("bucc_ja-en_dev", "ja", settings)


def test_tatoeba_sides_share_ids(settings, shared_data, tmp_path):
    de = _normalize("tatoeba_de-en", "de", settings, shared_data, tmp_path)
    en = _normalize("tatoeba_de-en", "en", settings, shared_data, tmp_path)
    assert de.schema.names == en.schema.names == ["id", "lang", "text"]
    assert de.num_rows == en.num_rows == 1000
    assert de["id"].to_pylist() == en["id"].to_pylist() == [str(i) for i in range(1, 1001)]
    assert set(de["lang"].to_pylist()) == {"de"} and set(en["lang"].to_pylist()) == {"en"}
    raw = (shared_data / "tatoeba" / "tatoeba.deu-eng.deu").read_text(encoding="utf-8").splitlines()
    assert de["text"].to_pylist() == [line.strip() for line in raw]
    th = _normalize("tatoeba_th-en", "th", settings, shared_data, tmp_path)
    assert th.num_rows == 548


def test_xnli_test_is_parallel(settings, shared_data, tmp_path):
    de = _normalize("xnli_test", "de", settings, shared_data, tmp_path)
    sw = _normalize("xnli_test", "sw", settings, shared_data, tmp_path)
    assert de.schema.names == ["id", "lang", "text", "hypothesis"]
    assert de.num_rows == sw.num_rows == 5010
    assert de["id"].to_pylist() == sw["id"].to_pylist()
    line7 = (shared_data / "xnli" / "test-de.tsv").read_text(encoding="utf-8").split("\n")[6].split("\t")
    row = de.slice(6, 1).to_pylist()[0]
    assert (row["id"], row["text"], row["hypothesis"]) == ("7", line7[0], line7[1])
    dev = _normalize("xnli_dev", "ar", settings, shared_data, tmp_path)
    assert dev.schema.names == ["id", "lang", "text", "hypothesis", "label"] and dev.num_rows == 2490


def test_bucc_corpus_and_gold(settings, shared_data, tmp_path):
    zh = _normalize("bucc_zh-en_dev", "zh", settings, shared_data, tmp_path)
    en = _normalize("bucc_zh-en_dev", "en", settings, shared_data, tmp_path)
    assert (zh.num_rows, en.num_rows) == (8624, 13589)
    assert zh["id"][0].as_py() == "zh-000000001" and en["id"][0].as_py().startswith("en-")
    gold_path = tmp_path / "bucc_zh-en_dev" / "gold.parquet"
    n = corpora.write_bucc_gold(**corpora.bucc_gold_inputs("zh", "dev", shared_data), out=gold_path)
    gold = pq.read_table(gold_path)
    assert n == 257 and gold.schema.names == ["src_id", "tgt_id"]
    assert set(gold["src_id"].to_pylist()) <= set(zh["id"].to_pylist())
    assert set(gold["tgt_id"].to_pylist()) <= set(en["id"].to_pylist())
    assert gold.slice(0, 1).to_pylist() == [{"src_id": "zh-000000057", "tgt_id": "en-000008530"}]


def test_bucc_subset_keeps_every_gold_sentence(shared_data, tmp_path):
    """data.bucc_sentences: all gold-pair sentences plus a seeded sample of the others, in file order."""
    settings = DataSettings.from_config({"mirror": str(shared_data), "bucc_sentences": 1000})
    inputs = corpora.corpus_inputs("bucc_zh-en_dev", "en", settings, raw_root=shared_data)
    assert set(inputs) == {"sentences", "gold"}
    out = tmp_path / "en.parquet"
    n = corpora.normalize_corpus("bucc_zh-en_dev", "en", inputs, out, bucc_sentences=1000)
    ids = pq.read_table(out)["id"].to_pylist()
    assert n == len(ids) == 1000
    gold_en = {
        line.split("\t")[1].strip() for line in (shared_data / "bucc2018/zh-en/zh-en.dev.gold").read_text().splitlines()
    }
    assert gold_en <= set(ids)
    all_ids = [line.split("\t")[0] for line in (shared_data / "bucc2018/zh-en/zh-en.dev.en").read_text().splitlines()]
    assert ids == [i for i in all_ids if i in set(ids)]  # file order
    again = tmp_path / "again.parquet"
    corpora.normalize_corpus("bucc_zh-en_dev", "en", inputs, again, bucc_sentences=1000)
    assert pq.read_table(again)["id"].to_pylist() == ids  # seeded
    # a cap below the gold count keeps the gold sentences only
    rows = [(f"x{i}", "t") for i in range(10)]
    assert corpora.bucc_subset(rows, {"x3", "x7"}, 1) == [("x3", "t"), ("x7", "t")]
    assert corpora.bucc_subset(rows, set(), 20) == rows


def test_ud_corpus(settings, shared_data, tmp_path):
    t = _normalize("ud_test", "en", settings, shared_data, tmp_path)
    assert t.schema == corpora.UD_SCHEMA
    assert t.num_rows == 2077
    rows = t.to_pylist()
    assert sum(len(r["words"]) for r in rows) == 25094
    assert all(r["text"] == " ".join(r["words"]) for r in rows)
    assert all(len(r["upos"]) == len(r["heads"]) == len(r["deprels"]) == len(r["words"]) for r in rows)
    fr = _normalize("ud_test", "fr", settings, shared_data, tmp_path)
    assert fr.num_rows == 416 and sum(len(w) for w in fr["words"].to_pylist()) == 10018


def test_mono_cap_and_stand_ins(settings, shared_data, tmp_path):
    de = _normalize("mono", "de", settings, shared_data, tmp_path, mono_sentences=1000)
    assert de.num_rows == 1000
    zh = _normalize("mono", "zh", settings, shared_data, tmp_path, mono_sentences=None)
    assert zh.num_rows == 729
    few = _normalize("mono", "fr", settings, shared_data, tmp_path, mono_sentences=3)
    raw = (shared_data / "mono" / "fr.txt").read_text(encoding="utf-8").splitlines()[:3]
    assert few["text"].to_pylist() == raw and few["id"].to_pylist() == ["1", "2", "3"]
    hsb = _normalize("mono", "hsb", settings, shared_data, tmp_path, mono_sentences=1000)
    assert hsb.num_rows == 483  # the whole Tatoeba hsb side
    assert (
        hsb["text"][0].as_py()
        == (shared_data / "tatoeba" / "tatoeba.hsb-eng.hsb").read_text(encoding="utf-8").split("\n")[0].strip()
    )
    sme = _normalize("mono", "sme", settings, shared_data, tmp_path, mono_sentences=None)
    assert sme.num_rows == 2257
    ud = readers.read_conllu(shared_data / "ud" / "UD_North_Sami-Giella" / "sme_giella-ud-train.conllu")
    assert sme["text"][0].as_py() == ud[0].raw_text and sme["id"][0].as_py() == ud[0].id
    bxr = _normalize("mono", "bxr", settings, shared_data, tmp_path, mono_sentences=10)
    assert bxr.num_rows == 10


def test_malformed_input_leaves_no_output(tmp_path):
    bad = tmp_path / "dev-de.tsv"
    bad.write_text("p\th\tneutral\np\th\n", encoding="utf-8")
    out = tmp_path / "corpora" / "xnli_dev" / "de.parquet"
    with pytest.raises(InputFormatError, match=f"{re.escape(str(bad))}, line 2"):
        corpora.normalize_corpus("xnli_dev", "de", {"tsv": bad}, out)
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


@pytest.mark.slow
def test_every_mirrored_conllu_file_parses(shared_data):
    for path in sorted((shared_data / "ud").glob("*/*.conllu")):
        sents = readers.read_conllu(path)
        assert sents and all(len(s.words) == len(s.heads) for s in sents), path


# ---------------------------------------------------------------------------------------------
# The rules (a Snakefile that includes workflow/rules/corpora.smk)

_SNAKEFILE = """
from langrep.paths import path

from langrep import settings as _settings
from langrep.paths import RAW_ROOT

configfile: "config.yaml"
ENV = "../../envs/langrep.yaml"  # relative to workflow/rules/, as in common.smk
# what common.smk gives corpora.smk: the data settings, checked as common.smk checks them
DATA = _settings.DataSettings.from_config(config.get("data"))
_settings.check_mirror(DATA.mirror)
_settings.check_config(config, DATA.mirror)
include: "{smk}"

def corpus_path(corpus, lang):
    return path("corpus", corpus=corpus, lang=lang)

rule all:
    input:
        corpus_path("tatoeba_de-en", "de"), corpus_path("tatoeba_de-en", "en"),
        corpus_path("bucc_zh-en_dev", "zh"), "data/corpora/bucc_zh-en_dev/gold.parquet",
        corpus_path("ud_test", "fr"), corpus_path("mono", "kmr"), corpus_path("mono", "el"),
"""


def _workdir(tmp_path: Path, mirror) -> Path:
    (tmp_path / "Snakefile").write_text(
        _SNAKEFILE.format(
            common=REPO / "workflow" / "rules" / "common.smk", smk=REPO / "workflow" / "rules" / "corpora.smk"
        )
    )
    data = {"mirror": None if mirror is None else str(mirror), "mono_sentences": 7}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"data": data}))
    return tmp_path


def _snakemake(workdir: Path, *args: str, env_mirror: str | None = None, ok: bool = True) -> str:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    env.pop(data_settings.MIRROR_ENV, None)
    if env_mirror is not None:
        env[data_settings.MIRROR_ENV] = env_mirror
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-c1", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def _job_counts(out: str) -> dict[str, int]:
    table = out.split("Job stats:")[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m[1] != "total"}


def test_rules_dry_run_with_mirror(shared_data, tmp_path):
    out = _snakemake(_workdir(tmp_path, shared_data), "-n")
    # mono el, the BUCC sides and gold pairs: written by their fetch jobs; Tatoeba, UD and the kmr
    # stand-in (from Tatoeba kur) by normalize_corpus
    assert _job_counts(out) == {
        "fetch_tatoeba": 2,
        "fetch_bucc": 1,
        "fetch_ud": 1,
        "fetch_mono": 1,
        "normalize_corpus": 4,
        "all": 1,
    }
    assert "data/raw/tatoeba/tatoeba.kur-eng.kur" in out  # kmr mono stand-in
    assert "data/raw/mono/kmr.txt" not in out
    # the environment variable, empty, switches to downloads: mono kmr then comes from Wikipedia
    out = _snakemake(tmp_path, "-n", env_mirror="")
    assert "data/raw/mono/kmr.txt" in out and "tatoeba.kur-eng.kur" not in out


@pytest.mark.slow
def test_rules_run_from_mirror(shared_data, tmp_path, monkeypatch):
    # few jobs (each rule script starts a Python): fetch_bucc writes the sides and the gold pairs,
    # fetch_mono the el corpus; fetch_tatoeba + normalize_corpus the kmr stand-in
    out = _snakemake(
        _workdir(tmp_path, shared_data),
        "data/corpora/bucc_zh-en_dev/gold.parquet",
        "data/corpora/mono/kmr.parquet",
        "data/corpora/mono/el.parquet",
    )
    assert _job_counts(out) == {"fetch_bucc": 1, "fetch_mono": 1, "fetch_tatoeba": 1, "normalize_corpus": 1}
    c = tmp_path / "data" / "corpora"
    assert pq.read_table(c / "bucc_zh-en_dev" / "gold.parquet").num_rows == 257
    # the fetch jobs' corpora are the files normalize_corpus writes from the same raw files
    monkeypatch.chdir(tmp_path)  # the raw paths, relative as the rules give them, are in the files' metadata
    raw = "data/raw"
    settings = data_settings.DataSettings.from_config({"mirror": str(shared_data), "mono_sentences": 7})
    for corpus, lang in (("bucc_zh-en_dev", "zh"), ("bucc_zh-en_dev", "en"), ("mono", "el")):
        again = tmp_path / "again" / corpus / f"{lang}.parquet"
        inputs = corpora.corpus_inputs(corpus, lang, settings, raw_root=raw)
        corpora.normalize_corpus(corpus, lang, inputs, again, mono_sentences=7, bucc_sentences=settings.bucc_sentences)
        assert again.read_bytes() == (c / corpus / f"{lang}.parquet").read_bytes(), (corpus, lang)
    assert "data/corpora/mono/el.parquet: 7 rows" in (tmp_path / "logs/corpora/fetch_mono/el.log").read_text()
    kmr = pq.read_table(c / "mono" / "kmr.parquet")
    assert kmr.num_rows == 7 and kmr["lang"].to_pylist() == ["kmr"] * 7
    assert (tmp_path / "data/raw/bucc2018/zh-en/zh-en.dev.gold").read_bytes() == (
        shared_data / "bucc2018/zh-en/zh-en.dev.gold"
    ).read_bytes()
    assert (tmp_path / "logs/corpora/normalize/mono/kmr.log").read_text().strip().endswith("7 rows")


def test_empty_corpus_fails_naming_the_raw_file(tmp_path):
    empty = tmp_path / "xx.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    out = tmp_path / "corpora" / "mono" / "xx.parquet"
    with pytest.raises(LangrepError, match=f"{re.escape(str(empty))}: no sentences"):
        corpora.normalize_corpus("mono", "xx", {"text": empty}, out)
    assert not out.exists()


@pytest.mark.slow
def test_the_mirror_content_not_its_path_decides_reruns(shared_data, tmp_path):
    rels = list(catalog.tatoeba_relpaths("deu").values())
    mirror = tmp_path / "mirror"
    for rel in rels:
        (mirror / rel).parent.mkdir(parents=True, exist_ok=True)
        (mirror / rel).write_bytes((shared_data / rel).read_bytes())
    workdir = tmp_path / "work"
    workdir.mkdir()
    _workdir(workdir, mirror)
    target = "data/corpora/tatoeba_de-en/de.parquet"
    _snakemake(workdir, target)
    raw = {rel: workdir / "data/raw" / rel for rel in rels}
    assert all(p.stat().st_nlink == 1 and p.read_bytes() == (mirror / rel).read_bytes() for rel, p in raw.items())
    stamps = {rel: p.stat().st_mtime_ns for rel, p in raw.items()}

    # the same files elsewhere (new mtimes): nothing to do
    moved = tmp_path / "moved"
    shutil.copytree(mirror, moved)
    assert "Nothing to be done" in _snakemake(workdir, target, env_mirror=str(moved))
    # a mirror that is not there: one clear error before any job, and every raw file stays as it was
    out = _snakemake(workdir, target, env_mirror=str(tmp_path / "nonexistent"), ok=False)
    assert "no such folder" in out and "Select jobs to execute" not in out
    assert {rel: p.stat().st_mtime_ns for rel, p in raw.items()} == stamps
    # a mirror missing a file the run needs: an error naming it, at DAG time, nothing deleted
    (moved / rels[1]).unlink()
    out = _snakemake(workdir, target, env_mirror=str(moved), ok=False)
    assert "tatoeba.deu-eng.eng is not in the offline mirror" in out
    assert all(p.exists() for p in raw.values())
    # a fixed mirror file replaces the stale raw copy
    (moved / rels[1]).write_bytes((mirror / rels[1]).read_bytes())
    fixed = (moved / rels[0]).read_text(encoding="utf-8").split("\n", 1)
    (moved / rels[0]).write_text("Ein korrigierter Satz.\n" + fixed[1], encoding="utf-8")
    _snakemake(workdir, target, env_mirror=str(moved))
    assert raw[rels[0]].read_bytes() == (moved / rels[0]).read_bytes()
    assert pq.read_table(workdir / target)["text"][0].as_py() == "Ein korrigierter Satz."
    assert (mirror / rels[0]).read_bytes() == (shared_data / rels[0]).read_bytes()
