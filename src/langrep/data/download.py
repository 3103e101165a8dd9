"""Verified downloads through pooch: one registry key (:mod:`langrep.data.registry`) to one file.

pooch streams the file to a temporary name, checks its hash, and only then renames it; a dropped
connection or a server error is retried (``data.download.retries``), a missing file (HTTP 4xx) is
not. langrep downloads into a scratch folder beside the destination and renames the checked file
into place, so that after any failure ``data/raw`` holds no partial file. Every failure is one
:class:`~langrep.errors.LangrepError` naming the data set and the URL.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from langrep.data.registry import known_hash, source_url
from langrep.errors import LangrepError
from langrep.io import current_umask, sha256_file
from langrep.settings.data import DownloadSettings

log = logging.getLogger(__name__)


class _NotRetried(LangrepError):
    """A download error that trying again cannot mend (pooch retries only its own error types)."""


def _downloader(dataset: str, url: str):
    """pooch's HTTP downloader (progress bar on a terminal) that turns a 4xx answer into one error."""
    import pooch
    import requests

    http = pooch.HTTPDownloader(progressbar=sys.stderr.isatty(), timeout=60)

    def download(u, output_file, pooch_obj):
        try:
            return http(u, output_file, pooch_obj)
        except requests.exceptions.HTTPError as e:
            status = e.response.status_code if e.response is not None else None
            if status is not None and 400 <= status < 500:
                raise _NotRetried(f"data set {dataset}: download {url} failed: HTTP {status} "
                                  f"({'not found' if status == 404 else e.response.reason})") from None
            raise

    return download


def git_blob_id(path: str | os.PathLike) -> str:
    """The git blob id (sha1 of ``blob <size>\\0`` + content) of a file, streamed."""
    h = hashlib.sha1(b"blob %d\0" % Path(path).stat().st_size)
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


@contextmanager
def scratch_dir(near: str | os.PathLike) -> Iterator[Path]:
    """A hidden temporary folder inside ``near`` (same file system: renames out of it are atomic)."""
    near = Path(near)
    near.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".download.", dir=near))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch_to(key: str, folder: str | os.PathLike, dataset: str, settings: DownloadSettings) -> Path:
    """Download registry ``key`` into ``folder`` (a scratch folder) and check its hash; the path.

    The hash is ``data.download.sha256[key]``, else the registry's; a file without a known hash is
    kept with a warning giving its sha256 (provenance records it too).
    """
    import pooch
    import requests

    url = source_url(key, settings.base_url)
    expected = known_hash(key, settings.sha256)
    name = Path(key).name
    pooch_hash = expected if expected is not None and expected.startswith("sha256:") else None
    fetcher = pooch.create(path=folder, base_url="", registry={name: pooch_hash}, urls={name: url},
                           retry_if_failed=settings.retries)
    log.info("data set %s: downloading %s", dataset, url)
    try:
        path = Path(fetcher.fetch(name, downloader=_downloader(dataset, url)))
    except _NotRetried:
        raise
    except ValueError as e:  # pooch: the hash does not match
        raise LangrepError(f"data set {dataset}: download {url} failed its check: {e}") from None
    except (requests.exceptions.RequestException, OSError) as e:
        raise LangrepError(f"data set {dataset}: download {url} failed after {settings.retries} "
                           f"retries: {e}") from None
    if expected is not None and expected.startswith("git-blob:"):
        got = git_blob_id(path)
        if got != expected.removeprefix("git-blob:"):
            path.unlink()
            raise LangrepError(f"data set {dataset}: download {url} failed its check: git blob id {got}, "
                               f"expected {expected.removeprefix('git-blob:')}")
    digest = sha256_file(path)
    if expected is None:
        log.warning("data set %s: no known hash for %s (%s); the file has sha256 %s", dataset, key, url, digest)
    else:
        log.info("data set %s: %s verified (sha256 %s)", dataset, name, digest)
    return path


def download(key: str, dest: str | os.PathLike, dataset: str, settings: DownloadSettings) -> Path:
    """Download ``key`` to ``dest``: checked in a scratch folder beside it, then renamed into place."""
    dest = Path(dest)
    with scratch_dir(dest.parent) as tmp:
        path = fetch_to(key, tmp, dataset, settings)
        os.chmod(path, 0o666 & ~current_umask())  # pooch's temporary is 0600
        os.replace(path, dest)
    return dest
