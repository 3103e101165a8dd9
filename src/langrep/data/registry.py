"""The download registry: every file the download path fetches, by key, with its official URL and
its known hash (the pooch registry of :mod:`langrep.data.download`).

A key is the file's path under a mirror of the *sources* (``data.download.base_url``)::

    tatoeba/tatoeba.<xxx>-eng.<xxx|eng>                 LASER data/tatoeba/v1 at TATOEBA_COMMIT
    ud/<Treebank>/<release tag or commit>/<file>.conllu  one UD treebank repository at a git ref
    xnli/XNLI-1.0.zip                                    the XNLI 1.0 zip
    bucc2018/bucc2018-<xx>-en.<sample|training>-gold.tar.bz2

A hash is ``sha256:<hex>`` or, for the few UD files of 4 MiB and more whose bytes were not at hand
when the registry was built, ``git-blob:<sha1>`` (the blob id in the repository's git tree, which
:mod:`langrep.data.download` checks). Where they come from: docs/data.md, "The registry".
"""
from __future__ import annotations

import functools
from importlib import resources

from langrep.data.catalog import (BUCC_PARTS, BUCC_SHA256, BUCC_URL, TATOEBA_COMMIT, TATOEBA_SHA256,
                                  TATOEBA_URL, UD_URL, XNLI_SHA256, XNLI_URL)
from langrep.errors import LangrepError

UD_REGISTRY_FILE = "ud.registry"
XNLI_KEY = "xnli/XNLI-1.0.zip"


def tatoeba_key(name: str) -> str:
    """The registry key of a Tatoeba file (``tatoeba/<name>``)."""
    return f"tatoeba/{name}"


def ud_key(treebank: str, ref: str, prefix: str, split: str) -> str:
    """The registry key of one UD split of a treebank at a git ref."""
    return f"ud/{treebank}/{ref}/{prefix}-ud-{split}.conllu"


def bucc_key(xx: str, split: str) -> str:
    """The registry key of a BUCC2018 tarball (``split``: dev or test)."""
    return f"bucc2018/bucc2018-{xx}-en.{BUCC_PARTS[split]}-gold.tar.bz2"


def official_url(key: str) -> str:
    """The URL of ``key`` at its official source."""
    top, _, rest = key.partition("/")
    if top == "tatoeba":
        return TATOEBA_URL.format(commit=TATOEBA_COMMIT, name=rest)
    if top == "ud":
        treebank, ref, name = rest.split("/")
        prefix, split = name.removesuffix(".conllu").split("-ud-")
        return UD_URL.format(treebank=treebank, tag=ref, prefix=prefix, split=split)
    if key == XNLI_KEY:
        return XNLI_URL
    if top == "bucc2018":
        xx, part = rest.removeprefix("bucc2018-").removesuffix("-gold.tar.bz2").split("-en.")
        return BUCC_URL.format(xx=xx, part=part)
    raise LangrepError(f"no download source for {key!r}")


def source_url(key: str, base_url: str | None = None) -> str:
    """Where ``key`` is downloaded from: ``<base_url>/<key>`` when a base URL is set, else the official URL."""
    if base_url:
        return f"{base_url.rstrip('/')}/{key}"
    return official_url(key)


def _read_ud_registry() -> dict[str, str]:
    text = resources.files("langrep").joinpath("resources", UD_REGISTRY_FILE).read_text(encoding="utf-8")
    out = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            digest, rel = line.split()
            out[f"ud/{rel}"] = digest if digest.startswith("git-blob:") else f"sha256:{digest}"
    return out


@functools.cache
def registry() -> dict[str, str]:
    """Every key with a known hash (``sha256:<hex>`` or ``git-blob:<sha1>``)."""
    reg = {tatoeba_key(name): f"sha256:{digest}" for name, digest in TATOEBA_SHA256.items()}
    reg.update(_read_ud_registry())
    reg[XNLI_KEY] = f"sha256:{XNLI_SHA256}"
    reg.update({bucc_key(xx, split): f"sha256:{d}" for (xx, split), d in BUCC_SHA256.items() if d})
    return reg


def known_hash(key: str, overrides: dict[str, str] | None = None) -> str | None:
    """The hash ``key`` must have: ``data.download.sha256`` over the registry; None when unknown."""
    if overrides and key in overrides:
        return f"sha256:{overrides[key].lower()}"
    return registry().get(key)
