"""The ``data:`` section of the config, checked (:class:`DataSettings`), and the offline mirror it
names: ``data.mirror``, or ``$LANGREP_DATA_MIRROR`` over it (:func:`resolve_mirror`)."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from langrep.data.catalog import DEFAULT_UD_TREEBANKS, MIRROR_DATASETS, UD_RELEASE, WIKIPEDIA_DUMP, Treebank
from langrep.errors import LangrepError

MIRROR_ENV = "LANGREP_DATA_MIRROR"


def _positive_int_or_none(data: Mapping, key: str, default: int | None) -> int | None:
    n = data.get(key, default)
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise LangrepError(f"config key data.{key}: expected a positive integer or null, got {n!r}")
    return n


@dataclass(frozen=True)
class DataSettings:
    """The ``data:`` section of the config, checked, with defaults and the mirror resolved."""

    mirror: Path | None = None
    ud_release: str = UD_RELEASE
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
        ud_release = data.get("ud_release", UD_RELEASE)
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
