"""Downloads over real HTTP: a server on 127.0.0.1 (http.server in a thread) serves the sources'
published layouts, built from the mirror's files into a temp folder (the mirror is never written):
Tatoeba and UD files as they are, the XNLI zip and a BUCC tarball packed from the mirror's copies.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from langrep.data import catalog, corpora, fetch, registry
from langrep.data.download import DownloadSettings
from langrep.errors import LangrepError
from langrep.settings.data import DataSettings

pytestmark = pytest.mark.usefixtures("no_env_mirror")
ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = shutil.which("snakemake") or str(Path(sys.executable).with_name("snakemake"))
XNLI_HEADER = ["language", "gold_label", "sentence1", "sentence2", "pairID"]
UD_DE = ("UD_German-GSD", "de_gsd", "test")


def _xnli_zip(mirror: Path, dest: Path) -> None:
    """The XNLI-1.0 zip's layout (XNLI-1.0/xnli.<split>.tsv, one row per language and example),
    from the mirror's XTREME files: the conversion run backwards."""
    with zipfile.ZipFile(dest, "w") as zf:
        for split in catalog.XNLI_SPLITS:
            lines = ["\t".join(XNLI_HEADER)]
            for lang in catalog.XNLI_LANGS:
                rows = (
                    (mirror / catalog.xnli_relpath(split, lang))
                    .read_text(encoding="utf-8")
                    .removesuffix("\n")
                    .split("\n")
                )
                for i, row in enumerate(rows):
                    fields = row.split("\t")
                    label = fields[2] if split == "dev" else "neutral"
                    label = "contradictory" if label == "contradiction" else label  # as the zip spells it
                    lines.append("\t".join([lang, label, fields[0], fields[1], str(i)]))
            zf.writestr(f"XNLI-1.0/xnli.{split}.tsv", "\n".join(lines) + "\n")


def _bucc_tar(mirror: Path, xx: str, split: str, dest: Path, symlink: str | None = None) -> None:
    """A BUCC tarball (bucc2018/<xx>-en/<xx>-en.<part>.<ext>) holding the mirror's files; ``symlink``
    makes that member a symbolic link instead (the content is the mirror's dev files either way)."""
    part = catalog.BUCC_PARTS[split]
    with tarfile.open(dest, "w:bz2") as tf:
        for rel in catalog.bucc_relpaths(xx, "dev").values():  # the mirror has dev only
            ext = Path(rel).suffix
            info = tarfile.TarInfo(f"bucc2018/{xx}-en/{xx}-en.{part}{ext}")
            if ext == symlink:
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tf.addfile(info)
                continue
            data = (mirror / rel).read_bytes()
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site folder; a path in ``server.drop`` is cut off halfway through, once."""

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path in self.server.drop:
            self.server.drop.discard(self.path)
            data = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        super().do_GET()


@pytest.fixture(scope="module")
def site(shared_data, tmp_path_factory):
    """The sources' layouts (registry keys) under a temp folder, built from the mirror's files."""
    root = tmp_path_factory.mktemp("site")
    for code in [catalog.tatoeba_code(x) for x in ("de", "es", "ar", "el", "fr", "hi", "ru", "vi", "th", "tr", "zh")]:
        for rel in catalog.tatoeba_relpaths(code).values():
            dest = root / registry.tatoeba_key(Path(rel).name)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shared_data / rel, dest)
    for tb in catalog.DEFAULT_UD_TREEBANKS.values():
        for split in catalog.UD_SPLITS:
            src = shared_data / catalog.ud_relpath(tb, split)
            if src.is_file():
                key = registry.ud_key(tb.name, catalog.UD_MIRROR_COMMITS[tb.name], tb.prefix, split)
                (root / key).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, root / key)
    (root / "xnli").mkdir()
    _xnli_zip(shared_data, root / registry.XNLI_KEY)
    (root / "bucc2018").mkdir()
    _bucc_tar(shared_data, "zh", "dev", root / registry.bucc_key("zh", "dev"))
    _bucc_tar(shared_data, "zh", "test", root / registry.bucc_key("zh", "test"), symlink=".en")  # a bad one
    return root


@pytest.fixture(scope="module")
def server(site):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a, **k: _Handler(*a, directory=str(site), **k))
    httpd.requests, httpd.drop = [], set()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _settings(server, site, retries=1, **sha256) -> DownloadSettings:
    """data.download for the local server: the archives are repacked, so their sha256 are given."""
    repacked = {
        registry.XNLI_KEY: _sha(site / registry.XNLI_KEY),
        registry.bucc_key("zh", "dev"): _sha(site / registry.bucc_key("zh", "dev")),
    }
    return DownloadSettings.from_config(
        {"base_url": f"http://127.0.0.1:{server.server_port}", "sha256": {**repacked, **sha256}, "retries": retries}
    )


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _table(path: Path):
    return pq.read_table(path).replace_schema_metadata(None)


UNITS = [
    ("tatoeba", {"code": "deu"}, [("tatoeba_de-en", "de"), ("tatoeba_de-en", "en")]),
    (
        "ud",
        {"treebank": UD_DE[0], "prefix": UD_DE[1], "split": "test", "release": "mirror-commits"},
        [("ud_test", "de")],
    ),
    ("xnli", {}, [("xnli_test", "sw"), ("xnli_dev", "zh")]),
    ("bucc2018", {"xx": "zh", "split": "dev"}, [("bucc_zh-en_dev", "zh"), ("bucc_zh-en_dev", "en")]),
]


@pytest.mark.parametrize("dataset,options,corpora_", UNITS, ids=[u[0] for u in UNITS])
def test_downloads_give_the_mirror_corpora(shared_data, site, server, tmp_path, dataset, options, corpora_):
    """Raw files placed by downloads equal the mirror's (sha256), and so do the corpora made from them."""
    by_mirror, by_download = tmp_path / "m", tmp_path / "d"
    mirror_opts = {k: v for k, v in options.items() if k != "release"}
    placed_m = fetch.fetch(dataset, raw_root=by_mirror, mirror=shared_data, **mirror_opts)
    placed_d = fetch.fetch(dataset, raw_root=by_download, mirror=None, downloads=_settings(server, site), **options)
    placed_m = placed_m if isinstance(placed_m, list) else [placed_m]
    placed_d = placed_d if isinstance(placed_d, list) else [placed_d]
    assert [p.relative_to(by_mirror) for p in placed_m] == [p.relative_to(by_download) for p in placed_d]
    for m, d in zip(placed_m, placed_d):
        assert _sha(m) == _sha(d), d
    assert [p.relative_to(by_download) for p in _files(by_download)] == sorted(
        p.relative_to(by_mirror) for p in placed_m
    )  # nothing else (no archive, no temporary)
    for corpus, lang in corpora_:
        tables = []
        for raw in (by_mirror, by_download):
            out = raw.parent / f"{raw.name}-{corpus}-{lang}.parquet"
            corpora.normalize_corpus(
                corpus,
                lang,
                corpora.corpus_inputs(corpus, lang, DataSettings.from_config({"mirror": None}), raw_root=raw),
                out,
            )
            tables.append(_table(out))
        assert tables[0].equals(tables[1]) and tables[0].num_rows > 0


def test_a_dropped_connection_is_retried_and_completes(shared_data, site, server, tmp_path):
    key = registry.ud_key(UD_DE[0], catalog.UD_MIRROR_COMMITS[UD_DE[0]], UD_DE[1], UD_DE[2])
    server.drop.add("/" + key)
    before = len(server.requests)
    out = fetch.fetch_ud(
        *UD_DE, raw_root=tmp_path, mirror=None, release="mirror-commits", downloads=_settings(server, site, retries=2)
    )
    assert server.requests[before:] == ["/" + key, "/" + key]  # cut off once, then whole
    assert _sha(out) == _sha(shared_data / catalog.ud_relpath(catalog.Treebank(*UD_DE[:2]), "test"))
    assert _files(tmp_path) == [out]


def test_a_404_is_one_error_naming_the_data_set_and_url(site, server, tmp_path):
    before = len(server.requests)
    with pytest.raises(LangrepError) as e:
        fetch.fetch_ud(*UD_DE, raw_root=tmp_path, mirror=None, release="r2.99", downloads=_settings(server, site))
    url = f"http://127.0.0.1:{server.server_port}/ud/UD_German-GSD/r2.99/de_gsd-ud-test.conllu"
    assert str(e.value) == f"data set ud: download {url} failed: HTTP 404 (not found)"
    assert len(server.requests) == before + 1  # not retried
    assert _files(tmp_path) == []


def test_a_checksum_mismatch_places_nothing(site, server, tmp_path):
    key = registry.tatoeba_key("tatoeba.deu-eng.eng")
    with pytest.raises(
        LangrepError, match=f"data set tatoeba: download http://127.0.0.1:{server.server_port}/{key} failed its check"
    ):
        fetch.fetch_tatoeba("deu", raw_root=tmp_path, mirror=None, downloads=_settings(server, site, **{key: "0" * 64}))
    assert _files(tmp_path) == []  # neither side: the .deu file that passed is not placed either


def test_the_registry_checks_published_files(site, server, tmp_path):
    """Without an override, a repacked archive fails the published sha256 (the registry's)."""
    settings = DownloadSettings.from_config({"base_url": f"http://127.0.0.1:{server.server_port}", "retries": 0})
    with pytest.raises(LangrepError, match="data set xnli: .*XNLI-1.0.zip failed its check"):
        fetch.fetch_xnli(tmp_path, None, downloads=settings)
    assert _files(tmp_path) == []


def test_a_symlink_member_in_a_bucc_tarball_is_refused(site, server, tmp_path):
    key = registry.bucc_key("zh", "test")
    settings = _settings(server, site, **{key: _sha(site / key)})
    with pytest.raises(LangrepError, match=r"zh-en.training.en is a symbolic link, not a regular file"):
        fetch.fetch_bucc("zh", "test", tmp_path, None, downloads=settings)
    assert _files(tmp_path) == []


def test_git_blob_entries_are_checked(site, server, tmp_path, monkeypatch):
    """A registry entry given as a git blob id (UD files of 4 MiB and more) is checked as one."""
    key = registry.ud_key(UD_DE[0], catalog.UD_MIRROR_COMMITS[UD_DE[0]], UD_DE[1], UD_DE[2])
    data = (site / key).read_bytes()
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    reg = dict(registry.registry())
    monkeypatch.setattr(registry, "registry", lambda: {**reg, key: f"git-blob:{blob}"})
    out = fetch.fetch_ud(
        *UD_DE, raw_root=tmp_path / "ok", mirror=None, release="mirror-commits", downloads=_settings(server, site)
    )
    assert out.read_bytes() == data
    monkeypatch.setattr(registry, "registry", lambda: {**reg, key: "git-blob:" + "0" * 40})
    with pytest.raises(LangrepError, match="failed its check: git blob id " + blob):
        fetch.fetch_ud(
            *UD_DE, raw_root=tmp_path / "bad", mirror=None, release="mirror-commits", downloads=_settings(server, site)
        )
    assert _files(tmp_path / "bad") == []


def _clone(tmp_path: Path) -> Path:
    """A working copy of the workflow in a folder with no ../shared beside it."""
    wd = tmp_path / "clone" / "langrep"
    wd.mkdir(parents=True)
    for name in ("Snakefile", "config", "workflow", "profiles", "envs"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, wd / name)
    assert not (wd.parent / "shared").exists()
    return wd


def _snakemake(wd: Path, *args, timeout=300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "LANGREP_DATA_MIRROR"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return subprocess.run([SNAKEMAKE, *args], cwd=wd, env=env, capture_output=True, text=True, timeout=timeout)


def test_a_dry_run_without_a_mirror_plans_the_downloads(tmp_path):
    wd = _clone(tmp_path)
    r = _snakemake(wd, "-n", "--cores", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout + r.stderr
    assert (
        "data: verified downloads from the sources into data/raw (data.mirror: auto (../shared/data is absent)" in out
    )
    for rule in ("fetch_tatoeba", "fetch_ud", "fetch_xnli", "fetch_bucc", "fetch_mono"):
        assert f"rule {rule}:" in out, rule


@pytest.mark.slow
def test_the_default_data_stage_through_the_local_server(shared_data, site, server, tmp_path):
    """The default configuration's raw data and corpora, downloaded from the local server, equal
    those from the mirror (mono excepted: downloads stream Wikipedia, so it is not run here)."""
    wd = _clone(tmp_path)
    base = f"http://127.0.0.1:{server.server_port}"
    repacked = {
        registry.XNLI_KEY: _sha(site / registry.XNLI_KEY),
        registry.bucc_key("zh", "dev"): _sha(site / registry.bucc_key("zh", "dev")),
    }
    overlay = wd / "local.yaml"
    overlay.write_text(
        "data:\n  mirror: null\n  download:\n    base_url: "
        + base
        + "\n    sha256:\n"
        + "".join(f"      {k}: {v}\n" for k, v in repacked.items())
    )
    targets = [
        "data/corpora/tatoeba_de-en/de.parquet",
        "data/corpora/ud_test/de.parquet",
        "data/corpora/ud_train/en.parquet",
        "data/corpora/xnli_test/zh.parquet",
        "data/corpora/bucc_zh-en_dev/zh.parquet",
        "data/corpora/bucc_zh-en_dev/gold.parquet",
    ]
    r = _snakemake(
        wd, *targets, "--cores", "2", "--configfile", str(overlay), timeout=600
    )  # targets first: --configfile takes many
    assert r.returncode == 0, r.stderr[-3000:]
    raw = wd / "data" / "raw"
    placed = _files(raw)
    assert len(placed) == 2 + 2 + 30 + 3  # tatoeba de, UD de test + en train, XNLI, BUCC zh dev
    for p in placed:
        assert _sha(p) == _sha(shared_data / p.relative_to(raw)), p
