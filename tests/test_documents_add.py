"""Adding documents without a rebuild: `xinqu documents add|list|show|remove` on a copy of
the real built store in a temporary instance folder (XINQU_HOME), never the repository's.

The documents are written for the tests, numbered the way the parser reads them.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from layers.build import build, documents_and_units
from layers.paths import DATA_DIR, SOURCES_DIR
from layers.store import Store

REPO = Path(__file__).resolve().parent.parent

PUDONG_TEXT = """关于支持浦东新区和两江新区开放发展的若干措施

为推动国家级新区高质量发展，制定本措施。

一、总体要求

（一）支持浦东新区建设国际航运中心。发挥上海港的枢纽作用，扩大高水平开放。

（二）支持两江新区扩大开放。建设内陆开放高地，完善物流通道体系。

二、保障措施

（一）加强组织领导。各地区各部门要抓好落实，确保各项措施落地见效。
"""

BINHAI_TEXT = PUDONG_TEXT.replace("浦东新区", "滨海新区").replace("上海港", "天津港")


def sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def xinqu(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XINQU_HOME": str(home), "CI": "true"}
    return subprocess.run([sys.executable, "-m", "webapp.cli", *map(str, args)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=180)


def state(home: Path) -> tuple:
    return sha256(home / "xinqu.gpkg"), sha256(home / "documents.yaml")


def seed_rows(store: Store) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The rows of the shipped documents, in a comparable order."""
    shipped = store.units[~store.units.index.str.startswith("plan-")]
    links = store.links[store.links["unit_id"].isin(shipped.index)]
    mentions = store.mentions[store.mentions["unit_id"].isin(shipped.index)]
    return (shipped.sort_index(),
            links.sort_values(list(links.columns)).reset_index(drop=True),
            mentions.sort_values(list(mentions.columns)).reset_index(drop=True))


def test_add_parses_links_and_saves_atomically(home, tmp_path):
    source = write(tmp_path, "措施.txt", PUDONG_TEXT)
    before = Store.open(home / "xinqu.gpkg")
    done = xinqu(home, "documents", "add", source, "--id", "plan-a", "--date", "2024-05-01",
                 "--publisher", "某部门", "--number", "某发〔2024〕1号")
    assert done.returncode == 0, done.stderr
    assert "added plan-a from 措施.txt" in done.stdout
    unit_line = next(line for line in done.stdout.splitlines() if line.startswith("plan-a:1.1 "))
    assert "pudong" in unit_line and "port-shanghai" in unit_line

    after = Store.open(home / "xinqu.gpkg")
    ids = list(after.units.index[after.units["document"] == "plan-a"])
    assert ids == ["plan-a:preamble", "plan-a:1.1", "plan-a:1.2", "plan-a:2.1"]
    links = after.links[after.links["unit_id"] == "plan-a:1.1"]
    assert set(links.loc[links["relation"] == "named", "place_id"]) == {"pudong",
                                                                       "port-shanghai"}
    assert "liangjiang" in set(after.links.loc[after.links["unit_id"] == "plan-a:1.2",
                                               "place_id"])
    row = after.documents.loc["plan-a"]
    assert (row["origin"], row["number"], row["date"]) == ("added", "某发〔2024〕1号",
                                                           "2024-05-01")
    assert int(after.build_info["generation"]) == int(before.build_info["generation"]) + 1
    assert after.build_info["build_id"] == before.build_info["build_id"]
    # the shipped documents' 63 units, their links and mentions: untouched
    assert len(before.units) == 63
    for old, new in zip(seed_rows(before), seed_rows(after), strict=True):
        pd.testing.assert_frame_equal(old, new)
    # the original byte for byte, and the registry entry
    assert (home / "documents" / "plan-a" / "措施.txt").read_bytes() == source.read_bytes()
    entries = yaml.safe_load((home / "documents.yaml").read_text(encoding="utf-8"))
    assert [(e["id"], e["file"], e["sha256"]) for e in entries] == [
        ("plan-a", "措施.txt", sha256(source))]
    assert sorted(p.name for p in home.iterdir() if p.name != ".lock") == [
        "cache", "documents", "documents.yaml", "xinqu.gpkg"]  # no temporary file left
    # (cache/exports: the exports made ahead for the new store, test_export_ahead.py)


def test_dry_run_shows_the_units_and_saves_nothing(home, tmp_path):
    source = write(tmp_path, "a.txt", PUDONG_TEXT)
    before = state(home)
    done = xinqu(home, "documents", "add", source, "--id", "plan-a", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "would add plan-a" in done.stdout and "nothing saved" in done.stdout
    assert "pudong" in done.stdout
    assert state(home) == before
    assert not (home / "documents" / "plan-a").exists()


def test_list_show_links_units_and_remove(home, tmp_path):
    source = write(tmp_path, "a.txt", PUDONG_TEXT)
    assert xinqu(home, "documents", "add", source, "--id", "plan-a").returncode == 0
    listed = json.loads(xinqu(home, "documents", "list", "--format", "json").stdout)
    assert [d["id"] for d in listed][-1] == "plan-a"
    assert {d["origin"] for d in listed[:-1]} == {"shipped"}
    shown = json.loads(xinqu(home, "documents", "show", "plan-a", "--format", "json").stdout)
    assert [u["id"] for u in shown["unit_list"]][1] == "plan-a:1.1"
    assert {p["id"] for p in shown["places"]} >= {"pudong", "liangjiang", "port-shanghai"}
    links = json.loads(xinqu(home, "links", "--document", "plan-a", "--format", "json").stdout)
    assert {row["unit_id"] for row in links["links"]} == {"plan-a:1.1", "plan-a:1.2"}
    units = json.loads(xinqu(home, "units", "--document", "plan-a", "--format", "json").stdout)
    assert [u["id"] for u in units] == [u["id"] for u in shown["unit_list"]]

    seed = seed_rows(Store.open(home / "xinqu.gpkg"))
    removed = xinqu(home, "documents", "remove", "plan-a")
    assert removed.returncode == 0, removed.stderr
    after = Store.open(home / "xinqu.gpkg")
    assert "plan-a" not in after.documents.index and len(after.units) == 63
    for old, new in zip(seed, seed_rows(after), strict=True):
        pd.testing.assert_frame_equal(old, new)
    assert not (home / "documents" / "plan-a").exists()
    assert yaml.safe_load((home / "documents.yaml").read_text(encoding="utf-8")) == []
    shipped = xinqu(home, "documents", "remove", "ndrc-2024")
    assert shipped.returncode == 2 and "shipped" in shipped.stderr


def test_replace_relinks_the_document(home, tmp_path):
    first = write(tmp_path, "a.txt", PUDONG_TEXT)
    assert xinqu(home, "documents", "add", first, "--id", "plan-a").returncode == 0
    second = write(tmp_path, "b.txt", BINHAI_TEXT)
    done = xinqu(home, "documents", "add", second, "--id", "plan-a", "--replace")
    assert done.returncode == 0, done.stderr
    assert "replaced plan-a" in done.stdout
    store = Store.open(home / "xinqu.gpkg")
    places = set(store.links.loc[store.links["unit_id"] == "plan-a:1.1", "place_id"])
    assert "binhai" in places and "pudong" not in places
    assert (store.units["document"] == "plan-a").sum() == 4  # the old rows are gone
    assert sorted(p.name for p in (home / "documents" / "plan-a").iterdir()) == ["b.txt"]


def oversized(tmp_path: Path) -> Path:
    path = tmp_path / "big.txt"
    with path.open("wb") as out:
        out.truncate(20 * 1024 * 1024 + 1)
    return path


# Latin-1 bytes decode as none of UTF-8, GB18030 or Big5 plausibly: refused, not mojibake.
LATIN1_TEXT = "La zone économique de Pudong, où la côte était déjà.\n".encode("latin-1") * 5

BAD = {
    "unknown format": (lambda d: write(d, "plan.xyz", PUDONG_TEXT), [], "unknown format"),
    "empty file": (lambda d: write(d, "empty.txt", b""), [], "empty file"),
    "existing id": (lambda d: write(d, "again.txt", PUDONG_TEXT), ["--id", "plan-a"],
                    "exists"),
    "path traversal id": (lambda d: write(d, "x.txt", PUDONG_TEXT), ["--id", "../x"],
                          "unsafe document id"),
    "shipped id": (lambda d: write(d, "x.txt", PUDONG_TEXT), ["--id", "ndrc-2024", "--replace"],
                   "shipped"),
    "over the size limit": (oversized, [], "over the limit"),
    "undecodable bytes": (lambda d: write(d, "latin.txt", LATIN1_TEXT), [], "not text in"),
    "binary junk": (lambda d: write(d, "junk.txt", bytes(range(256)) * 8), [], "binary"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_and_changes_nothing(home, tmp_path, case):
    existing = write(tmp_path, "a.txt", PUDONG_TEXT)
    assert xinqu(home, "documents", "add", existing, "--id", "plan-a").returncode == 0
    make, flags, problem = BAD[case]
    source = make(tmp_path)
    before = state(home), sorted(p.name for p in (home / "documents").iterdir())
    done = xinqu(home, "documents", "add", source, *flags)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert source.name in lines[0] and problem in lines[0]
    assert (state(home), sorted(p.name for p in (home / "documents").iterdir())) == before


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_index() if frame.index.name == "id" else frame.sort_values(
        list(frame.columns)).reset_index(drop=True)
    return frame.astype(object).where(frame.notna(), None)


def test_a_full_build_gives_what_the_adds_gave(home, tmp_path):
    """`xinqu build` reads the added documents back from the instance folder: the rebuilt
    store has exactly the rows the incremental adds wrote."""
    for doc_id, text in (("plan-a", PUDONG_TEXT), ("plan-b", BINHAI_TEXT)):
        source = write(tmp_path, f"{doc_id}.txt", text)
        added = xinqu(home, "documents", "add", source, "--id", doc_id, "--number", "1号")
        assert added.returncode == 0, added.stderr
    documents, _ = documents_and_units(DATA_DIR, SOURCES_DIR, home)
    assert list(documents["id"]) == ["ndrc-2024", "mofcom-2025", "xixian-2023", "plan-a",
                                     "plan-b"]
    rebuilt = Store.open(build(data_dir=DATA_DIR, store_path=tmp_path / "full.gpkg",
                               home=home).path)
    incremental = Store.open(home / "xinqu.gpkg")
    for name in ("documents", "units", "mentions", "links"):
        ours, theirs = getattr(incremental, name), getattr(rebuilt, name)
        assert set(ours.columns) == set(theirs.columns), name
        pd.testing.assert_frame_equal(_comparable(ours), _comparable(theirs[ours.columns]),
                                      check_dtype=False, obj=name)


def test_build_reads_the_registry_of_the_data_folder_it_is_given(tmp_path):
    """--data DIR (like XINQU_DATA) names the document registry too, not just the facts."""
    data = tmp_path / "data"
    data.mkdir()
    for entry in DATA_DIR.iterdir():
        if entry.name not in ("build", "documents.yaml"):
            (data / entry.name).symlink_to(entry)
    registry = yaml.safe_load((DATA_DIR / "documents.yaml").read_text(encoding="utf-8"))
    (data / "documents.yaml").write_text(yaml.safe_dump(registry[:1], allow_unicode=True),
                                         encoding="utf-8")
    documents, units = documents_and_units(data, data / "sources", None)
    assert list(documents["id"]) == [registry[0]["id"]]
    assert {u.document for u in units} == {registry[0]["id"]}
