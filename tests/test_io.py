"""Atomic writes: all or nothing, and artifacts with the modes the user's umask gives."""

import os
import stat

import pytest

from langrep.io import atomic_directory, atomic_write, current_umask


@pytest.fixture(params=[0o022, 0o027, 0o002])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_artifacts_get_the_mode_of_the_umask(tmp_path, umask):
    assert current_umask() == umask
    with atomic_write(tmp_path / "a" / "file.txt") as tmp:
        tmp.write_text("x")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")  # what any other program would create
    assert (
        stat.S_IMODE((tmp_path / "a" / "file.txt").stat().st_mode)
        == stat.S_IMODE(plain.stat().st_mode)
        == 0o666 & ~umask
    )
    with atomic_directory(tmp_path / "model") as d:
        (d / "config.json").write_text("{}")
        (d / "shards").mkdir()
        (d / "shards" / "model.safetensors").write_bytes(b"w")
        os.chmod(d / "shards" / "model.safetensors", 0o600)  # as a library writing through mkstemp leaves it
        os.chmod(d / "shards", 0o700)
    assert stat.S_IMODE((tmp_path / "model" / "shards" / "model.safetensors").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "model" / "shards").stat().st_mode) == 0o777 & ~umask
    (tmp_path / "plain_dir").mkdir()
    assert (
        stat.S_IMODE((tmp_path / "model").stat().st_mode)
        == stat.S_IMODE((tmp_path / "plain_dir").stat().st_mode)
        == 0o777 & ~umask
    )


def test_a_failed_write_leaves_neither_file_nor_temporary(tmp_path):
    target = tmp_path / "out.parquet"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]


def test_orphaned_temporaries_of_dead_processes_are_removed(tmp_path):
    import subprocess
    import sys

    from langrep import io

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # that process has exited
    d = tmp_path / "results" / "m" / "means"
    d.mkdir(parents=True)
    orphan = d / f".de.parquet.{io._HOST}.{dead_pid}.abc123.tmp"
    orphan_dir = d / f".e5.{io._HOST}.{dead_pid}.xyz789.tmp"
    live = d / f".fr.parquet.{io._HOST}.{os.getpid()}.abc123.tmp"
    elsewhere = d / f".es.parquet.node17.{dead_pid}.abc123.tmp"
    for p in (orphan, live, elsewhere):
        p.write_text("half")
    orphan_dir.mkdir()
    (orphan_dir / "config.json").write_text("{}")
    removed = io.remove_orphaned_temporaries([tmp_path / "results", tmp_path / "missing"])
    assert sorted(removed) == sorted([orphan, orphan_dir])
    assert not orphan.exists() and not orphan_dir.exists() and live.exists() and elsewhere.exists()
    # the names atomic_write really uses are recognized
    with atomic_write(d / "x.parquet") as tmp:
        assert io._TEMP_RE.fullmatch(tmp.name)["pid"] == str(os.getpid())
        tmp.write_text("x")
