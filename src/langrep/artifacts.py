"""Reading artifacts: the one place a Parquet, safetensors, JSON or checkpoint file is read.

A file that cannot be read (truncated by a full disk, damaged, or not what it should be) becomes one
:class:`ArtifactReadError` that names the file, says why, and says what to do: delete it, or rerun
the job that makes it (``snakemake --forcerun <file>``), naming that rule where the path table
(:func:`langrep.paths.producer`) knows it. Either remedy makes the next run rebuild the file, and
whatever was made from it after it.

Every reader in langrep opens its files through these functions (or the :func:`reading` block
around a read of its own), never ``pd.read_parquet``, ``pq.read_table`` or ``json.loads`` directly.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from langrep.errors import LangrepError
from langrep.paths import producer


class ArtifactReadError(LangrepError):
    """A file langrep made (or reads) that cannot be read; the message holds the remedy."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: cannot read it ({reason}). {remedy(self.path)}")


def remedy(path) -> str:
    """What a user does about a file that cannot be read."""
    made = producer(path)
    if made is None:
        return f"Replace it with a good copy, or delete it if a rule of the workflow makes it (rm {path})."
    artifact, rule = made
    what, rm = ("it", "rm") if artifact == str(path) else (f"the folder {artifact}", "rm -r")
    return (
        f"It is made by rule {rule}: delete {what} ({rm} {artifact}) or run "
        f"`snakemake --forcerun {artifact}`, and the next run rebuilds it."
    )


@contextlib.contextmanager
def reading(path) -> Iterator[None]:
    """Around the read of one file: any failure but langrep's own errors becomes an ArtifactReadError."""
    try:
        yield
    except LangrepError:
        raise
    except FileNotFoundError:
        raise ArtifactReadError(path, "it does not exist") from None
    except Exception as e:  # pyarrow, safetensors, json and torch each raise their own kinds
        detail = str(e).strip().splitlines()[0].rstrip(".") if str(e).strip() else ""
        # the cause's type and first line are in the message; its traceback would only bury it
        raise ArtifactReadError(path, f"{type(e).__name__}: {detail}"[:300]) from None


def read_table(path, columns: Sequence[str] | None = None):
    """A Parquet file (or some of its columns) as a pyarrow Table."""
    import pyarrow.parquet as pq

    with reading(path):
        return pq.read_table(path, columns=None if columns is None else list(columns))


def read_frame(path, columns: Sequence[str] | None = None):
    """A Parquet file (or some of its columns) as a pandas DataFrame."""
    return read_table(path, columns).to_pandas()


def read_schema(path):
    """The schema (with its key/value metadata) of a Parquet file, from its footer."""
    import pyarrow.parquet as pq

    with reading(path):
        return pq.read_schema(path)


def read_metadata(path):
    """The footer metadata (row count, row groups) of a Parquet file."""
    import pyarrow.parquet as pq

    with reading(path):
        return pq.read_metadata(path)


def read_json(path):
    """A JSON file."""
    with reading(path):
        return json.loads(Path(path).read_text(encoding="utf-8"))


def read_safetensors(path) -> dict:
    """A safetensors file as torch tensors (on the CPU)."""
    from safetensors.torch import load_file

    with reading(path):
        return load_file(str(path))


def read_torch(path) -> dict:
    """A checkpoint written by ``torch.save`` (tensors and plain values only: ``weights_only``)."""
    import torch

    with reading(path):
        return torch.load(path, map_location="cpu", weights_only=True)
