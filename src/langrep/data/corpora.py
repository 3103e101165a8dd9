"""Normalize each corpus once into ``data/corpora/{corpus}/{lang}.parquet`` (DEVELOPERS.md).

Every corpus table has ``id``, ``lang``, ``text`` (strings); XNLI adds ``hypothesis`` (and
``label`` for dev); UD adds ``words``, ``upos``, ``heads``, ``deprels`` (syntactic words only).
Ids: Tatoeba and XNLI use the 1-based line number (equal across the sides / languages), BUCC its
own sentence ids, UD the ``sent_id``, mono the line number of its source file (the ``sent_id`` for
UD stand-ins).
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from langrep.data import catalog, readers
from langrep.settings.data import DataSettings
from langrep.errors import LangrepError
from langrep.io import write_parquet

_STR = pa.string()
BASE_SCHEMA = pa.schema([("id", _STR), ("lang", _STR), ("text", _STR)])
UD_SCHEMA = pa.schema(
    list(BASE_SCHEMA)
    + [
        ("words", pa.list_(_STR)),
        ("upos", pa.list_(_STR)),
        ("heads", pa.list_(pa.int32())),
        ("deprels", pa.list_(_STR)),
    ]
)
GOLD_SCHEMA = pa.schema([("src_id", _STR), ("tgt_id", _STR)])


@dataclass(frozen=True)
class CorpusId:
    """A parsed corpus id: ``kind`` in mono/tatoeba/bucc/xnli/ud, the ``xx`` of xx-en pairs, a split."""

    kind: str
    xx: str | None = None
    split: str | None = None


_PATTERNS = [
    (re.compile(r"mono"), "mono"),
    (re.compile(r"tatoeba_(?P<xx>[a-z]{2,3})-en"), "tatoeba"),
    (re.compile(r"bucc_(?P<xx>[a-z]{2})-en_(?P<split>dev|test)"), "bucc"),
    (re.compile(r"xnli_(?P<split>test|dev)"), "xnli"),
    (re.compile(r"ud_(?P<split>train|dev|test)"), "ud"),
]


def parse_corpus(corpus: str) -> CorpusId:
    """The kind, language and split of a corpus id (``tatoeba_de-en``); a LangrepError for an unknown id."""
    for pattern, kind in _PATTERNS:
        m = pattern.fullmatch(corpus)
        if m:
            return CorpusId(kind, m.groupdict().get("xx"), m.groupdict().get("split"))
    raise LangrepError(
        f"unknown corpus id {corpus!r} (expected mono, tatoeba_<xx>-en, bucc_<xx>-en_<dev|test>, "
        "xnli_<test|dev> or ud_<train|dev|test>)"
    )


def corpus_inputs(corpus: str, lang: str, settings: DataSettings, raw_root=catalog.DEFAULT_RAW_ROOT) -> dict[str, str]:
    """The raw files ``normalize_corpus`` needs for ``corpus``/``lang``, as ``{name: path}``.

    Also checks that ``lang`` belongs to the corpus (a LangrepError naming both otherwise).
    """
    c = parse_corpus(corpus)
    raw = Path(raw_root)

    def rooted(d: Mapping[str, str]) -> dict[str, str]:
        return {k: str(raw / v) for k, v in d.items()}

    if c.kind == "tatoeba":
        _check_lang(corpus, lang, (c.xx, "en"))
        return rooted(catalog.tatoeba_relpaths(catalog.tatoeba_code(c.xx)))
    if c.kind == "bucc":
        _check_lang(corpus, lang, (c.xx, "en"))
        rels = catalog.bucc_relpaths(c.xx, c.split)
        files = {"sentences": rels["xx" if lang == c.xx else "en"]}
        if settings.bucc_sentences is not None:  # the subset keeps every sentence of a gold pair
            files["gold"] = rels["gold"]
        return rooted(files)
    if c.kind == "xnli":
        _check_lang(corpus, lang, catalog.XNLI_LANGS)
        return rooted({"tsv": catalog.xnli_relpath(c.split, lang)})
    if c.kind == "ud":
        return rooted({"conllu": catalog.ud_relpath(settings.treebank(lang), c.split)})
    # mono
    stand_in = catalog.mono_stand_in(lang, settings.mirror)
    if stand_in is None:
        return rooted({"text": catalog.mono_relpath(lang)})
    dataset, what = stand_in
    if dataset == "tatoeba":
        return rooted({"text": catalog.tatoeba_relpaths(catalog.tatoeba_code(what))["xx"]})
    return rooted({"conllu": catalog.ud_relpath(settings.treebank(lang), what)})


def bucc_gold_inputs(xx: str, split: str, raw_root=catalog.DEFAULT_RAW_ROOT) -> dict[str, str]:
    """The raw files (under ``raw_root``) of a BUCC pair's split, by role (xx, en, gold)."""
    return {k: str(Path(raw_root) / v) for k, v in catalog.bucc_relpaths(xx, split).items()}


def _check_lang(corpus: str, lang: str, allowed) -> None:
    if lang not in allowed:
        raise LangrepError(f"corpus {corpus} has no language {lang!r} (languages: {', '.join(allowed)})")


def _table(ids, lang, texts, extra: dict | None = None, schema: pa.Schema = BASE_SCHEMA) -> pa.Table:
    cols = {"id": [str(i) for i in ids], "lang": [lang] * len(texts), "text": list(texts)}
    cols.update(extra or {})
    if extra:
        schema = pa.schema(list(schema) + [(k, _STR) for k in extra if k not in schema.names])
    return pa.table(cols, schema=schema)


def normalize_corpus(corpus: str, lang: str, inputs: Mapping[str, str | os.PathLike], out: str | os.PathLike,
                     mono_sentences: int | None = None, bucc_sentences: int | None = None) -> int:
    """Read the raw files of ``corpus``/``lang`` (``inputs`` as from :func:`corpus_inputs`) and write
    ``out`` (Parquet) atomically. Returns the number of rows. ``mono_sentences`` caps ``mono``
    (the first N sentences; None = all); ``bucc_sentences`` caps each BUCC side (see
    :func:`bucc_subset`; needs ``inputs["gold"]``)."""
    c = parse_corpus(corpus)
    if c.kind == "tatoeba":
        _check_lang(corpus, lang, (c.xx, "en"))
        xx, en = readers.read_tatoeba(inputs["xx"], inputs["en"])
        texts = xx if lang == c.xx else en
        table = _table(range(1, len(texts) + 1), lang, texts)
        source = inputs["xx" if lang == c.xx else "en"]
    elif c.kind == "bucc":
        _check_lang(corpus, lang, (c.xx, "en"))
        rows = readers.read_bucc_sentences(inputs["sentences"])
        if bucc_sentences is not None:
            if "gold" not in inputs:
                raise LangrepError(f"{corpus}/{lang}: bucc_sentences needs the gold file among the inputs")
            side = 0 if lang == c.xx else 1
            keep = {pair[side] for pair in readers.read_bucc_gold(inputs["gold"])}
            rows = bucc_subset(rows, keep, bucc_sentences)
        table = _table([i for i, _ in rows], lang, [t for _, t in rows])
        source = inputs["sentences"]
    elif c.kind == "xnli":
        _check_lang(corpus, lang, catalog.XNLI_LANGS)
        rows = readers.read_xnli(inputs["tsv"], labelled=(c.split == "dev"))
        extra = {"hypothesis": rows.hypothesis}
        if rows.label is not None:
            extra["label"] = rows.label
        table = _table(range(1, len(rows.premise) + 1), lang, rows.premise, extra)
        source = inputs["tsv"]
    elif c.kind == "ud":
        table = _ud_table(readers.read_conllu(inputs["conllu"]), lang)
        source = inputs["conllu"]
    else:  # mono, from a text file or (stand-in) a UD file
        if "text" in inputs:
            rows = readers.read_plain_text(inputs["text"], limit=mono_sentences)
            table = _table([n for n, _ in rows], lang, [t for _, t in rows])
            source = inputs["text"]
        else:
            sents = readers.read_conllu(inputs["conllu"])[:mono_sentences]
            table = _table([s.id for s in sents], lang, [s.raw_text or s.text for s in sents])
            source = inputs["conllu"]
    if table.num_rows == 0:  # fail here, naming the raw file, not a stage later on the derived one
        raise LangrepError(f"{source}: no sentences for corpus {corpus}, language {lang} (empty or blank file)")
    write_parquet(table, out, metadata={"corpus": corpus, "lang": lang, "source": str(source)})
    return table.num_rows


GOLD = "gold"  # the "language" of a BUCC pair's gold pairs: data/corpora/bucc_<xx>-en_<split>/gold.parquet


def normalize_placed(corpora: Mapping[str, tuple[str, str]], outputs: Mapping[str, str | os.PathLike],
                     settings: DataSettings, raw_root=catalog.DEFAULT_RAW_ROOT) -> dict[str, int]:
    """Normalize the corpora of a fetch unit whose raw files lie under ``raw_root``: the fetch job
    writes them itself, so that a tiny step costs no process of its own (same files as the
    ``normalize_corpus`` rule). ``corpora`` maps an output name to ``(corpus, lang)`` (lang
    :data:`GOLD`: the BUCC pair's gold pairs), ``outputs`` that name to the file to write; the caps
    are ``settings``'. Returns the rows written per output name."""
    rows = {}
    for name, (corpus, lang) in corpora.items():
        if lang == GOLD:
            c = parse_corpus(corpus)
            rows[name] = write_bucc_gold(**bucc_gold_inputs(c.xx, c.split, raw_root=raw_root), out=outputs[name])
            continue
        rows[name] = normalize_corpus(
            corpus,
            lang,
            corpus_inputs(corpus, lang, settings, raw_root=raw_root),
            outputs[name],
            mono_sentences=settings.mono_sentences,
            bucc_sentences=settings.bucc_sentences,
        )
    return rows


def bucc_subset(rows: list[tuple[str, str]], keep: set[str], n: int, seed: int = 0) -> list[tuple[str, str]]:
    """At most ``max(n, len(keep))`` of ``rows`` (``(id, text)``): every row whose id is in ``keep``
    (the gold pairs' side) plus a seeded uniform sample of the others, in file order.

    A smaller haystack makes mining easier than on the whole BUCC file, so scores on a subset are
    not comparable with the paper's; the report says so.
    """
    others = [i for i, (sid, _) in enumerate(rows) if sid not in keep]
    n_others = max(0, min(len(others), n - (len(rows) - len(others))))
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(others, size=n_others, replace=False).tolist()) if n_others else set()
    return [r for i, r in enumerate(rows) if r[0] in keep or i in chosen]


def _ud_table(sentences: list[readers.UDSentence], lang: str) -> pa.Table:
    return pa.table(
        {
            "id": [s.id for s in sentences],
            "lang": [lang] * len(sentences),
            "text": [s.text for s in sentences],
            "words": [s.words for s in sentences],
            "upos": [s.upos for s in sentences],
            "heads": [s.heads for s in sentences],
            "deprels": [s.deprels for s in sentences],
        },
        schema=UD_SCHEMA,
    )


def write_bucc_gold(xx: str | os.PathLike, en: str | os.PathLike, gold: str | os.PathLike,
                    out: str | os.PathLike) -> int:
    """``gold.parquet`` (``src_id`` = xx id, ``tgt_id`` = en id), every id checked against the sentence files."""
    src_ids = [i for i, _ in readers.read_bucc_sentences(xx)]
    tgt_ids = [i for i, _ in readers.read_bucc_sentences(en)]
    pairs = readers.read_bucc_gold(gold, src_ids, tgt_ids)
    table = pa.table({"src_id": [s for s, _ in pairs], "tgt_id": [t for _, t in pairs]}, schema=GOLD_SCHEMA)
    write_parquet(table, out, metadata={"source": str(gold)})
    return table.num_rows

