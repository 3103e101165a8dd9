"""Readers for the raw data files: Tatoeba, BUCC 2018, XNLI (XTREME TSV), CoNLL-U, plain text.

Every reader checks the format and raises :class:`langrep.errors.InputFormatError` naming the file
and the (1-based) line on malformed input, including bytes that are not UTF-8.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import conllu
import conllu.exceptions
import conllu.parser

from langrep.errors import InputFormatError

PathLike = str | os.PathLike


def iter_lines(path: PathLike) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` for each line, without the line ending (LF or CRLF) or a UTF-8 BOM."""
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputFormatError(path, lineno, f"not valid UTF-8 (byte {e.start}: {raw[e.start:e.start + 1]!r})") from None
            if lineno == 1 and line.startswith("\ufeff"):
                line = line[1:]
            yield lineno, line.rstrip("\r\n")


def read_plain_text(path: PathLike, limit: int | None = None) -> list[tuple[int, str]]:
    """One sentence per line: ``(line number, sentence)``, blank lines skipped, first ``limit`` kept."""
    out = []
    for lineno, line in iter_lines(path):
        text = line.strip()
        if text:
            out.append((lineno, text))
            if limit is not None and len(out) >= limit:
                break
    return out


def read_tatoeba(xx_path: PathLike, en_path: PathLike) -> tuple[list[str], list[str]]:
    """The two sides of a Tatoeba pair file set; line i of one is the translation of line i of the other."""
    xx = [line.strip() for _, line in iter_lines(xx_path)]
    en = [line.strip() for _, line in iter_lines(en_path)]
    if len(xx) != len(en):
        shorter, n = (xx_path, len(xx)) if len(xx) < len(en) else (en_path, len(en))
        raise InputFormatError(
            shorter, n + 1,
            f"Tatoeba sides have unequal lengths: {xx_path} has {len(xx)} lines, {en_path} has {len(en)}",
        )
    return xx, en


def read_bucc_sentences(path: PathLike) -> list[tuple[str, str]]:
    """BUCC sentences, ``ID<TAB>sentence`` per line: ``[(id, sentence), ...]`` (ids unique)."""
    out = []
    seen: set[str] = set()
    for lineno, line in iter_lines(path):
        if "\t" not in line:
            raise InputFormatError(path, lineno, "expected ID<TAB>sentence, found no tab")
        sid, text = line.split("\t", 1)
        sid = sid.strip()
        if not sid:
            raise InputFormatError(path, lineno, "empty sentence ID")
        if sid in seen:
            raise InputFormatError(path, lineno, f"duplicate sentence ID {sid!r}")
        seen.add(sid)
        out.append((sid, text.strip()))
    return out


def read_bucc_gold(path: PathLike, src_ids=None, tgt_ids=None) -> list[tuple[str, str]]:
    """BUCC gold pairs, ``xx-ID<TAB>en-ID`` per line. If id collections are given, every id must be in them."""
    src_ids = set(src_ids) if src_ids is not None else None
    tgt_ids = set(tgt_ids) if tgt_ids is not None else None
    out = []
    for lineno, line in iter_lines(path):
        fields = line.split("\t")
        if len(fields) != 2 or not all(f.strip() for f in fields):
            raise InputFormatError(path, lineno, f"expected xx-ID<TAB>en-ID, found {len(fields)} field(s)")
        src, tgt = (f.strip() for f in fields)
        if src_ids is not None and src not in src_ids:
            raise InputFormatError(path, lineno, f"gold pair names {src!r}, which is not in the source sentences")
        if tgt_ids is not None and tgt not in tgt_ids:
            raise InputFormatError(path, lineno, f"gold pair names {tgt!r}, which is not in the English sentences")
        out.append((src, tgt))
    return out


XNLI_LABELS = ("entailment", "neutral", "contradiction")


@dataclass
class XnliRows:
    """The columns of an XNLI TSV file (``label`` is None for unlabelled files)."""
    premise: list[str]
    hypothesis: list[str]
    label: list[str] | None  # None for the unlabelled (XTREME test) files


def read_xnli(path: PathLike, labelled: bool) -> XnliRows:
    """XTREME's XNLI TSV: ``premise<TAB>hypothesis`` (test) or ``...<TAB>label`` (dev, ``labelled``)."""
    n_fields = 3 if labelled else 2
    rows = XnliRows([], [], [] if labelled else None)
    for lineno, line in iter_lines(path):
        fields = line.split("\t")
        if len(fields) != n_fields:
            want = "premise<TAB>hypothesis" + ("<TAB>label" if labelled else "")
            raise InputFormatError(path, lineno, f"expected {n_fields} tab-separated fields ({want}), found {len(fields)}")
        rows.premise.append(fields[0].strip())
        rows.hypothesis.append(fields[1].strip())
        if labelled:
            label = fields[2].strip()
            if label not in XNLI_LABELS:
                raise InputFormatError(path, lineno, f"label {label!r} is not one of {XNLI_LABELS}")
            rows.label.append(label)
    return rows


# --------------------------------------------------------------------------------------------
# CoNLL-U


@dataclass
class UDSentence:
    """One CoNLL-U sentence, syntactic words only (multiword-token ranges and empty nodes dropped)."""

    id: str                 # the sent_id comment, else the 1-based sentence number
    words: list[str]
    upos: list[str]
    heads: list[int]        # 0 = root; i = the i-th word (1-based)
    deprels: list[str]
    raw_text: str | None    # the "# text =" comment, if any
    line: int               # line where the sentence starts

    @property
    def text(self) -> str:
        """The words joined by spaces."""
        return " ".join(self.words)


# conllu parses only what is used here; FEATS, DEPS and MISC stay strings (they cost most of the
# parse time and nothing downstream reads them).
_RAW = lambda line, i: line[i]  # noqa: E731
_FIELD_PARSERS = {f: _RAW for f in conllu.parser.DEFAULT_FIELDS}
_FIELD_PARSERS["id"] = conllu.parser.DEFAULT_FIELD_PARSERS["id"]
_FIELD_PARSERS["head"] = conllu.parser.DEFAULT_FIELD_PARSERS["head"]

_WORD_ID = re.compile(r"[1-9][0-9]*")
_RANGE_ID = re.compile(r"[1-9][0-9]*-[1-9][0-9]*")
_EMPTY_ID = re.compile(r"[0-9]+\.[1-9][0-9]*")


def read_conllu(path: PathLike) -> list[UDSentence]:
    """Parse a CoNLL-U file with the ``conllu`` package, after checking what it lets pass.

    ``conllu`` accepts lines with the wrong number of fields and gives no line numbers, so each
    line is checked here first: 10 tab-separated fields, a valid ID, an integer HEAD in range for
    syntactic words, word IDs 1..n in order.
    """
    sentences: list[UDSentence] = []
    seen_ids: set[str] = set()
    block: list[tuple[int, str]] = []

    def flush():
        if not any(not line.startswith("#") for _, line in block):
            block.clear()  # comment-only block (e.g. a trailing comment): no sentence
            return
        sent = _parse_block(path, block, len(sentences) + 1)
        if sent.id in seen_ids:
            raise InputFormatError(path, sent.line, f"duplicate sent_id {sent.id!r}")
        seen_ids.add(sent.id)
        sentences.append(sent)
        block.clear()

    for lineno, line in iter_lines(path):
        if line.strip() == "":
            if block:
                flush()
        else:
            block.append((lineno, line))
    if block:
        flush()
    return sentences


def _parse_block(path, block: list[tuple[int, str]], number: int) -> UDSentence:
    n_words = 0
    heads_at: list[tuple[int, int]] = []  # (line, head) to check the range once n is known
    for lineno, line in block:
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            raise InputFormatError(path, lineno, f"expected 10 tab-separated fields, found {len(fields)}")
        tid, head = fields[0], fields[6]
        if _WORD_ID.fullmatch(tid):
            n_words += 1
            if int(tid) != n_words:
                raise InputFormatError(path, lineno, f"word ID {tid} out of order (expected {n_words})")
            if not re.fullmatch(r"[0-9]+", head):
                raise InputFormatError(path, lineno, f"HEAD {head!r} of word {tid} is not an integer")
            heads_at.append((lineno, int(head)))
        elif not (_RANGE_ID.fullmatch(tid) or _EMPTY_ID.fullmatch(tid)):
            raise InputFormatError(path, lineno, f"invalid ID {tid!r}")
    for lineno, head in heads_at:
        if head > n_words:
            raise InputFormatError(path, lineno, f"HEAD {head} points past the last word ({n_words})")
    start = block[0][0]
    try:
        tokens = conllu.parse_token_and_metadata(
            "\n".join(line for _, line in block), field_parsers=_FIELD_PARSERS
        )
    except (conllu.exceptions.ParseException, ValueError) as e:
        raise InputFormatError(path, start, f"CoNLL-U sentence does not parse: {e}") from None
    words = [t for t in tokens if isinstance(t["id"], int)]
    meta = tokens.metadata
    return UDSentence(
        id=str(meta.get("sent_id") or number),
        words=[t["form"] for t in words],
        upos=[t["upos"] for t in words],
        heads=[int(t["head"]) for t in words],
        deprels=[t["deprel"] for t in words],
        raw_text=meta.get("text"),
        line=start,
    )
