"""Placing the evaluation data under ``data/raw``: copied from the offline mirror (never linked:
the mirror is never written), or downloaded through pooch (:mod:`langrep.data.download`) from the
official source or ``data.download.base_url`` and checked against the registry's hash
(:mod:`langrep.data.registry`); archives
converted (XNLI's zip to XTREME's files, BUCC's tarballs), Wikipedia streamed and split into
sentences. One fetch function per data set; the ``fetch_<dataset>`` rules call
:func:`fetch_outputs`.
"""
from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import tarfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from langrep.data import registry
from langrep.data.catalog import (BUCC_PARTS, DEFAULT_RAW_ROOT, WIKIPEDIA_CODES, WIKIPEDIA_DATASET, XNLI_LANGS,
                                  XNLI_SPLITS, Treebank, bucc_relpaths, fetch_relpaths, mono_relpath,
                                  tatoeba_relpaths, ud_ref, ud_relpath, xnli_relpaths)
from langrep.data.download import DownloadSettings, download, fetch_to, scratch_dir
from langrep.settings.data import MIRROR_ENV, DataSettings
from langrep.errors import LangrepError
from langrep.io import atomic_write, sha256_file
from langrep.schema import schema_defaults

log = logging.getLogger(__name__)
# data.ud_release, data.mono_sentences, data.wikipedia_dump: the defaults of the fetch functions
DATA_DEFAULTS = schema_defaults("data")

MONO_MIN_CHARS = 20  # shorter Wikipedia "sentences" are mostly section headings


@functools.lru_cache(maxsize=None)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def mirror_sha256(mirror: str | os.PathLike, relpath: str, dataset: str) -> str:
    """sha256 of the mirror's copy of ``relpath`` (cached per size and mtime within a process).

    Fetch rules take it as a parameter: a raw copy then depends on the mirror file's content, not on
    where the mirror lies, and a mirror file that is fixed replaces the stale copy.
    """
    path = mirror_file(mirror, relpath, dataset)
    st = path.stat()
    return _sha256_cached(str(path), st.st_size, st.st_mtime_ns)


# --------------------------------------------------------------------------------------------
# Placing files: from the mirror, or downloaded


def mirror_file(mirror: str | os.PathLike, relpath: str, dataset: str) -> Path:
    """The mirror's copy of ``relpath``; a LangrepError naming the file and the data set if absent."""
    path = Path(mirror) / relpath
    if not path.is_file():
        raise LangrepError(
            f"data set {dataset}: {path} is not in the offline mirror {mirror} "
            f"(set data.mirror / ${MIRROR_ENV} to a complete mirror, or to an empty value to download)"
        )
    return path


def place_file(src: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Put a copy of ``src`` at ``dest`` atomically.

    Never a hardlink: a link shares the mirror's inode, so anything that edits ``data/raw`` would edit
    the user's mirror (copies cost little: the whole mirror is ~80 MB).
    """
    dest = Path(dest)
    with atomic_write(dest) as tmp:
        shutil.copyfile(src, tmp)
    return dest


def _from_mirror(mirror: Path, relpaths: Iterable[str], raw_root: Path, dataset: str) -> list[Path]:
    # Check that every file is there before placing any: a failing job leaves nothing behind.
    sources = [(mirror_file(mirror, rel, dataset), rel) for rel in relpaths]
    return [place_file(src, raw_root / rel) for src, rel in sources]


# --------------------------------------------------------------------------------------------
# One fetch function per data set. Each writes its files under raw_root at the relpaths above;
# ``downloads`` (data.download) says where downloads come from (None: the schema's defaults).


def _downloads(settings: DownloadSettings | None) -> DownloadSettings:
    return DownloadSettings.from_config(settings)


def fetch_tatoeba(code: str, raw_root=DEFAULT_RAW_ROOT, mirror=None, downloads=None) -> list[Path]:
    """Tatoeba ``<code>``-eng (both sides), e.g. ``code="deu"``."""
    raw_root = Path(raw_root)
    rels = list(tatoeba_relpaths(code).values())
    if mirror is not None:
        return _from_mirror(Path(mirror), rels, raw_root, "tatoeba")
    settings = _downloads(downloads)
    with scratch_dir(raw_root / "tatoeba") as tmp:  # both sides or neither
        got = [fetch_to(registry.tatoeba_key(Path(rel).name), tmp, "tatoeba", settings) for rel in rels]
        for src, rel in zip(got, rels):
            place_file(src, raw_root / rel)
    return [raw_root / rel for rel in rels]


def fetch_ud(treebank: str, prefix: str, split: str, raw_root=DEFAULT_RAW_ROOT, mirror=None,
             release: str = DATA_DEFAULTS["ud_release"], downloads=None) -> Path:
    """One CoNLL-U file of a UD treebank repository at ``release`` (a tag such as ``r2.17``, or
    ``mirror-commits``: the commit the mirror was copied from)."""
    raw_root = Path(raw_root)
    rel = ud_relpath(Treebank(treebank, prefix), split)
    if mirror is not None:
        return _from_mirror(Path(mirror), [rel], raw_root, "ud")[0]
    key = registry.ud_key(treebank, ud_ref(treebank, release), prefix, split)
    return download(key, raw_root / rel, "ud", _downloads(downloads))


def fetch_xnli(raw_root=DEFAULT_RAW_ROOT, mirror=None, downloads=None) -> list[Path]:
    """XNLI 1.0 test and dev for all 15 languages, as ``xnli/<split>-<lang>.tsv`` (XTREME's layout)."""
    raw_root = Path(raw_root)
    if mirror is not None:
        return _from_mirror(Path(mirror), xnli_relpaths(), raw_root, "xnli")
    with scratch_dir(raw_root / "xnli") as tmp:
        zip_path = fetch_to(registry.XNLI_KEY, tmp, "xnli", _downloads(downloads))
        return xnli_zip_to_xtreme(zip_path, raw_root / "xnli")


def xnli_zip_to_xtreme(zip_path: str | os.PathLike, out_dir: str | os.PathLike) -> list[Path]:
    """Convert the official XNLI-1.0.zip into XTREME's files (as ``utils_preprocess.py`` does).

    ``test-<lang>.tsv``: ``premise<TAB>hypothesis`` (XTREME strips test labels);
    ``dev-<lang>.tsv``: ``premise<TAB>hypothesis<TAB>label``; rows keep the file's order, so line i
    is the same example in every language.
    """
    out_dir = Path(out_dir)
    written = []
    with zipfile.ZipFile(zip_path) as zf:
        for split in XNLI_SPLITS:
            member = f"XNLI-1.0/xnli.{split}.tsv"
            where = f"{zip_path}!{member}"
            try:
                raw = zf.read(member)
            except KeyError:
                raise LangrepError(f"data set xnli: {where} is missing from the archive") from None
            rows: dict[str, list[tuple[str, str, str]]] = {lang: [] for lang in XNLI_LANGS}
            # lines end at "\n" only: str.splitlines() would also split at U+2028, U+0085, ... in the text
            lines = [line.removesuffix("\r") for line in raw.decode("utf-8").split("\n")]
            lines = lines[:-1] if lines and lines[-1] == "" else lines
            header = lines[0].split("\t")
            try:
                col = {k: header.index(k) for k in ("language", "gold_label", "sentence1", "sentence2")}
            except ValueError as e:
                raise LangrepError(f"{where}, line 1: unexpected header ({e})") from None
            for lineno, line in enumerate(lines[1:], start=2):
                items = line.split("\t")
                if len(items) != len(header):
                    raise LangrepError(f"{where}, line {lineno}: {len(items)} fields, expected {len(header)}")
                lang = items[col["language"]].strip()
                if lang not in rows:
                    raise LangrepError(f"{where}, line {lineno}: unknown language {lang!r}")
                label = items[col["gold_label"]].strip()
                label = "contradiction" if label == "contradictory" else label
                rows[lang].append((items[col["sentence1"]].strip(), items[col["sentence2"]].strip(), label))
            sizes = {lang: len(r) for lang, r in rows.items()}
            if len(set(sizes.values())) != 1:
                raise LangrepError(f"{where}: languages have unequal numbers of examples: {sizes}")
            for lang, pairs in rows.items():
                dest = out_dir / f"{split}-{lang}.tsv"
                with atomic_write(dest) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
                    for premise, hypothesis, label in pairs:
                        f.write(f"{premise}\t{hypothesis}\n" if split == "test" else f"{premise}\t{hypothesis}\t{label}\n")
                written.append(dest)
    return written


def fetch_bucc(xx: str, split: str, raw_root=DEFAULT_RAW_ROOT, mirror=None, downloads=None) -> list[Path]:
    """BUCC 2018 ``xx``-en, split ``dev`` (the "sample" archive) or ``test`` (the "training" archive)."""
    raw_root = Path(raw_root)
    rels = bucc_relpaths(xx, split)
    if mirror is not None:
        return _from_mirror(Path(mirror), rels.values(), raw_root, "bucc2018")
    with scratch_dir(raw_root / "bucc2018") as tmp:
        archive = fetch_to(registry.bucc_key(xx, split), tmp, "bucc2018", _downloads(downloads))
        return _extract_bucc(archive, xx, BUCC_PARTS[split], rels, raw_root)


def _extract_bucc(archive: Path, xx: str, part: str, rels: dict[str, str], raw_root: Path) -> list[Path]:
    """The three files of a BUCC tarball, checked before any is written (no path of it is trusted)."""
    with tarfile.open(archive, "r:*") as tf:
        members = {}
        for key, rel in rels.items():
            name = f"bucc2018/{xx}-en/{xx}-en.{part}{Path(rel).suffix}"  # .de / .en / .gold
            try:
                member = tf.getmember(name)
            except KeyError:
                raise LangrepError(f"data set bucc2018: {archive.name} has no member {name}") from None
            if not member.isfile():  # a link (or a folder) would point outside the archive's bytes
                kind = "a symbolic link" if member.issym() else "a hard link" if member.islnk() else "not a file"
                raise LangrepError(f"data set bucc2018: {archive.name}!{name} is {kind}, not a regular file; "
                                   "refusing the archive")
            members[key] = member
        out = []
        for key, member in members.items():
            dest = raw_root / rels[key]
            with atomic_write(dest) as t, open(t, "wb") as f:
                shutil.copyfileobj(tf.extractfile(member), f)
            out.append(dest)
    return out


def split_sentences(text: str, min_chars: int = MONO_MIN_CHARS) -> list[str]:
    """Rough, language-independent sentence split of Wikipedia text (paragraphs are lines).

    Splits after . ! ? ; and the Devanagari, Arabic, Armenian and Ethiopic full stops when
    whitespace follows, and after CJK full stops always. Pieces shorter than ``min_chars``
    characters (mostly section headings) are dropped. Thai has no sentence punctuation: its
    paragraphs stay whole.
    """
    out = []
    for para in text.splitlines():
        for piece in re.split(r"(?<=[.!?;।॥؟։።])\s+|(?<=[。！？])", para):
            piece = " ".join(piece.split())
            if len(piece) >= min_chars:
                out.append(piece)
    return out


def fetch_wikipedia(lang: str, dest: str | os.PathLike, n_sentences: int,
                    dump: str = DATA_DEFAULTS["wikipedia_dump"]) -> Path:
    """The first ``n_sentences`` sentences of ``wikimedia/wikipedia`` ``<dump>.<lang>`` (streamed)."""
    import datasets  # heavy import, only needed on this path

    if n_sentences is None:
        raise LangrepError(
            "config key data.mono_sentences: null (all sentences) is not supported when downloading "
            "Wikipedia; set a number of sentences"
        )
    config_name = f"{dump}.{WIKIPEDIA_CODES.get(lang, lang)}"
    log.info("streaming %s %s, first %d sentences", WIKIPEDIA_DATASET, config_name, n_sentences)
    stream = datasets.load_dataset(WIKIPEDIA_DATASET, config_name, split="train", streaming=True)
    count = 0
    dest = Path(dest)
    with atomic_write(dest) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for article in stream:
            for sentence in split_sentences(article["text"]):
                f.write(sentence + "\n")
                count += 1
                if count >= n_sentences:
                    break
            if count >= n_sentences:
                break
    if count < n_sentences:
        log.warning("%s %s has only %d sentences (asked for %d)", WIKIPEDIA_DATASET, config_name, count, n_sentences)
    return dest


def fetch_mono(lang: str, raw_root=DEFAULT_RAW_ROOT, mirror=None,
               n_sentences: int | None = DATA_DEFAULTS["mono_sentences"],
               dump: str = DATA_DEFAULTS["wikipedia_dump"]) -> Path:
    """``mono/<lang>.txt``: the mirror's file, or the first ``n_sentences`` Wikipedia sentences."""
    raw_root = Path(raw_root)
    rel = mono_relpath(lang)
    if mirror is not None:
        return _from_mirror(Path(mirror), [rel], raw_root, "mono")[0]
    return fetch_wikipedia(lang, raw_root / rel, n_sentences, dump)


FETCHERS = {
    "tatoeba": fetch_tatoeba,
    "ud": fetch_ud,
    "xnli": fetch_xnli,
    "bucc2018": fetch_bucc,
    "mono": fetch_mono,
}


def fetch_outputs(dataset: str, outputs: Sequence, data: DataSettings, options: Mapping):
    """Fetch one unit of ``dataset`` into the folder its ``outputs`` lie in (a fetch rule's
    outputs, ``<raw root>/<relative path>``, must be the catalog's files for ``options``): a copy
    from ``data.mirror``, or a download with ``data.download`` when there is no mirror.

    The fetch rules pass the mirror in ``data`` (the config), not as a param: its path is no rerun
    trigger (the rules' ``source`` param holds the mirror files' checksums instead).
    """
    options = dict(options)
    rels = fetch_relpaths(dataset, **options)
    outputs = sorted(Path(o).as_posix() for o in outputs)
    raw_root = outputs[0].removesuffix("/" + sorted(rels)[0])
    if outputs != sorted(f"{raw_root}/{rel}" for rel in rels):
        raise LangrepError(f"fetch_{dataset}: the rule's outputs {outputs} are not the catalog's files {sorted(rels)}")
    if data.mirror is None and dataset != "mono":  # mono downloads stream Wikipedia (datasets)
        options["downloads"] = data.download
    paths = fetch(dataset, raw_root=raw_root, mirror=data.mirror, **options)
    log.info("placed %s (mirror: %s)", [str(p) for p in (paths if isinstance(paths, list) else [paths])], data.mirror)
    return paths


def fetch(dataset: str, raw_root=DEFAULT_RAW_ROOT, mirror=None, **options):
    """Fetch one unit of ``dataset`` (a key of FETCHERS); ``options`` go to its fetch function."""
    try:
        fn = FETCHERS[dataset]
    except KeyError:
        raise LangrepError(f"unknown data set {dataset!r} (known: {', '.join(FETCHERS)})") from None
    return fn(raw_root=raw_root, mirror=mirror, **options)
