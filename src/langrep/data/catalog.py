"""Catalog of the evaluation data: every data set's files, where they come from, their sha256,
release, language codes, and the relative paths they have under ``data/raw`` and in the mirror.

Raw files land under ``data/raw`` laid out exactly as the mirror (``../shared/data``) is, so that a
mirrored file and a downloaded one have the same relative path::

    tatoeba/tatoeba.<xxx>-eng.<xxx|eng>              LASER data/tatoeba/v1, as published
    ud/<Treebank>/<prefix>-ud-<split>.conllu         one UD treebank repository, at a release tag
    xnli/<test|dev>-<lang>.tsv                       XNLI 1.0 in XTREME's layout (converted from the zip)
    bucc2018/<xx>-en/<xx>-en.<dev|test>.<xx|en|gold> BUCC 2018; XTREME's names: sample=dev, training=test
    mono/<lang>.txt                                  monolingual sentences, one per line

Every downloaded file has a known hash (:mod:`langrep.data.registry`). Two mirror folders are
conversions, not published files: ``xnli/`` (XTREME's TSVs, converted from the XNLI-1.0 zip) and
``bucc2018/`` (extracted from the tarballs, ``sample``/``training`` renamed ``dev``/``test``). Placing
the files (mirror copy, download, conversion) is :mod:`langrep.data.fetch`'s job.

Tatoeba is LASER's ``data/tatoeba/v1`` at a pinned commit: 112 languages, each paired with English
(``tatoeba.<xxx>-eng.<xxx>`` and ``tatoeba.<xxx>-eng.eng``, line i of one translating line i of the
other). LASER names languages by 3-letter codes (mostly ISO 639-3: ``nld``, ``jpn``, ``cmn``);
langrep names them by their ISO 639-1 code where one exists (``nl``, ``ja``, ``zh``), else by LASER's
code (``ang``, ``yue``), except Kurdish, which is ``kmr`` as in UD (the project's code for Kurmanji).
A config may give either code; :func:`resolve_tatoeba_langs` turns them into langrep's.
"""
from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from langrep.errors import LangrepError
from langrep.paths import RAW_ROOT

DEFAULT_RAW_ROOT = RAW_ROOT
# The relative path of every raw file, as a pattern: the layout of data/raw and of a mirror alike
# (the workflow's fetch rules take their outputs from here).
RELPATHS: dict[str, dict[str, str]] = {
    "tatoeba": {"xx": "tatoeba/tatoeba.{code}-eng.{code}", "en": "tatoeba/tatoeba.{code}-eng.eng"},
    "ud": {"conllu": "ud/{treebank}/{prefix}-ud-{split}.conllu"},
    "xnli": {"tsv": "xnli/{split}-{lang}.tsv"},
    "bucc2018": {side: "bucc2018/{xx}-en/{xx}-en.{split}." + ext
                 for side, ext in (("xx", "{xx}"), ("en", "en"), ("gold", "gold"))},
    "mono": {"text": "mono/{lang}.txt"},
}
MIRROR_DATASETS = ("tatoeba", "ud", "xnli", "bucc2018", "mono")  # the top folders of a mirror

# --------------------------------------------------------------------------------------------
# Tatoeba (LASER data/tatoeba/v1), pinned to the commit the offline mirror was copied from.
TATOEBA_COMMIT = "74bc6ae7ffb7cba670fe0f428d0ede9f666fb821"
TATOEBA_URL = "https://raw.githubusercontent.com/facebookresearch/LASER/{commit}/data/tatoeba/v1/{name}"


@dataclass(frozen=True)
class TatoebaLanguage:
    """One Tatoeba language: langrep's code, LASER's 3-letter code (file names) and its English name."""
    code: str   # langrep's code (corpus ids tatoeba_{code}-en)
    laser: str  # LASER's 3-letter code (the file names)
    name: str


# LASER code -> (ISO 639-1 code or None, English name): every language of data/tatoeba/v1.
_LASER: dict[str, tuple[str | None, str]] = {
    "afr": ("af", "Afrikaans"), "amh": ("am", "Amharic"), "ang": (None, "Old English"),
    "ara": ("ar", "Arabic"), "arq": (None, "Algerian Arabic"), "arz": (None, "Egyptian Arabic"),
    "ast": (None, "Asturian"), "awa": (None, "Awadhi"), "aze": ("az", "Azerbaijani"),
    "bel": ("be", "Belarusian"), "ben": ("bn", "Bengali"), "ber": (None, "Berber"),
    "bos": ("bs", "Bosnian"), "bre": ("br", "Breton"), "bul": ("bg", "Bulgarian"),
    "cat": ("ca", "Catalan"), "cbk": (None, "Chavacano"), "ceb": (None, "Cebuano"),
    "ces": ("cs", "Czech"), "cha": ("ch", "Chamorro"), "cmn": ("zh", "Mandarin Chinese"),
    "cor": ("kw", "Cornish"), "csb": (None, "Kashubian"), "cym": ("cy", "Welsh"),
    "dan": ("da", "Danish"), "deu": ("de", "German"), "dsb": (None, "Lower Sorbian"),
    "dtp": (None, "Central Dusun"), "ell": ("el", "Greek"), "epo": ("eo", "Esperanto"),
    "est": ("et", "Estonian"), "eus": ("eu", "Basque"), "fao": ("fo", "Faroese"),
    "fin": ("fi", "Finnish"), "fra": ("fr", "French"), "fry": ("fy", "Western Frisian"),
    "gla": ("gd", "Scottish Gaelic"), "gle": ("ga", "Irish"), "glg": ("gl", "Galician"),
    "gsw": (None, "Swiss German"), "heb": ("he", "Hebrew"), "hin": ("hi", "Hindi"),
    "hrv": ("hr", "Croatian"), "hsb": (None, "Upper Sorbian"), "hun": ("hu", "Hungarian"),
    "hye": ("hy", "Armenian"), "ido": ("io", "Ido"), "ile": ("ie", "Interlingue"),
    "ina": ("ia", "Interlingua"), "ind": ("id", "Indonesian"), "isl": ("is", "Icelandic"),
    "ita": ("it", "Italian"), "jav": ("jv", "Javanese"), "jpn": ("ja", "Japanese"),
    "kab": (None, "Kabyle"), "kat": ("ka", "Georgian"), "kaz": ("kk", "Kazakh"),
    "khm": ("km", "Khmer"), "kor": ("ko", "Korean"), "kur": ("ku", "Kurdish (Kurmanji)"),
    "kzj": (None, "Coastal Kadazan"), "lat": ("la", "Latin"), "lfn": (None, "Lingua Franca Nova"),
    "lit": ("lt", "Lithuanian"), "lvs": ("lv", "Latvian"), "mal": ("ml", "Malayalam"),
    "mar": ("mr", "Marathi"), "max": (None, "North Moluccan Malay"), "mhr": (None, "Eastern Mari"),
    "mkd": ("mk", "Macedonian"), "mon": ("mn", "Mongolian"), "nds": (None, "Low German"),
    "nld": ("nl", "Dutch"), "nno": ("nn", "Norwegian Nynorsk"), "nob": ("nb", "Norwegian Bokmål"),
    "nov": (None, "Novial"), "oci": ("oc", "Occitan"), "orv": (None, "Old Russian"),
    "pam": (None, "Kapampangan"), "pes": ("fa", "Persian"), "pms": (None, "Piedmontese"),
    "pol": ("pl", "Polish"), "por": ("pt", "Portuguese"), "ron": ("ro", "Romanian"),
    "rus": ("ru", "Russian"), "slk": ("sk", "Slovak"), "slv": ("sl", "Slovenian"),
    "spa": ("es", "Spanish"), "sqi": ("sq", "Albanian"), "srp": ("sr", "Serbian"),
    "swe": ("sv", "Swedish"), "swg": (None, "Swabian"), "swh": ("sw", "Swahili"),
    "tam": ("ta", "Tamil"), "tat": ("tt", "Tatar"), "tel": ("te", "Telugu"),
    "tgl": ("tl", "Tagalog"), "tha": ("th", "Thai"), "tuk": ("tk", "Turkmen"),
    "tur": ("tr", "Turkish"), "tzl": (None, "Talossan"), "uig": ("ug", "Uyghur"),
    "ukr": ("uk", "Ukrainian"), "urd": ("ur", "Urdu"), "uzb": ("uz", "Uzbek"),
    "vie": ("vi", "Vietnamese"), "war": (None, "Waray"), "wuu": (None, "Wu Chinese"),
    "xho": ("xh", "Xhosa"), "yid": ("yi", "Yiddish"), "yue": (None, "Cantonese"),
    "zsm": ("ms", "Malay"),
}
# Where langrep's code is neither the ISO 639-1 code nor LASER's: Kurdish is Kurmanji (kmr) as in UD.
_PROJECT_CODES = {"kur": "kmr"}

TATOEBA_LANGUAGES: dict[str, TatoebaLanguage] = {}
for _laser, (_iso1, _name) in _LASER.items():
    _code = _PROJECT_CODES.get(_laser) or _iso1 or _laser
    TATOEBA_LANGUAGES[_code] = TatoebaLanguage(_code, _laser, _name)
# langrep code -> LASER code (``de`` -> ``deu``)
TATOEBA_CODES: dict[str, str] = {c: lang.laser for c, lang in TATOEBA_LANGUAGES.items()}
# Every other name a config may use for a language: LASER's code, and ISO 639-1 where langrep uses another.
TATOEBA_ALIASES: dict[str, str] = {
    **{lang.laser: c for c, lang in TATOEBA_LANGUAGES.items() if lang.laser != c},
    **{iso1: _PROJECT_CODES[laser] for laser, (iso1, _) in _LASER.items() if laser in _PROJECT_CODES and iso1},
}

# XTREME's 36 Tatoeba languages (Hu et al. 2020; google-research/xtreme utils_preprocess.py, without
# the five XTREME-R added: az, lt, pl, uk, ro).
XTREME_TATOEBA_LANGS = (
    "af", "ar", "bg", "bn", "de", "el", "es", "et", "eu", "fa", "fi", "fr", "he", "hi", "hu", "id",
    "it", "ja", "jv", "ka", "kk", "ko", "ml", "mr", "nl", "pt", "ru", "sw", "ta", "te", "th", "tl",
    "tr", "ur", "vi", "zh",
)
TATOEBA_PRESETS = {"xtreme": XTREME_TATOEBA_LANGS}

# sha256 of every file at TATOEBA_COMMIT (computed from the git blobs of that commit), kept in
# sha256sum's format: `cd tatoeba && sha256sum -c .../langrep/resources/tatoeba.sha256` checks a copy.
TATOEBA_SHA256_FILE = "tatoeba.sha256"


def _read_sha256(name: str) -> dict[str, str]:
    text = resources.files("langrep").joinpath("resources", name).read_text(encoding="utf-8")
    return {file: digest for digest, file in (line.split() for line in text.splitlines() if line.strip())}


TATOEBA_SHA256: dict[str, str] = _read_sha256(TATOEBA_SHA256_FILE)


def describe(code: str) -> str:
    """``nl (nld, Dutch)``: a langrep code with LASER's code and the language's name."""
    lang = TATOEBA_LANGUAGES[code]
    return f"{code} ({lang.laser}, {lang.name})" if lang.laser != code else f"{code} ({lang.name})"


def tatoeba_suggestions(value: str, n: int = 3) -> list[str]:
    """The langrep codes closest to ``value``: by code (either kind) and by language name."""
    value = str(value).strip().lower()
    names = {lang.name.lower(): c for c, lang in TATOEBA_LANGUAGES.items()}
    keys = {**{c: c for c in TATOEBA_LANGUAGES}, **TATOEBA_ALIASES, **names}
    out: list[str] = []
    for hit in difflib.get_close_matches(value, list(keys), n=2 * n, cutoff=0.5):
        if keys[hit] not in out:
            out.append(keys[hit])
    return out[:n]


def resolve_tatoeba_lang(value: str, key: str | None = "retrieval.tatoeba.langs") -> str:
    """langrep's code for a Tatoeba language given by its ISO 639-1 code or LASER's 3-letter code;
    an unknown one is a LangrepError naming the config ``key`` (if any) and the closest codes."""
    v = str(value).strip()
    if v in TATOEBA_LANGUAGES:
        return v
    if v in TATOEBA_ALIASES:
        return TATOEBA_ALIASES[v]
    close = tatoeba_suggestions(v)
    hint = f"; did you mean {', '.join(describe(c) for c in close)}?" if close else ""
    where = f"config key {key}: " if key else ""
    raise LangrepError(
        f"{where}unknown Tatoeba language {value!r}{hint} (LASER's Tatoeba set has "
        f"{len(TATOEBA_LANGUAGES)} languages, named by their ISO 639-1 code or LASER's 3-letter code; "
        f"presets: {', '.join(TATOEBA_PRESETS)})")


def resolve_tatoeba_langs(values: Iterable[str] | None, key: str = "retrieval.tatoeba.langs") -> list[str]:
    """Codes and presets (``xtreme``) as langrep codes, in order, each once (``[nld, de, deu]`` ->
    ``[nl, de]``). None or empty: none."""
    out: list[str] = []
    for v in values or []:
        for code in TATOEBA_PRESETS.get(str(v).strip(), [v]):
            c = resolve_tatoeba_lang(code, key)
            if c not in out:
                out.append(c)
    return out


def tatoeba_relpaths(laser: str) -> dict[str, str]:
    """``{"xx": ..., "en": ...}``: the relative paths of a Tatoeba pair by LASER code (``deu``)."""
    return {side: rel.format(code=laser) for side, rel in RELPATHS["tatoeba"].items()}


def tatoeba_code(lang: str) -> str:
    """LASER's 3-letter code of a Tatoeba language (``de`` -> ``deu``; LASER codes map to themselves)."""
    return TATOEBA_CODES[resolve_tatoeba_lang(lang, key=None)]


# --------------------------------------------------------------------------------------------
# Universal Dependencies: one GitHub repository per treebank, files at the root of a release tag.
UD_URL = "https://raw.githubusercontent.com/UniversalDependencies/{treebank}/{tag}/{prefix}-ud-{split}.conllu"
UD_SPLITS = ("train", "dev", "test")
# Checksums: resources/ud.registry (per treebank, release tag or commit, file; see langrep.data.registry).
# data.ud_release: mirror-commits takes each treebank at the commit ../shared/data/ud was copied from.
UD_MIRROR_RELEASE = "mirror-commits"
UD_MIRROR_COMMITS: dict[str, str] = {
    "UD_English-EWT": "15d613d8447b3478787d4c278730a1e48a945efb",
    "UD_Arabic-PUD": "be733f45d21f42d506c62930f806ed2182a5ee3d",
    "UD_Bulgarian-BTB": "b5cd6324b2015dbf3cd328ddebefc54dceddd202",
    "UD_German-GSD": "297fcf350481058d0737a27f0f8fd03b2eadd67a",
    "UD_Greek-GDT": "1485f849d5ac7fcafa092a75804b41dbb1a3f194",
    "UD_Spanish-GSD": "57c045644664e5c1e169263cc4e3b95e40c078ba",
    "UD_French-GSD": "830e2782304af08b3cc1c9250475343e04274d81",
    "UD_Hindi-PUD": "8bc630f73e0737ce5ed9eaa97abf11f172ecc9bd",
    "UD_Russian-GSD": "5400f2fd7264b7699727bb61b09f53841899df26",
    "UD_Thai-PUD": "516638d39adfbc03fa3e7f7b33ce59555055a2d9",
    "UD_Turkish-IMST": "bcd48daa9957794a9137d85a4e2a115cdcdd4b1a",
    "UD_Urdu-UDTB": "ed8da673c32352fb78036808349a9546e21fc78a",
    "UD_Vietnamese-VTB": "e8fa54835582fb5d0c767f19f0992675726fa084",
    "UD_Chinese-GSD": "200dbe8acf60ff0d194f2d30bf925c410eee762a",
    "UD_Buryat-BDT": "300aa7089987a518da28c07715866df18205701f",
    "UD_Kurmanji-MG": "0dad7c35ec21766357dd314d0cbc18c25c07805b",
    "UD_Upper_Sorbian-UFAL": "6dc5594861906bbd755188a7de26f2c833a4a7bf",
    "UD_Kazakh-KTB": "e9f3b87a5faa95cf0b4cd97d62f2de8c90ee8153",
    "UD_Irish-IDT": "ecefd4dfddc5da6d56a56429535e64aec060ec4f",
    "UD_North_Sami-Giella": "5d84ca5b1c0498dfdb78482a79363c1cca61bb5f",
}


def ud_ref(treebank: str, release: str) -> str:
    """The git ref a UD download takes: the release tag, or the mirror's commit (``mirror-commits``)."""
    if release != UD_MIRROR_RELEASE:
        return release
    try:
        return UD_MIRROR_COMMITS[treebank]
    except KeyError:
        raise LangrepError(
            f"config key data.ud_release: {UD_MIRROR_RELEASE} pins only the treebanks of ../shared/data/ud, "
            f"not {treebank}; set a release tag (e.g. r2.17)"
        ) from None


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


def ud_relpath(treebank: Treebank, split: str) -> str:
    """Relative path of a treebank's CoNLL-U file for ``split`` (train, dev or test)."""
    if split not in UD_SPLITS:
        raise LangrepError(f"UD split {split!r} is not one of {UD_SPLITS}")
    return RELPATHS["ud"]["conllu"].format(treebank=treebank.name, prefix=treebank.prefix, split=split)


# --------------------------------------------------------------------------------------------
# XNLI 1.0: the official zip (test and dev of all 15 languages in two TSV files).
XNLI_LANGS = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
XNLI_SPLITS = ("test", "dev")
XNLI_URL = "https://dl.fbaipublicfiles.com/XNLI/XNLI-1.0.zip"
# 17,865,352 bytes; the same digest is pinned by Julia's DataDeps.jl registration of XNLI-1.0.zip.
XNLI_SHA256: str | None = "4ba1d5e1afdb7161f0f23c66dc787802ccfa8a25a3ddd3b165a35e50df346ab1"
XNLI_LABELS = ("entailment", "neutral", "contradiction")


def xnli_relpath(split: str, lang: str) -> str:
    """Relative path of the XNLI TSV file of ``split`` and ``lang``."""
    return RELPATHS["xnli"]["tsv"].format(split=split, lang=lang)


def xnli_relpaths() -> list[str]:
    """Relative paths of every XNLI file (both splits, all 15 languages)."""
    return [xnli_relpath(s, lang) for s in XNLI_SPLITS for lang in XNLI_LANGS]


# --------------------------------------------------------------------------------------------
# BUCC 2018: one archive per pair and part from the shared task's site. XTREME (and this layout)
# call the "sample" part dev and the "training" part test.
BUCC_LANGS = ("de", "fr", "ru", "zh")
BUCC_SPLITS = ("dev", "test")
BUCC_PARTS = {"dev": "sample", "test": "training"}
BUCC_URL = "https://comparable.limsi.fr/bucc2018/bucc2018-{xx}-en.{part}-gold.tar.bz2"
# The site publishes no checksums; these (and the sizes in docs/data.md) are the ones Hugging Face's
# `xtreme` data set recorded for these URLs (datasets/xtreme/urls_checksums/checksums.txt).
BUCC_SHA256: dict[tuple[str, str], str | None] = {
    ("de", "dev"): "8e16ba8b02ef8d648b06adfbd6dfb188f43524e18f97b2b12a14a086caac62f3",
    ("de", "test"): "766e0fdebbd1438fb87c21254828eb13c8b997d8fbab002103dd060dcac50c5c",
    ("fr", "dev"): "df9eb3966954e163c9264076f7c9c1eb56d9d8a91855f9d3afbf2c0fdaef0a08",
    ("fr", "test"): "53c0d0e7dd97dc89593a2db25a26c5f0ccdc7113e8451263bb0c80e4c4c7dc30",
    ("ru", "dev"): "fce3cabc7ee50ddb4b18aa6fb090e2669c8383d2a29fc97eed6ae70fed9a23e5",
    ("ru", "test"): "1895df56e936ca3d4f5b12299ceffe0b7ff4806584c40bdaa3ae1d445f25afa5",
    ("zh", "dev"): "a3425be5c0320ee131a0927b66c3e29befb3b481ebf1b87257e660e514bc16ac",
    ("zh", "test"): "3facb71798277c8f44dc78c1f8ae2110f254d0e14799f3508eedd54b4236877a",
}


def bucc_relpaths(xx: str, split: str) -> dict[str, str]:
    """``{"xx": ..., "en": ..., "gold": ...}`` for a BUCC pair ``xx``-en and split ``dev``/``test``."""
    if xx not in BUCC_LANGS:
        raise LangrepError(f"BUCC 2018 has no {xx}-en pair (pairs: {', '.join(f'{x}-en' for x in BUCC_LANGS)})")
    if split not in BUCC_SPLITS:
        raise LangrepError(f"BUCC 2018 split {split!r} is not one of {BUCC_SPLITS}")
    return {side: rel.format(xx=xx, split=split) for side, rel in RELPATHS["bucc2018"].items()}


# --------------------------------------------------------------------------------------------
# Monolingual text. Download path: Wikipedia through `datasets` (streamed, first N sentences).
WIKIPEDIA_DATASET = "wikimedia/wikipedia"
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


def mono_relpath(lang: str) -> str:
    """Relative path of the monolingual text file of ``lang``."""
    return RELPATHS["mono"]["text"].format(lang=lang)


def mono_stand_in(lang: str, mirror: str | os.PathLike | None) -> tuple[str, str] | None:
    """The stand-in source for ``mono`` of ``lang`` (see MONO_STAND_INS), or None for ``mono/<lang>.txt``.

    Only with a mirror that has no ``mono/<lang>.txt``; downloads always use Wikipedia.
    """
    if mirror is None or lang not in MONO_STAND_INS:
        return None
    if (Path(mirror) / mono_relpath(lang)).is_file():
        return None
    return MONO_STAND_INS[lang]


# --------------------------------------------------------------------------------------------
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
    raise LangrepError(f"unknown data set {dataset!r} (known: {', '.join(MIRROR_DATASETS)})")
