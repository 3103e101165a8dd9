"""The ``data:`` section of the config (:class:`DataSettings`), and the offline mirror it names:
``data.mirror``, or ``$LANGREP_DATA_MIRROR`` over it; ``auto`` finds ``../shared/data`` or downloads
(:func:`resolve_mirror`)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from langrep.data.catalog import DEFAULT_UD_TREEBANKS, MIRROR_DATASETS, Treebank
from langrep.errors import InputFormatError, LangrepError
from langrep.settings.base import Settings

MIRROR_ENV = "LANGREP_DATA_MIRROR"
AUTO = "auto"
AUTO_MIRROR = Path("../shared/data")  # where data.mirror: auto looks (from the working directory)


@dataclass(frozen=True)
class DownloadSettings(Settings):
    """``data.download``: where files come from (an institution's mirror of the sources), extra
    hashes, and how often a failed download is tried again."""

    SECTION = ("data", "download")
    base_url: str | None
    sha256: Mapping[str, str]
    retries: int


@dataclass(frozen=True)
class DataSettings(Settings):
    """The ``data:`` section of the config (defaults from the schema, which checks the values), with
    the mirror resolved and the configured UD treebanks over the built-in ones."""

    SECTION = ("data",)
    NESTED = {"download": DownloadSettings}
    mirror: Path | None
    download: DownloadSettings
    ud_release: str
    ud_treebanks: dict[str, Treebank]
    mono_sentences: int | None
    # BUCC sentences per side: every sentence of a gold pair plus a seeded sample of the others up
    # to this many (a smaller, easier haystack for CPU runs); None = the whole file (the benchmark).
    bucc_sentences: int | None
    wikipedia_dump: str

    @classmethod
    def from_config(cls, mapping: Mapping | DataSettings | None = None, key: str | None = None) -> DataSettings:
        """The ``data:`` section with the built-in UD treebanks merged in and the mirror resolved."""
        if isinstance(mapping, cls):
            return mapping
        s = super().from_config(mapping, key)
        configured = {
            str(lang): Treebank(str(tb["treebank"]), str(tb["prefix"])) for lang, tb in s.ud_treebanks.items()
        }
        treebanks = {**DEFAULT_UD_TREEBANKS, **configured}
        return dataclasses.replace(s, mirror=resolve_mirror(s.mirror), ud_treebanks=treebanks)

    def treebank(self, lang: str) -> Treebank:
        """The UD treebank of ``lang``; a LangrepError naming ``data.ud_treebanks`` when none is configured."""
        try:
            return self.ud_treebanks[lang]
        except KeyError:
            raise LangrepError(
                f"config key data.ud_treebanks: no UD treebank configured for language {lang!r} "
                f"(configured: {', '.join(sorted(self.ud_treebanks))})"
            ) from None


def resolve_mirror(config_value: str | os.PathLike | None) -> Path | None:
    """The mirror folder to use: ``$LANGREP_DATA_MIRROR`` if set (empty = download), else the config
    value; ``auto`` is ``../shared/data`` when that folder exists, else None (download)."""
    env = os.environ.get(MIRROR_ENV)
    value = env if env is not None else config_value
    if value is None or str(value).strip() == "":
        return None
    if str(value).strip() == AUTO:
        return AUTO_MIRROR if AUTO_MIRROR.is_dir() else None
    return Path(os.path.expanduser(str(value)))


def describe_source(config_value: str | os.PathLike | None, mirror: Path | None) -> str:
    """One line for the start of a run: where the data comes from and why."""
    env = os.environ.get(MIRROR_ENV)
    why = (
        f"${MIRROR_ENV}={env!r}"
        if env is not None
        else f"data.mirror: {config_value}"
        + (f" ({AUTO_MIRROR} {'exists' if mirror else 'is absent'})" if str(config_value) == AUTO else "")
    )
    if mirror is None:
        return f"data: verified downloads from the sources into data/raw ({why}; docs/data.md)"
    return f"data: offline mirror {mirror} ({why})"


def check_mirror(mirror: Path | None) -> None:
    """A mirror that is set must be a folder laid out like ``../shared/data`` (one clear error at load)."""
    if mirror is None:
        return
    where = f"data.mirror (or ${MIRROR_ENV}) = {str(mirror)!r}"
    if not mirror.is_dir():
        raise LangrepError(
            f"{where}: no such folder. Point it at a folder laid out like ../shared/data "
            f"(docs/data.md), or set it to null / an empty ${MIRROR_ENV} to download"
        )
    if not any((mirror / d).is_dir() for d in MIRROR_DATASETS):
        raise LangrepError(
            f"{where}: not a data mirror (none of {', '.join(d + '/' for d in MIRROR_DATASETS)} "
            "is in it); see docs/data.md for the layout"
        )


@contextmanager
def naming_mirror_files(raw_root: str | os.PathLike, mirror: Path | None) -> Iterator[None]:
    """Bad input in a raw file that is a copy of a mirror file names the mirror file too: that is
    the one to fix (``data/raw`` is refreshed from the mirror when the mirror file changes)."""
    try:
        yield
    except InputFormatError as e:
        if mirror is None:
            raise
        try:
            rel = Path(e.path).resolve().relative_to(Path(raw_root).resolve())
        except ValueError:
            raise e from None
        src = Path(mirror) / rel
        if not src.is_file():
            raise
        line = f", line {e.line}" if e.line is not None else ""
        raise LangrepError(f"{e} [{e.path} is a copy of the mirror file {src}{line}: fix it there]") from None
