"""The snapshot of the opened store (layers.store_snapshot): the same store as the
GeoPackage's tables, used only for the very file it was made from, ignored when damaged,
and never served after `xinqu documents add/remove` or a rebuild (real CLI runs and the
real server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from test_documents_add import PUDONG_TEXT
from web_fixtures import serving

from layers import store_snapshot, stores
from layers.store import Store, open_stable, read_info
from layers.store_place import file_stamp

REPO = Path(__file__).resolve().parent.parent


def assert_same_store(got: Store, expected: Store) -> None:
    for name in ("layers", "display"):
        assert list(getattr(got, name)) == list(getattr(expected, name))
        for layer, frame in getattr(expected, name).items():
            pd.testing.assert_frame_equal(getattr(got, name)[layer], frame)
    for name in ("basemap", "basemap_display", "documents", "units", "mentions", "links",
                 "layer_meta"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name))
    assert got.build_info == expected.build_info
    assert got.stamp == expected.stamp and got.path == expected.path
    assert got._queryables == expected._queryables


def test_a_kept_snapshot_opens_as_the_same_store(home):
    path = home / "xinqu.gpkg"
    read = open_stable(path)  # no snapshot yet: the GeoPackage's tables
    assert store_snapshot.read(path, read.stamp) is None
    assert stores.keep(read)
    assert store_snapshot.path_for(path).is_file()
    assert store_snapshot.is_current(path, read.stamp)
    assert not stores.keep(read)  # the one in place is of this file: not written again
    state = store_snapshot.read(path, read.stamp)
    assert state is not None and set(state) >= {"layers", "display", "units", "build_info"}
    assert_same_store(open_stable(path), read)
    # made from another state of the file: not used
    assert store_snapshot.read(path, (read.stamp[0], read.stamp[1] + 1, read.stamp[2])) is None


def test_a_snapshot_made_by_other_code_is_not_used(home, monkeypatch):
    """The code that reads a store (geo/, layers/), the data settings and the libraries
    are part of the key: after an update, the next start reads the GeoPackage again."""
    path = home / "xinqu.gpkg"
    read = open_stable(path)
    stores.keep(read)
    assert store_snapshot.is_current(path, read.stamp)
    monkeypatch.setattr(store_snapshot, "fingerprint", lambda: "other code")
    assert not store_snapshot.is_current(path, read.stamp)
    assert store_snapshot.read(path, read.stamp) is None


@pytest.mark.parametrize("damage", ["flipped byte", "cut short", "not a snapshot", "empty"])
def test_a_damaged_snapshot_is_ignored_and_written_anew(home, damage, caplog):
    path = home / "xinqu.gpkg"
    read = open_stable(path)
    stores.keep(read)
    kept = store_snapshot.path_for(path)
    blob = bytearray(kept.read_bytes())
    if damage == "flipped byte":
        blob[-1000] ^= 0xFF
    elif damage == "cut short":
        del blob[len(blob) // 2:]
    elif damage == "not a snapshot":
        blob = bytearray(b"PK\x03\x04 something else entirely" * 10)
    else:
        blob = bytearray()
    kept.write_bytes(bytes(blob))
    assert store_snapshot.read(path, read.stamp) is None
    assert_same_store(open_stable(path), read)  # read from the GeoPackage instead
    assert stores.keep(open_stable(path))  # the damaged one is not current: replaced
    assert store_snapshot.read(path, read.stamp) is not None


def test_a_snapshot_is_not_kept_for_a_file_replaced_meanwhile(home):
    path = home / "xinqu.gpkg"
    read = open_stable(path)
    copy = home / "copy.gpkg"
    copy.write_bytes(path.read_bytes())
    os.replace(copy, path)  # a writer replaced the store after it was read
    assert not stores.keep(read)
    assert not store_snapshot.path_for(path).exists()


def xinqu(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "webapp.cli", *map(str, args)], cwd=REPO,
                          env={**os.environ, "XINQU_HOME": str(home), "CI": "true"},
                          capture_output=True, text=True, timeout=600)


def document_ids(base: str) -> set[str]:
    with urllib.request.urlopen(f"{base}/documents?f=json", timeout=30) as answer:
        body = json.load(answer)
    return {d["id"] for d in body["documents"]}


def wait_for_snapshot(path: Path, timeout: float = 120) -> None:
    """Until the server's background process has kept the snapshot of the file as it is."""
    deadline = time.monotonic() + timeout
    while not store_snapshot.is_current(path, file_stamp(path)):
        assert time.monotonic() < deadline, "no snapshot of the store was kept"
        time.sleep(0.2)


def test_the_server_never_answers_from_a_snapshot_of_another_state(home, tmp_path):
    """`xinqu serve` keeps a snapshot; `xinqu documents add` and `remove` replace the store,
    and the next start answers from the new file, not from the snapshot of the old one."""
    path = home / "xinqu.gpkg"
    env = {**os.environ, "XINQU_HOME": str(home)}
    with serving(env, tmp_path / "first.log") as base:
        shipped = document_ids(base)
        wait_for_snapshot(path)
    assert "plan-a" not in shipped
    source = tmp_path / "措施.txt"
    source.write_text(PUDONG_TEXT, encoding="utf-8")
    added = xinqu(home, "documents", "add", source, "--id", "plan-a")
    assert added.returncode == 0, added.stderr
    assert not store_snapshot.is_current(path, file_stamp(path))  # of the store before
    with serving(env, tmp_path / "added.log") as base:
        assert document_ids(base) == shipped | {"plan-a"}
        wait_for_snapshot(path)
    removed = xinqu(home, "documents", "remove", "plan-a")
    assert removed.returncode == 0, removed.stderr
    with serving(env, tmp_path / "removed.log") as base:
        assert document_ids(base) == shipped


def test_a_rebuild_is_read_from_the_new_file(home, tmp_path):
    """`xinqu build` replaces the store and keeps the snapshot of the new file: the one of
    the old file is never read again."""
    path = home / "xinqu.gpkg"
    source = tmp_path / "措施.txt"
    source.write_text(PUDONG_TEXT, encoding="utf-8")
    assert xinqu(home, "documents", "add", source, "--id", "plan-a").returncode == 0
    before = open_stable(path)  # the added document's state: generation 1
    assert stores.keep(before)
    built = xinqu(home, "build")
    assert built.returncode == 0, built.stderr
    now = file_stamp(path)
    assert now != before.stamp
    # the build kept the snapshot of the file it wrote, and only that one is read
    assert store_snapshot.is_current(path, now)
    assert not store_snapshot.is_current(path, before.stamp)
    after = open_stable(path)
    assert after.build_info == read_info(path) != before.build_info
    assert after.stamp == now
