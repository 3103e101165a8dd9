"""Atomic artifact writes: a run killed at any point never leaves a half-written file."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        # mkstemp makes the file 0600; an artifact gets the mode any new file gets (umask 022: 0644)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Like :func:`atomic_write` for a directory: built aside, then renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        # mkdtemp makes the folder 0700, and libraries that write through temporaries (transformers'
        # safetensors shards) leave files 0600: everything gets the mode the umask gives
        mask = current_umask()
        for root, dirs, files in os.walk(tmp):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o777 & ~mask)
            for f in files:
                os.chmod(os.path.join(root, f), 0o666 & ~mask)
        os.chmod(tmp, 0o777 & ~mask)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


def _temp_prefix(path: Path) -> str:
    # host and pid in the name: a later run can tell an orphan of a killed process from a live one
    return f".{path.name}.{_HOST}.{os.getpid()}."


_HOST = socket.gethostname().replace(".", "-")
_TEMP_RE = re.compile(r"\.(?P<name>.+)\.(?P<host>[^.]+)\.(?P<pid>\d+)\.[^.]+\.tmp")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_orphaned_temporaries(roots) -> list[Path]:
    """Remove the temporaries that killed processes of this host left under ``roots``; return them.

    Temporaries of live processes (another run writing disjoint outputs) and of other hosts (cluster
    jobs) stay: only their own job's next run may remove those (see :func:`atomic_write`).
    """
    removed = []
    for root in map(Path, roots):
        if not root.is_dir():
            continue
        for tmp in root.rglob(".*.tmp"):
            m = _TEMP_RE.fullmatch(tmp.name)
            if m is None or m["host"] != _HOST or _alive(int(m["pid"])):
                continue
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            removed.append(tmp)
    return removed


def _remove_stale(path: Path) -> None:
    """Temporaries of this same artifact left by a killed run (only its own job writes them)."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()


def write_parquet(table: pa.Table | pd.DataFrame, path, metadata: dict[str, str] | None = None) -> None:
    """Write a Parquet file atomically, with optional key/value metadata in the schema."""
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    if metadata:
        merged = dict(table.schema.metadata or {})
        merged.update({k.encode(): str(v).encode() for k, v in metadata.items()})
        table = table.replace_schema_metadata(merged)
    with atomic_write(path) as tmp:
        pq.write_table(table, tmp)


def read_parquet_metadata(path) -> dict[str, str]:
    """The key/value metadata written by :func:`write_parquet` (pandas' own key left out)."""
    from langrep.artifacts import read_schema

    meta = read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in meta.items() if k != b"pandas"}


def sha256_file(path, chunk: int = 1 << 20) -> str:
    """Hex sha256 digest of a file, read in blocks of ``chunk`` bytes."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
