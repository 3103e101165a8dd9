"""Official sources of the evaluation data, the offline mirror, and downloads.

Raw files land under ``data/raw`` laid out exactly as the mirror (``../shared/data``) is, so that a
mirrored file and a downloaded one have the same relative path::

    tatoeba/tatoeba.<xxx>-eng.<xxx|eng>              LASER data/tatoeba/v1, as published
    ud/<Treebank>/<prefix>-ud-<split>.conllu         one UD treebank repository, at a release tag
    xnli/<test|dev>-<lang>.tsv                       XNLI 1.0 in XTREME's layout (converted from the zip)
    bucc2018/<xx>-en/<xx>-en.<dev|test>.<xx|en|gold> BUCC 2018; XTREME's names: sample=dev, training=test
    mono/<lang>.txt                                  monolingual sentences, one per line

With a mirror, a file is copied from it (never linked: the mirror is never written); without one it is downloaded from the
official source and checked against its sha256 where one is known (``None`` below means unknown:
the digest of what was downloaded is logged instead).
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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from langrep.data.catalog import (  # noqa: F401 (re-exported: the Tatoeba names of this module)
    TATOEBA_CODES,
    TATOEBA_COMMIT,
    TATOEBA_SHA256,
    TATOEBA_URL,
    resolve_tatoeba_lang,
    tatoeba_relpaths,
)
from langrep.errors import LangrepError
from langrep.io import atomic_write, sha256_file

log = logging.getLogger(__name__)

MIRROR_ENV = "LANGREP_DATA_MIRROR"
DEFAULT_RAW_ROOT = "data/raw"

# --------------------------------------------------------------------------------------------
# Tatoeba (LASER data/tatoeba/v1): every language, the pinned commit and the files' sha256 are in
# langrep.data.catalog (TATOEBA_COMMIT, TATOEBA_URL, TATOEBA_CODES, TATOEBA_SHA256).

# --------------------------------------------------------------------------------------------
# Universal Dependencies: one GitHub repository per treebank, files at the root of a release tag.
UD_URL = "https://raw.githubusercontent.com/UniversalDependencies/{treebank}/{tag}/{prefix}-ud-{split}.conllu"
UD_SPLITS = ("train", "dev", "test")
# No checksums: they depend on the release tag (data.ud_release), and none are published.


@dataclass(frozen=True)
class Treebank:
    """A UD treebank: its repository name (``UD_English-EWT``) and file prefix (``en_ewt``)."""

    name: str
    prefix: str


# The treebanks in ../shared/data/ud. The paper used Arabic-PADT and Hindi-HDTB (config/paper.yaml);
# those test files are too large for the mirror, whose PUD treebanks stand in for them.
DEFAULT_UD_TREEBANKS: dict[str, Treebank] = {
    "en": Treebank("UD_English-EWT", "en_ewt"),
    "ar": Treebank("UD_Arabic-PUD", "ar_pud"),
    "bg": Treebank("UD_Bulgarian-BTB", "bg_btb"),
    "de": Treebank("UD_German-GSD", "de_gsd"),
    "el": Treebank("UD_Greek-GDT", "el_gdt"),
    "es": Treebank("UD_Spanish-GSD", "es_gsd"),
    "fr": Treebank("UD_French-GSD", "fr_gsd"),
    "hi": Treebank("UD_Hindi-PUD", "hi_pud"),
    "ru": Treebank("UD_Russian-GSD", "ru_gsd"),
    "th": Treebank("UD_Thai-PUD", "th_pud"),
    "tr": Treebank("UD_Turkish-IMST", "tr_imst"),
    "ur": Treebank("UD_Urdu-UDTB", "ur_udtb"),
    "vi": Treebank("UD_Vietnamese-VTB", "vi_vtb"),
    "zh": Treebank("UD_Chinese-GSD", "zh_gsd"),
    "bxr": Treebank("UD_Buryat-BDT", "bxr_bdt"),
    "kmr": Treebank("UD_Kurmanji-MG", "kmr_mg"),
    "hsb": Treebank("UD_Upper_Sorbian-UFAL", "hsb_ufal"),
    "kk": Treebank("UD_Kazakh-KTB", "kk_ktb"),
    "ga": Treebank("UD_Irish-IDT", "ga_idt"),
    "sme": Treebank("UD_North_Sami-Giella", "sme_giella"),
}

# --------------------------------------------------------------------------------------------
# XNLI 1.0: the official zip (test and dev of all 15 languages in two TSV files).
XNLI_LANGS = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
XNLI_SPLITS = ("test", "dev")
XNLI_URL = "https://dl.fbaipublicfiles.com/XNLI/XNLI-1.0.zip"
# 17,865,352 bytes; the same digest is pinned by Julia's DataDeps.jl registration of XNLI-1.0.zip.
XNLI_SHA256: str | None = "4ba1d5e1afdb7161f0f23c66dc787802ccfa8a25a3ddd3b165a35e50df346ab1"
XNLI_LABELS = ("entailment", "neutral", "contradiction")

# --------------------------------------------------------------------------------------------
# BUCC 2018: one archive per pair and part from the shared task's site. XTREME (and this layout)
# call the "sample" part dev and the "training" part test.
BUCC_LANGS = ("de", "fr", "ru", "zh")
BUCC_SPLITS = ("dev", "test")
BUCC_PARTS = {"dev": "sample", "test": "training"}
BUCC_URL = "https://comparable.limsi.fr/bucc2018/bucc2018-{xx}-en.{part}-gold.tar.bz2"
# Unknown: the site publishes no checksums and no independent record of them was found.
BUCC_SHA256: dict[tuple[str, str], str | None] = {(x, s): None for x in BUCC_LANGS for s in BUCC_SPLITS}

# --------------------------------------------------------------------------------------------
# Monolingual text. Download path: Wikipedia through `datasets` (streamed, first N sentences).
WIKIPEDIA_DATASET = "wikimedia/wikipedia"
WIKIPEDIA_DUMP = "20231101"
# Our code -> Wikipedia's language code where they differ.
WIKIPEDIA_CODES = {"kmr": "ku", "sme": "se"}
# Mirror path: languages without ../shared/data/mono/<lang>.txt take their text from another set.
#   (dataset, what) : ("tatoeba", <lang>) = the non-English side of Tatoeba <lang>-en;
#                     ("ud", "train")   = the sentences of the language's UD train file.
MONO_STAND_INS: dict[str, tuple[str, str]] = {
    "hsb": ("tatoeba", "hsb"),
    "kmr": ("tatoeba", "kmr"),
    "sme": ("ud", "train"),
    "bxr": ("ud", "train"),
}
MONO_MIN_CHARS = 20  # shorter Wikipedia "sentences" are mostly section headings


# --------------------------------------------------------------------------------------------
# Settings


def _positive_int_or_none(data: Mapping, key: str, default: int | None) -> int | None:
    n = data.get(key, default)
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise LangrepError(f"config key data.{key}: expected a positive integer or null, got {n!r}")
    return n


@dataclass(frozen=True)
class DataSettings:
    """The ``data:`` section of the config, checked, with defaults and the mirror resolved."""

    mirror: Path | None = None
    ud_release: str = "r2.17"
    ud_treebanks: dict[str, Treebank] = field(default_factory=lambda: dict(DEFAULT_UD_TREEBANKS))
    mono_sentences: int | None = 1000
    wikipedia_dump: str = WIKIPEDIA_DUMP
    # BUCC sentences per side: every sentence of a gold pair plus a seeded sample of the others up
    # to this many (a smaller, easier haystack for CPU runs); None = the whole file (the benchmark).
    bucc_sentences: int | None = None

    @classmethod
    def from_config(cls, data: Mapping | None) -> "DataSettings":
        data = dict(data or {})
        known = {"mirror", "ud_release", "ud_treebanks", "mono_sentences", "wikipedia_dump", "bucc_sentences"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise LangrepError(f"config key data.{unknown[0]}: unknown key (known: {sorted(known)})")
        ud_release = data.get("ud_release", "r2.17")
        if not isinstance(ud_release, str) or not ud_release:
            raise LangrepError(f"config key data.ud_release: expected a release tag, got {ud_release!r}")
        n = _positive_int_or_none(data, "mono_sentences", 1000)
        bucc_n = _positive_int_or_none(data, "bucc_sentences", None)
        dump = str(data.get("wikipedia_dump", WIKIPEDIA_DUMP))
        if not re.fullmatch(r"\d{8}", dump):
            raise LangrepError(f"config key data.wikipedia_dump: expected a dump date YYYYMMDD, got {dump!r}")
        treebanks = dict(DEFAULT_UD_TREEBANKS)
        for lang, tb in (data.get("ud_treebanks") or {}).items():
            key = f"data.ud_treebanks.{lang}"
            if not re.fullmatch(r"[a-z]{2,3}", str(lang)):
                raise LangrepError(f"config key {key}: not a 2-3 letter language code")
            if not isinstance(tb, Mapping) or set(tb) != {"treebank", "prefix"}:
                raise LangrepError(f"config key {key}: expected {{treebank: UD_..., prefix: xx_name}}, got {tb!r}")
            if not re.fullmatch(r"UD_[A-Za-z_-]+", str(tb["treebank"])):
                raise LangrepError(f"config key {key}.treebank: not a UD repository name: {tb['treebank']!r}")
            if not re.fullmatch(r"[a-z]{2,3}_[a-z]+", str(tb["prefix"])):
                raise LangrepError(f"config key {key}.prefix: not a UD file prefix (xx_name): {tb['prefix']!r}")
            treebanks[str(lang)] = Treebank(str(tb["treebank"]), str(tb["prefix"]))
        return cls(
            mirror=resolve_mirror(data.get("mirror")),
            ud_release=ud_release,
            ud_treebanks=treebanks,
            mono_sentences=n,
            wikipedia_dump=dump,
            bucc_sentences=bucc_n,
        )

    def treebank(self, lang: str) -> Treebank:
        try:
            return self.ud_treebanks[lang]
        except KeyError:
            raise LangrepError(
                f"config key data.ud_treebanks: no UD treebank configured for language {lang!r} "
                f"(configured: {', '.join(sorted(self.ud_treebanks))})"
            ) from None


def resolve_mirror(config_value: str | os.PathLike | None) -> Path | None:
    """The mirror folder to use: ``$LANGREP_DATA_MIRROR`` if set (empty = download), else the config value."""
    env = os.environ.get(MIRROR_ENV)
    value = env if env is not None else config_value
    if value is None or str(value).strip() == "":
        return None
    return Path(os.path.expanduser(str(value)))


# --------------------------------------------------------------------------------------------
# Relative paths of the raw files (the same under data/raw and in the mirror)


def tatoeba_code(lang: str) -> str:
    """LASER's 3-letter code of a Tatoeba language (``de`` -> ``deu``; LASER codes map to themselves)."""
    return TATOEBA_CODES[resolve_tatoeba_lang(lang, key=None)]


def ud_relpath(treebank: Treebank, split: str) -> str:
    if split not in UD_SPLITS:
        raise LangrepError(f"UD split {split!r} is not one of {UD_SPLITS}")
    return f"ud/{treebank.name}/{treebank.prefix}-ud-{split}.conllu"


def xnli_relpath(split: str, lang: str) -> str:
    return f"xnli/{split}-{lang}.tsv"


def xnli_relpaths() -> list[str]:
    return [xnli_relpath(s, lang) for s in XNLI_SPLITS for lang in XNLI_LANGS]


def bucc_relpaths(xx: str, split: str) -> dict[str, str]:
    """``{"xx": ..., "en": ..., "gold": ...}`` for a BUCC pair ``xx``-en and split ``dev``/``test``."""
    if xx not in BUCC_LANGS:
        raise LangrepError(f"BUCC 2018 has no {xx}-en pair (pairs: {', '.join(f'{x}-en' for x in BUCC_LANGS)})")
    if split not in BUCC_SPLITS:
        raise LangrepError(f"BUCC 2018 split {split!r} is not one of {BUCC_SPLITS}")
    stem = f"bucc2018/{xx}-en/{xx}-en.{split}"
    return {"xx": f"{stem}.{xx}", "en": f"{stem}.en", "gold": f"{stem}.gold"}


def mono_relpath(lang: str) -> str:
    return f"mono/{lang}.txt"


def fetch_relpaths(dataset: str, **options) -> list[str]:
    """The relative paths one fetch unit of ``dataset`` places (the ``options`` of its fetch function)."""
    if dataset == "tatoeba":
        return list(tatoeba_relpaths(options["code"]).values())
    if dataset == "ud":
        return [ud_relpath(Treebank(options["treebank"], options["prefix"]), options["split"])]
    if dataset == "xnli":
        return xnli_relpaths()
    if dataset == "bucc2018":
        return list(bucc_relpaths(options["xx"], options["split"]).values())
    if dataset == "mono":
        return [mono_relpath(options["lang"])]
    raise LangrepError(f"unknown data set {dataset!r} (known: {', '.join(FETCHERS)})")


MIRROR_DATASETS = ("tatoeba", "ud", "xnli", "bucc2018", "mono")


def check_mirror(mirror: Path | None) -> None:
    """A mirror that is set must be a folder laid out like ``../shared/data`` (one clear error at load)."""
    if mirror is None:
        return
    where = f"data.mirror (or ${MIRROR_ENV}) = {str(mirror)!r}"
    if not mirror.is_dir():
        raise LangrepError(f"{where}: no such folder. Point it at a folder laid out like ../shared/data "
                           f"(data/README.md), or set it to null / an empty ${MIRROR_ENV} to download")
    if not any((mirror / d).is_dir() for d in MIRROR_DATASETS):
        raise LangrepError(f"{where}: not a data mirror (none of {', '.join(d + '/' for d in MIRROR_DATASETS)} "
                           "is in it); see data/README.md for the layout")


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
             release: str = "r2.17") -> Path:
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


def fetch_wikipedia(lang: str, dest: str | os.PathLike, n_sentences: int, dump: str = WIKIPEDIA_DUMP) -> Path:
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


def fetch_mono(lang: str, raw_root=DEFAULT_RAW_ROOT, mirror=None, n_sentences: int | None = 1000,
               dump: str = WIKIPEDIA_DUMP) -> Path:
    """``mono/<lang>.txt``: the mirror's file, or the first ``n_sentences`` Wikipedia sentences."""
    raw_root = Path(raw_root)
    rel = mono_relpath(lang)
    if mirror is not None:
        return _from_mirror(Path(mirror), [rel], raw_root, "mono")[0]
    return fetch_wikipedia(lang, raw_root / rel, n_sentences, dump)


def mono_stand_in(lang: str, mirror: str | os.PathLike | None) -> tuple[str, str] | None:
    """The stand-in source for ``mono`` of ``lang`` (see MONO_STAND_INS), or None for ``mono/<lang>.txt``.

    Only with a mirror that has no ``mono/<lang>.txt``; downloads always use Wikipedia.
    """
    if mirror is None or lang not in MONO_STAND_INS:
        return None
    if (Path(mirror) / mono_relpath(lang)).is_file():
        return None
    return MONO_STAND_INS[lang]


FETCHERS = {
    "tatoeba": fetch_tatoeba,
    "ud": fetch_ud,
    "xnli": fetch_xnli,
    "bucc2018": fetch_bucc,
    "mono": fetch_mono,
}


def fetch_for_rule(smk, dataset: str):
    """The body of the ``fetch_<dataset>`` rule scripts: log to the rule's log, then :func:`fetch`.

    The mirror comes from the config, not from a param: its path is no rerun trigger (the rule's
    ``source`` param holds the mirror files' checksums instead).
    """
    from langrep.logs import log_to_file

    log_to_file(smk.log[0])
    mirror = DataSettings.from_config(smk.config.get("data")).mirror
    paths = fetch(dataset, raw_root=smk.params.raw_root, mirror=mirror, **dict(smk.params.options))
    log.info("placed %s (mirror: %s)", [str(p) for p in (paths if isinstance(paths, list) else [paths])], mirror)
    return paths


def fetch(dataset: str, raw_root=DEFAULT_RAW_ROOT, mirror=None, **options):
    """Fetch one unit of ``dataset`` (a key of FETCHERS); ``options`` go to its fetch function."""
    try:
        fn = FETCHERS[dataset]
    except KeyError:
        raise LangrepError(f"unknown data set {dataset!r} (known: {', '.join(FETCHERS)})") from None
    return fn(raw_root=raw_root, mirror=mirror, **options)
