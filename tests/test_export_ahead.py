"""Whole-layer exports made ahead when the instance's store changes (layers.export_ahead):
after `xinqu build` or `xinqu documents add/remove`, the first `xinqu export` of a whole
layer as a GeoPackage is already kept, so it is copied without loading the libraries
that write exports, and its bytes are those of an export written in this process; a
build that fails leaves the previous store's kept exports usable.

Real runs of the CLI in temporary instance folders (XINQU_HOME).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from test_build import _point_outside_district
from test_documents_add import PUDONG_TEXT
from test_export_cache import REPO, data_with_setting, entries, export_alone, written, xinqu
from web_fixtures import serving

from layers import export, export_settings
from layers.export_ahead import requests
from layers.store import open_stable


def kept_names(home: Path) -> dict[str, int]:
    """Each kept entry's name with its inode (a rewrite would change it)."""
    return {p.stem: p.stat().st_ino for p in entries(home)}


def ahead_names(store_path: Path) -> set[str]:
    """The cache names of the exports made ahead for the store file as it is now."""
    store = open_stable(store_path)
    return {export.cache_name(store, request) for request in requests(store)}


def first_export(home: Path, layer: str, out: Path) -> list[str]:
    """`xinqu export --layer LAYER --format gpkg` in a process of its own; the heavy
    modules it loaded (none when the export was copied from the cache)."""
    lines, loaded = export_alone(home, layer, out)
    assert lines[0].startswith(f"wrote {out} (EPSG:4326; features: ")
    return loaded


@pytest.fixture(scope="module")
def built_home(tmp_path_factory, store_path) -> Path:
    """An instance folder whose store `xinqu build` wrote (and whose exports it kept)."""
    home = tmp_path_factory.mktemp("built") / "home"
    home.mkdir()
    run = xinqu(home, "build")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"built {home / 'xinqu.gpkg'} in ")
    assert lines[1].startswith("made 8 whole-layer exports ahead (")  # 7 layers and all
    return home


def test_the_first_export_after_a_build_is_a_copy_of_what_the_build_kept(built_home,
                                                                          tmp_path):
    store_file = built_home / "xinqu.gpkg"
    before = kept_names(built_home)
    names = ahead_names(store_file)
    assert len(names) == 8 and set(before) == names  # each layer and all, nothing else
    for layer in ("partners", "new-areas", export_settings.ALL):
        out = tmp_path / f"{layer}.gpkg"
        assert first_export(built_home, layer, out) == []  # none of the heavy modules
        assert out.read_bytes() == written(store_file, layer, "gpkg")
    assert kept_names(built_home) == before  # read, not written again


def test_a_failed_build_leaves_the_kept_exports_usable(built_home, tmp_path, data_dir):
    store_file = built_home / "xinqu.gpkg"
    stamp = store_file.stat()
    before = kept_names(built_home)
    data = tmp_path / "data"
    shutil.copytree(data_dir, data, ignore=shutil.ignore_patterns("build"))
    _point_outside_district(data)
    run = xinqu(built_home, "build", "--data", data)
    assert run.returncode == 1 and "xian-xianyang-airport" in run.stderr, run.stderr
    assert run.stdout == ""  # nothing made ahead
    assert (store_file.stat().st_ino, store_file.stat().st_mtime_ns) == (
        stamp.st_ino, stamp.st_mtime_ns)
    assert kept_names(built_home) == before
    out = tmp_path / "sites.gpkg"
    assert first_export(built_home, "sites", out) == []
    assert out.read_bytes() == written(store_file, "sites", "gpkg")


def test_documents_add_and_remove_keep_the_exports_of_the_new_store(home, tmp_path):
    store_file = home / "xinqu.gpkg"
    original = written(store_file, "new-areas", "gpkg")
    assert entries(home) == []  # a copied store: nothing made ahead for it
    source = tmp_path / "措施.txt"
    source.write_text(PUDONG_TEXT, encoding="utf-8")
    added = xinqu(home, "documents", "add", source, "--id", "plan-a")
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines()[-1].startswith("made 8 whole-layer exports ahead (")
    names = ahead_names(store_file)
    assert set(kept_names(home)) == names  # for the store as `add` left it
    out = tmp_path / "after-add.gpkg"
    assert first_export(home, "new-areas", out) == []
    assert out.read_bytes() == written(store_file, "new-areas", "gpkg")
    assert out.read_bytes() != original  # plan-a names Pudong and Liangjiang

    removed = xinqu(home, "documents", "remove", "plan-a")
    assert removed.returncode == 0, removed.stderr
    assert "made 8 whole-layer exports ahead (" in removed.stdout
    again = ahead_names(store_file)
    assert again.isdisjoint(names) and again <= set(kept_names(home))
    out = tmp_path / "after-remove.gpkg"
    assert first_export(home, "all", out) == []
    assert out.read_bytes() == written(store_file, export_settings.ALL, "gpkg")


def test_a_dry_run_makes_nothing_ahead(home, tmp_path):
    """A dry run saves nothing, so the cache is left as it was."""
    source = tmp_path / "措施.txt"
    source.write_text(PUDONG_TEXT, encoding="utf-8")
    dry = xinqu(home, "documents", "add", source, "--id", "plan-a", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "ahead" not in dry.stdout and entries(home) == []


def add_with_settings(home: Path, tmp_path: Path, data_dir: Path,
                      setting: str, value: str) -> subprocess.CompletedProcess:
    """`xinqu documents add` with a copy of the data folder (XINQU_DATA) whose
    data/export.yaml has `setting: value`."""
    data = data_with_setting(data_dir, tmp_path, setting, value)
    source = tmp_path / "措施.txt"
    source.write_text(PUDONG_TEXT, encoding="utf-8")
    env = {**os.environ, "XINQU_HOME": str(home), "XINQU_DATA": str(data), "CI": "true"}
    return subprocess.run([sys.executable, "-m", "webapp.cli", "documents", "add",
                           str(source), "--id", "plan-a"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_what_is_made_ahead_stays_within_the_cache_bytes(home, tmp_path, data_dir):
    """`cache_mb` that holds a few small layers, not the eight exports: the command says
    how many were kept, and the folder stays within its bytes."""
    limit = 0.3  # MB: two or three small layers (100-150 kB each), not partners (8 MB)
    added = add_with_settings(home, tmp_path, data_dir, "cache_mb", str(limit))
    assert added.returncode == 0, added.stderr
    kept = entries(home)
    assert 0 < len(kept) < 8
    assert sum(p.stat().st_size for p in kept) <= limit * 1024 * 1024
    assert added.stdout.splitlines()[-1].startswith("made 8 whole-layer exports ahead (")
    assert added.stdout.splitlines()[-1].endswith(
        f", {len(kept)} of them kept (cache_mb in data/export.yaml holds no more)")


def test_exports_that_cannot_be_made_ahead_do_not_fail_the_change(home, tmp_path, data_dir):
    """A format in `made_ahead` that does not exist: the document is added all the same
    (the store is in place), and a note on stderr says why nothing was made ahead."""
    added = add_with_settings(home, tmp_path, data_dir, "made_ahead", "[xlsx]")
    assert added.returncode == 0, added.stderr
    assert "added plan-a from 措施.txt" in added.stdout and "ahead" not in added.stdout
    assert added.stderr.strip().splitlines() == [
        "note: whole-layer exports not made ahead: format: no export format 'xlsx'"]
    assert entries(home) == []
    assert "plan-a" in open_stable(home / "xinqu.gpkg").documents.index


def test_the_server_answers_from_what_the_build_made_ahead(built_home, tmp_path):
    """The real server (`xinqu serve`, gunicorn) on the built instance: its first
    /export/<layer>.gpkg is the kept file, read (not written again), the same bytes as the
    CLI's copy."""
    before = kept_names(built_home)
    env = {**os.environ, "XINQU_HOME": str(built_home), "CI": "true"}
    out = tmp_path / "corridors.gpkg"
    assert first_export(built_home, "corridors", out) == []
    with serving(env, tmp_path / "serve.log") as base:
        response = urllib.request.urlopen(f"{base}/export/corridors.gpkg", timeout=120)
        with response:
            assert response.status == 200
            assert response.headers["X-Export-Counts"] == "corridors=9"
            body = response.read()
    assert body == out.read_bytes()
    assert kept_names(built_home) == before  # every entry read, none written again
