"""Placing the evaluation data under ``data/raw``: copied from the offline mirror (never linked:
the mirror is never written), or downloaded from the official source (:mod:`langrep.data.catalog`:
URLs, checksums, relative paths) and checked against its sha256 where one is known; archives
converted (XNLI's zip to XTREME's files, BUCC's tarballs), Wikipedia streamed and split into
sentences. One fetch function per data set; :func:`fetch_for_rule` is the body of the
``fetch_<dataset>`` rule scripts.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from langrep.data.catalog import (BUCC_PARTS, BUCC_SHA256, BUCC_URL, DEFAULT_RAW_ROOT, TATOEBA_COMMIT,
                                  TATOEBA_SHA256, TATOEBA_URL, UD_URL, WIKIPEDIA_CODES,
                                  WIKIPEDIA_DATASET, XNLI_LANGS, XNLI_SHA256, XNLI_SPLITS,
                                  XNLI_URL, Treebank, bucc_relpaths, fetch_relpaths, mono_relpath, tatoeba_relpaths,
                                  ud_relpath,
                                  xnli_relpaths)
from langrep.data.settings import MIRROR_ENV, DataSettings
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


def download(url: str, dest: str | os.PathLike, sha256: str | None = None, timeout: float = 120.0) -> str:
    """Stream ``url`` to ``dest`` atomically; verify ``sha256`` if given. Returns the file's sha256.

    ``file://`` URLs work too (urllib), which is how the tests exercise this without a network.
    """
    dest = Path(dest)
    digest = hashlib.sha256()
    log.info("downloading %s -> %s", url, dest)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, atomic_write(dest) as tmp:
            with open(tmp, "wb") as f:
                while block := resp.read(1 << 20):
                    digest.update(block)
                    f.write(block)
            got = digest.hexdigest()
            if sha256 is not None and got != sha256.lower():
                raise LangrepError(f"download {url}: sha256 {got} does not match the expected {sha256}")
    except (urllib.error.URLError, OSError) as e:
        raise LangrepError(f"download {url} failed: {e}") from e
    if sha256 is None:
        log.warning("no known sha256 for %s; the downloaded file has sha256 %s", url, got)
    return got


@contextlib.contextmanager
def _scratch_dir(near: Path) -> Iterator[Path]:
    near.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".download.", dir=near))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _from_mirror(mirror: Path, relpaths: Iterable[str], raw_root: Path, dataset: str) -> list[Path]:
    # Check that every file is there before placing any: a failing job leaves nothing behind.
    sources = [(mirror_file(mirror, rel, dataset), rel) for rel in relpaths]
    return [place_file(src, raw_root / rel) for src, rel in sources]


# --------------------------------------------------------------------------------------------
# One fetch function per data set. Each writes its files under raw_root at the relpaths above.


def fetch_tatoeba(code: str, raw_root=DEFAULT_RAW_ROOT, mirror=None) -> list[Path]:
    """Tatoeba ``<code>``-eng (both sides), e.g. ``code="deu"``."""
    raw_root = Path(raw_root)
    rels = list(tatoeba_relpaths(code).values())
    if mirror is not None:
        return _from_mirror(Path(mirror), rels, raw_root, "tatoeba")
    out = []
    for rel in rels:
        name = Path(rel).name
        url = TATOEBA_URL.format(commit=TATOEBA_COMMIT, name=name)
        download(url, raw_root / rel, TATOEBA_SHA256.get(name))
        out.append(raw_root / rel)
    return out


def fetch_ud(treebank: str, prefix: str, split: str, raw_root=DEFAULT_RAW_ROOT, mirror=None,
             release: str = DATA_DEFAULTS["ud_release"]) -> Path:
    """One CoNLL-U file of a UD treebank repository at release tag ``release`` (e.g. ``r2.17``)."""
    raw_root = Path(raw_root)
    rel = ud_relpath(Treebank(treebank, prefix), split)
    if mirror is not None:
        return _from_mirror(Path(mirror), [rel], raw_root, "ud")[0]
    url = UD_URL.format(treebank=treebank, tag=release, prefix=prefix, split=split)
    download(url, raw_root / rel, None)
    return raw_root / rel


def fetch_xnli(raw_root=DEFAULT_RAW_ROOT, mirror=None) -> list[Path]:
    """XNLI 1.0 test and dev for all 15 languages, as ``xnli/<split>-<lang>.tsv`` (XTREME's layout)."""
    raw_root = Path(raw_root)
    if mirror is not None:
        return _from_mirror(Path(mirror), xnli_relpaths(), raw_root, "xnli")
    with _scratch_dir(raw_root / "xnli") as tmp:
        zip_path = tmp / "XNLI-1.0.zip"
        download(XNLI_URL, zip_path, XNLI_SHA256)
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
            lines = raw.decode("utf-8").splitlines()
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


def fetch_bucc(xx: str, split: str, raw_root=DEFAULT_RAW_ROOT, mirror=None) -> list[Path]:
    """BUCC 2018 ``xx``-en, split ``dev`` (the "sample" archive) or ``test`` (the "training" archive)."""
    raw_root = Path(raw_root)
    rels = bucc_relpaths(xx, split)
    if mirror is not None:
        return _from_mirror(Path(mirror), rels.values(), raw_root, "bucc2018")
    part = BUCC_PARTS[split]
    url = BUCC_URL.format(xx=xx, part=part)
    with _scratch_dir(raw_root / "bucc2018") as tmp:
        archive = tmp / Path(url).name
        download(url, archive, BUCC_SHA256.get((xx, split)))
        with tarfile.open(archive, "r:*") as tf:
            members = {}
            for key, rel in rels.items():
                ext = Path(rel).suffix  # .de / .en / .gold
                name = f"bucc2018/{xx}-en/{xx}-en.{part}{ext}"
                try:
                    members[key] = tf.getmember(name)
                except KeyError:
                    raise LangrepError(f"data set bucc2018: {archive.name} has no member {name}") from None
            out = []
            # Read members as streams and write them ourselves: no path from the archive is trusted.
            for key, member in members.items():
                src = tf.extractfile(member)
                if src is None:
                    raise LangrepError(f"data set bucc2018: {archive.name}!{member.name} is not a file")
                dest = raw_root / rels[key]
                with atomic_write(dest) as t, open(t, "wb") as f:
                    shutil.copyfileobj(src, f)
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


def fetch_for_rule(smk, dataset: str):
    """The body of the ``fetch_<dataset>`` rule scripts: log to the rule's log, then :func:`fetch`
    into the folder the rule's outputs lie in (they are ``<raw root>/<relative path>``).

    The mirror comes from the config, not from a param: its path is no rerun trigger (the rule's
    ``source`` param holds the mirror files' checksums instead).
    """
    from langrep.logs import log_to_file

    log_to_file(smk.log[0])
    mirror = DataSettings.from_config(smk.config["data"]).mirror
    options = dict(smk.params.options)
    rels = fetch_relpaths(dataset, **options)
    outputs = sorted(Path(o).as_posix() for o in smk.output)
    raw_root = outputs[0].removesuffix("/" + sorted(rels)[0])
    if outputs != sorted(f"{raw_root}/{rel}" for rel in rels):
        raise LangrepError(f"fetch_{dataset}: the rule's outputs {outputs} are not the catalog's files {sorted(rels)}")
    paths = fetch(dataset, raw_root=raw_root, mirror=mirror, **options)
    log.info("placed %s (mirror: %s)", [str(p) for p in (paths if isinstance(paths, list) else [paths])], mirror)
    return paths


def fetch(dataset: str, raw_root=DEFAULT_RAW_ROOT, mirror=None, **options):
    """Fetch one unit of ``dataset`` (a key of FETCHERS); ``options`` go to its fetch function."""
    try:
        fn = FETCHERS[dataset]
    except KeyError:
        raise LangrepError(f"unknown data set {dataset!r} (known: {', '.join(FETCHERS)})") from None
    return fn(raw_root=raw_root, mirror=mirror, **options)
