"""Readers on the real mirrored files (counts from ../shared/data/SOURCES.md) and on malformed input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from langrep.data import readers
from langrep.errors import InputFormatError


def _raises_at(exc_info, path, line):
    err = exc_info.value
    assert err.path == str(path) and err.line == line, (err.path, err.line)
    assert f"{path}, line {line}" in str(err)


# ---------------------------------------------------------------------------------------------
# Tatoeba


@pytest.mark.parametrize("code,pairs", [("deu", 1000), ("tha", 548), ("hsb", 483)])
def test_tatoeba_pairs(shared_data, code, pairs):
    t = shared_data / "tatoeba"
    xx, en = readers.read_tatoeba(t / f"tatoeba.{code}-eng.{code}", t / f"tatoeba.{code}-eng.eng")
    assert len(xx) == len(en) == pairs
    raw = (t / f"tatoeba.{code}-eng.eng").read_text(encoding="utf-8").split("\n")
    assert en[0] == raw[0].strip() and en[-1] == raw[pairs - 1].strip()


def test_tatoeba_first_german_pair(shared_data):
    t = shared_data / "tatoeba"
    xx, en = readers.read_tatoeba(t / "tatoeba.deu-eng.deu", t / "tatoeba.deu-eng.eng")
    assert (xx[0], en[0]) == ("Maria sagte, sie wisse nicht, wo Tom sei.", "Mary said she didn't know where Tom was.")


def test_tatoeba_unequal_sides(tmp_path):
    a, b = tmp_path / "t.xxx", tmp_path / "t.eng"
    a.write_text("eins\nzwei\ndrei\n", encoding="utf-8")
    b.write_text("one\ntwo\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="unequal lengths") as e:
        readers.read_tatoeba(a, b)
    _raises_at(e, b, 3)


# ---------------------------------------------------------------------------------------------
# BUCC


def test_bucc_zh_en_dev(shared_data):
    d = shared_data / "bucc2018" / "zh-en"
    zh = readers.read_bucc_sentences(d / "zh-en.dev.zh")
    en = readers.read_bucc_sentences(d / "zh-en.dev.en")
    assert (len(zh), len(en)) == (8624, 13589)
    assert zh[0] == ("zh-000000001", "辽宁省，简称辽，舊稱奉天省，中國的一个省，省會位于沈阳市。")
    gold = readers.read_bucc_gold(d / "zh-en.dev.gold", [i for i, _ in zh], [i for i, _ in en])
    assert len(gold) == 257
    assert gold[0] == ("zh-000000057", "en-000008530")


def test_bucc_line_without_tab(tmp_path):
    p = tmp_path / "x.de"
    p.write_text("de-1\tEin Satz.\nde-2 kein Tab\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="no tab") as e:
        readers.read_bucc_sentences(p)
    _raises_at(e, p, 2)


def test_bucc_duplicate_id(tmp_path):
    p = tmp_path / "x.de"
    p.write_text("de-1\ta\nde-2\tb\nde-1\tc\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="duplicate") as e:
        readers.read_bucc_sentences(p)
    _raises_at(e, p, 3)


def test_bucc_gold_unknown_id(tmp_path):
    p = tmp_path / "x.gold"
    p.write_text("de-1\ten-1\nde-2\ten-9\n", encoding="utf-8")
    assert readers.read_bucc_gold(p) == [("de-1", "en-1"), ("de-2", "en-9")]  # no ids given: no check
    with pytest.raises(InputFormatError, match="en-9") as e:
        readers.read_bucc_gold(p, ["de-1", "de-2"], ["en-1", "en-2"])
    _raises_at(e, p, 2)
    with pytest.raises(InputFormatError, match="de-2") as e:
        readers.read_bucc_gold(p, ["de-1"], ["en-1", "en-9"])
    _raises_at(e, p, 2)


def test_bucc_gold_field_count(tmp_path):
    p = tmp_path / "x.gold"
    p.write_text("de-1\ten-1\nde-2\ten-2\textra\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="3 field") as e:
        readers.read_bucc_gold(p)
    _raises_at(e, p, 2)


# ---------------------------------------------------------------------------------------------
# XNLI


def test_xnli_test_and_dev(shared_data):
    x = shared_data / "xnli"
    test = readers.read_xnli(x / "test-de.tsv", labelled=False)
    assert len(test.premise) == len(test.hypothesis) == 5010 and test.label is None
    first = (x / "test-de.tsv").read_text(encoding="utf-8").split("\n")[0].split("\t")
    assert (test.premise[0], test.hypothesis[0]) == (first[0], first[1])
    dev = readers.read_xnli(x / "dev-en.tsv", labelled=True)
    assert len(dev.premise) == 2490
    assert Counter(dev.label) == {"entailment": 830, "neutral": 830, "contradiction": 830}


def test_xnli_wrong_column_count(tmp_path, shared_data):
    p = tmp_path / "test-xx.tsv"
    p.write_text("a premise\ta hypothesis\nonly one field\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="expected 2 tab-separated fields") as e:
        readers.read_xnli(p, labelled=False)
    _raises_at(e, p, 2)
    # a labelled (dev) file read as test, and the other way round
    with pytest.raises(InputFormatError, match="found 3") as e:
        readers.read_xnli(shared_data / "xnli" / "dev-de.tsv", labelled=False)
    assert e.value.line == 1
    with pytest.raises(InputFormatError, match="found 2"):
        readers.read_xnli(shared_data / "xnli" / "test-de.tsv", labelled=True)


def test_xnli_bad_label(tmp_path):
    p = tmp_path / "dev-xx.tsv"
    p.write_text("p\th\tneutral\np\th\tmaybe\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="maybe") as e:
        readers.read_xnli(p, labelled=True)
    _raises_at(e, p, 2)


# ---------------------------------------------------------------------------------------------
# CoNLL-U


def test_conllu_en_ewt_test_counts(shared_data):
    sents = readers.read_conllu(shared_data / "ud" / "UD_English-EWT" / "en_ewt-ud-test.conllu")
    assert len(sents) == 2077
    assert sum(len(s.words) for s in sents) == 25094
    for s in sents:
        n = len(s.words)
        assert len(s.upos) == len(s.heads) == len(s.deprels) == n
        assert all(0 <= h <= n for h in s.heads) and s.heads.count(0) >= 1
    assert len({s.id for s in sents}) == 2077


def test_conllu_empty_node_dropped(shared_data):
    # en_ewt test, email-enronsent28_01-0019: "... they had left Wall Street, many [left] for good."
    # has the empty node 24.1 "left" between words 24 "many" and 25 "for".
    sents = readers.read_conllu(shared_data / "ud" / "UD_English-EWT" / "en_ewt-ud-test.conllu")
    s = next(s for s in sents if s.id == "email-enronsent28_01-0019")
    assert len(s.words) == 27
    assert s.words[23:] == ["many", "for", "good", "."]
    assert s.upos[23:] == ["ADJ", "ADP", "ADJ", "PUNCT"]
    assert s.heads[23:] == [6, 26, 24, 6]
    assert s.deprels[23:] == ["parataxis", "case", "orphan", "punct"]
    assert s.words.count("left") == 1  # the real word 20 only


def test_conllu_multiword_token_dropped(shared_data):
    # de_gsd test-s2: "... noch im selben Jahr ..." where 19-20 "im" = 19 "in" + 20 "dem".
    sents = readers.read_conllu(shared_data / "ud" / "UD_German-GSD" / "de_gsd-ud-test.conllu")
    s = next(s for s in sents if s.id == "test-s2")
    assert s.words[17:21] == ["noch", "in", "dem", "selben"]
    assert "im" not in s.words
    assert s.heads[18:20] == [22, 22] and s.deprels[18:20] == ["case", "det"]
    assert s.raw_text.startswith("Ich habe dort 2007 meinen OWD gemacht")
    assert s.text.split(" ") == s.words


_GOOD = "\t".join(["1", "Hallo", "hallo", "INTJ", "_", "_", "0", "root", "_", "_"])


def _conllu(tmp_path, *token_lines: str) -> Path:
    p = tmp_path / "bad.conllu"
    p.write_text(
        "# sent_id = s1\n" + _GOOD + "\n\n# sent_id = s2\n" + "\n".join(token_lines) + "\n\n", encoding="utf-8"
    )
    return p


def test_conllu_bad_field_count(tmp_path):
    p = _conllu(tmp_path, "\t".join(["1", "Welt", "welt", "NOUN", "_", "_", "0", "root", "_"]))
    with pytest.raises(InputFormatError, match="10 tab-separated fields, found 9") as e:
        readers.read_conllu(p)
    _raises_at(e, p, 5)


def test_conllu_non_integer_head(tmp_path):
    p = _conllu(tmp_path, _GOOD, "\t".join(["2", "Welt", "welt", "NOUN", "_", "_", "x", "obj", "_", "_"]))
    with pytest.raises(InputFormatError, match="HEAD 'x'") as e:
        readers.read_conllu(p)
    _raises_at(e, p, 6)


def test_conllu_head_out_of_range_and_bad_id(tmp_path):
    p = _conllu(tmp_path, _GOOD.replace("\t0\troot", "\t7\troot"))
    with pytest.raises(InputFormatError, match="past the last word") as e:
        readers.read_conllu(p)
    _raises_at(e, p, 5)
    p = _conllu(tmp_path, _GOOD.replace("1\t", "one\t", 1))
    with pytest.raises(InputFormatError, match="invalid ID") as e:
        readers.read_conllu(p)
    _raises_at(e, p, 5)


def test_conllu_reads_minimal_file(tmp_path):
    p = _conllu(
        tmp_path,
        "1-2\tzum\t_\t_\t_\t_\t_\t_\t_\t_",
        "1\tzu\tzu\tADP\t_\t_\t2\tcase\t_\t_",
        "2\tdem\tder\tDET\t_\t_\t0\troot\t_\t_",
        "2.1\tx\tx\tX\t_\t_\t_\t_\t0:root\t_",
    )
    s1, s2 = readers.read_conllu(p)
    assert (s1.id, s1.words, s1.heads) == ("s1", ["Hallo"], [0])
    assert (s2.id, s2.words, s2.upos, s2.heads, s2.deprels) == (
        "s2",
        ["zu", "dem"],
        ["ADP", "DET"],
        [2, 0],
        ["case", "root"],
    )


# ---------------------------------------------------------------------------------------------
# Plain text, encodings


def test_plain_text_skips_blank_lines(tmp_path):
    p = tmp_path / "xx.txt"
    p.write_bytes("\ufeffeins\n\n  zwei  \r\n   \ndrei\n".encode("utf-8"))
    assert readers.read_plain_text(p) == [(1, "eins"), (3, "zwei"), (5, "drei")]
    assert readers.read_plain_text(p, limit=2) == [(1, "eins"), (3, "zwei")]


def test_plain_text_mono_file(shared_data):
    rows = readers.read_plain_text(shared_data / "mono" / "zh.txt")
    assert len(rows) == 729 and rows[-1][0] == 729


@pytest.mark.parametrize(
    "reader",
    [
        lambda p: readers.read_plain_text(p),
        lambda p: readers.read_bucc_sentences(p),
        lambda p: readers.read_xnli(p, labelled=False),
        lambda p: readers.read_conllu(p),
    ],
)
def test_non_utf8_names_the_line(tmp_path, reader):
    p = tmp_path / "latin1.txt"
    p.write_bytes(b"id-1\tgut\n" + "id-2\tschön\n".encode("latin-1"))
    with pytest.raises(InputFormatError, match="not valid UTF-8") as e:
        reader(p)
    _raises_at(e, p, 2)
