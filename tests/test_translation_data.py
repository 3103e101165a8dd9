"""Translation data on the real XNLI test files: lines (premise + hypothesis), de-duplication, pairing,
token sets."""

from __future__ import annotations

import pandas as pd
import pytest

from langrep.data import corpora
from langrep.errors import InputFormatError, LangrepError
from langrep.settings.data import DataSettings
from langrep.translation.data import parallel_lines, read_vocab_sets, read_xnli_lines, write_vocab_sets


@pytest.fixture(scope="module")
def xnli(shared_data, tmp_path_factory):
    """The xnli_test corpus of en, de, zh, normalized from the mirror as the pipeline does."""
    out = tmp_path_factory.mktemp("corpora")
    settings = DataSettings.from_config({"mirror": str(shared_data)})
    paths = {}
    for lang in ("en", "de", "zh"):
        paths[lang] = out / f"{lang}.parquet"
        corpora.normalize_corpus(
            "xnli_test", lang, corpora.corpus_inputs("xnli_test", lang, settings, raw_root=shared_data), paths[lang]
        )
    return paths


def _raw_lines(shared_data, lang):
    """Independently: the TSV's lines, premise and hypothesis joined by one space."""
    text = (shared_data / "xnli" / f"test-{lang}.tsv").read_text(encoding="utf-8")
    rows = [line.rstrip("\r").split("\t") for line in text.split("\n") if line.strip()]
    return [f"{p.strip()} {h.strip()}" for p, h in rows]


def test_lines_are_premise_and_hypothesis_deduplicated_in_file_order(xnli, shared_data):
    raw_en, raw_de, raw_zh = (_raw_lines(shared_data, lang) for lang in ("en", "de", "zh"))
    assert len(raw_en) == len(raw_de) == 5010
    pl = parallel_lines(xnli["en"], {"de": xnli["de"], "zh": xnli["zh"]}, None)
    seen, want_ids = set(), []
    for i, line in enumerate(raw_en, start=1):
        if line not in seen:
            seen.add(line)
            want_ids.append(str(i))
    assert pl.ids == want_ids and len(pl.ids) == 5009  # one English line repeats
    assert pl.texts == [raw_en[int(i) - 1] for i in pl.ids]
    assert pl.references["de"] == [raw_de[int(i) - 1] for i in pl.ids]
    assert pl.references["zh"] == [raw_zh[int(i) - 1] for i in pl.ids]
    # the file repeats each premise for its three hypotheses: lines, not premises, are the unit
    premises = pd.read_parquet(xnli["en"])["text"]
    assert premises[0] == premises[1] == premises[2] and len(set(pl.texts[:3])) == 3
    first = parallel_lines(xnli["en"], {"de": xnli["de"]}, 100)
    assert first.ids == pl.ids[:100] and len(set(first.texts)) == 100


def test_lines_errors(xnli, tmp_path):
    with pytest.raises(LangrepError, match="n_sentences"):
        parallel_lines(xnli["en"], {"de": xnli["de"]}, 0)
    premises_only = tmp_path / "x.parquet"
    pd.read_parquet(xnli["de"]).drop(columns="hypothesis").to_parquet(premises_only)
    with pytest.raises(InputFormatError, match="hypothesis"):
        read_xnli_lines(premises_only)
    short = tmp_path / "short.parquet"
    pd.read_parquet(xnli["de"]).head(10).to_parquet(short)
    with pytest.raises(InputFormatError, match="short.parquet.*'11'"):
        parallel_lines(xnli["en"], {"de": short}, 20)


def test_vocab_sets_round_trip(tmp_path):
    sets = {"en": {5, 7, 9}, "de": {7, 11}}
    write_vocab_sets(sets, tmp_path / "v.parquet")
    assert read_vocab_sets(tmp_path / "v.parquet", ["de", "en"]) == sets
    with pytest.raises(LangrepError, match="no token set for \\['zh'\\]"):
        read_vocab_sets(tmp_path / "v.parquet", ["en", "zh"])
    with pytest.raises(LangrepError, match="not found"):
        read_vocab_sets(tmp_path / "missing.parquet", ["en"])
