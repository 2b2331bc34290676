"""Whole-layer exports kept on disk (layers.export_cache): a repeat of `xinqu export` is a
copy of the kept file, byte-identical to a written export, made without loading the
store's libraries; a changed store, a damaged entry or a filter never gets a kept file.

Real runs of the CLI in a temporary instance folder (XINQU_HOME) holding a copy of the
built store; in-process exports are written from a store opened without a stamp, which
is never cached.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_documents_add import PUDONG_TEXT

from layers import export, export_cache
from layers.store import Store, open_stable

REPO = Path(__file__).resolve().parent.parent
# What a kept export must be copied without (what the written one needs: ~0.5 s of imports).
HEAVY = ("pandas", "geopandas", "numpy", "shapely", "pyproj", "pyogrio", "flask", "werkzeug")


def xinqu(home: Path, *args: str, code: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "XINQU_HOME": str(home), "CI": "true"}
    command = ["-c", code] if code else ["-m", "webapp.cli", *map(str, args)]
    return subprocess.run([sys.executable, *command], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def export_alone(home: Path, layer: str, out: Path) -> tuple[list[str], list[str]]:
    """`xinqu export --layer LAYER --format gpkg --out OUT` in a process of its own: its
    output lines, and the heavy modules it loaded (none when it copied a kept export)."""
    probe = ("import sys\nfrom webapp.cli import main\n"
             f"assert main(['export', '--layer', {layer!r}, '--format', 'gpkg', '--out', "
             f"{str(out)!r}]) == 0\n"
             f"print('LOADED:', *(m for m in {HEAVY!r} if m in sys.modules))")
    run = xinqu(home, code=probe)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    return lines, lines[-1].split()[1:]


def data_with_setting(data_dir: Path, tmp_path: Path, setting: str, value: str) -> Path:
    """A copy of the data folder (for XINQU_DATA, its files linked) whose
    data/export.yaml has `setting: value`."""
    data = tmp_path / "data"
    data.mkdir()
    for path in data_dir.iterdir():
        if path.name != "export.yaml":
            (data / path.name).symlink_to(path)
    settings = (data_dir / "export.yaml").read_text(encoding="utf-8")
    assert f"\n{setting}: " in settings
    (data / "export.yaml").write_text(
        re.sub(rf"\n{setting}: .*\n", f"\n{setting}: {value}\n", settings), encoding="utf-8")
    return data


def entries(home: Path) -> list[Path]:
    folder = home / "cache" / "exports"
    return sorted(folder.glob(f"*{export_cache.SUFFIX}")) if folder.is_dir() else []


def written(store_path: Path, layer: str, format: str, **options) -> bytes:
    """The export written in this process (a store opened without a stamp: never cached)."""
    store = Store.open(store_path)
    assert export_cache.loaded_id(store) is None
    return export.export_bytes(store, export.make_request(store, layer, format, **options))[1]


def test_a_repeat_is_the_same_bytes_copied_without_the_heavy_libraries(home, tmp_path):
    first, second = tmp_path / "first.gpkg", tmp_path / "second.gpkg"
    run = xinqu(home, "export", "--layer", "new-areas", "--format", "gpkg", "--out", first)
    assert run.returncode == 0, run.stderr
    assert len(entries(home)) == 1
    lines, loaded = export_alone(home, "new-areas", second)
    assert lines[0] == f"wrote {second} (EPSG:4326; features: new-areas 19)"
    assert loaded == []  # none of them
    assert second.read_bytes() == first.read_bytes()
    assert first.read_bytes() == written(home / "xinqu.gpkg", "new-areas", "gpkg")


def test_every_format_and_a_crs_come_back_as_written(home, tmp_path):
    cases = [("ports", "kml", ()), ("sites", "csv", ("--crs", "EPSG:4548")),
             ("corridors", "shp.zip", ("--crs", "EPSG:4490")), ("ports", "geojson", ())]
    for layer, format, extra in cases:
        outs = [tmp_path / f"{layer}-{n}.{format}" for n in (1, 2)]
        runs = [xinqu(home, "export", "--layer", layer, "--format", format, *extra,
                      "--out", out) for out in outs]
        assert [r.returncode for r in runs] == [0, 0], runs[0].stderr + runs[1].stderr
        assert runs[0].stdout.replace(str(outs[0]), "") == runs[1].stdout.replace(str(outs[1]),
                                                                                  "")
        assert runs[0].stderr == runs[1].stderr  # the notes (KML: WGS 84 only), if any
        crs = dict([extra]) if extra else {}
        assert outs[0].read_bytes() == outs[1].read_bytes() == written(
            home / "xinqu.gpkg", layer, format, crs=crs.get("--crs"))
    assert len(entries(home)) == len(cases)


def test_a_changed_store_is_never_answered_from_before(home, tmp_path):
    before, after = tmp_path / "before.gpkg", tmp_path / "after.gpkg"
    for out in (before, tmp_path / "again.gpkg"):  # kept, then served from the cache
        assert xinqu(home, "export", "--layer", "new-areas", "--format", "gpkg",
                     "--out", out).returncode == 0
    source = tmp_path / "措施.txt"
    source.write_text(PUDONG_TEXT, encoding="utf-8")
    added = xinqu(home, "documents", "add", source, "--id", "plan-a")
    assert added.returncode == 0, added.stderr
    run = xinqu(home, "export", "--layer", "new-areas", "--format", "gpkg", "--out", after)
    assert run.returncode == 0, run.stderr
    assert after.read_bytes() != before.read_bytes()  # plan-a names Pudong and Liangjiang
    assert after.read_bytes() == written(home / "xinqu.gpkg", "new-areas", "gpkg")
    # the one of the first state, and those `documents add` made ahead for the new one
    # (layers.export_ahead), the export among them
    assert len(entries(home)) == 1 + 8


def test_a_damaged_entry_is_not_served(home, tmp_path):
    good = tmp_path / "good.geojson"
    assert xinqu(home, "export", "--layer", "ports", "--format", "geojson",
                 "--out", good).returncode == 0
    (entry,) = entries(home)
    whole = entry.read_bytes()
    damages = {"truncated": whole[:len(whole) // 2],
               "a changed byte": whole[:-10] + bytes([whole[-10] ^ 1]) + whole[-9:],
               "no header": whole[whole.index(b"\n") + 1:], "empty": b""}
    for damage, content in damages.items():
        entry.write_bytes(content)
        out = tmp_path / f"{damage}.geojson"
        run = xinqu(home, "export", "--layer", "ports", "--format", "geojson", "--out", out)
        assert run.returncode == 0, run.stderr
        assert out.read_bytes() == good.read_bytes(), damage
        assert entry.read_bytes() == whole, damage  # written again, whole


def test_filters_go_the_written_way_and_are_not_kept(home, tmp_path):
    out = tmp_path / "filtered.gpkg"
    run = xinqu(home, "export", "--layer", "new-areas", "--format", "gpkg", "--document",
                "ndrc-2024", "--out", out)
    assert run.returncode == 0, run.stderr
    assert entries(home) == []
    assert out.read_bytes() == written(home / "xinqu.gpkg", "new-areas", "gpkg",
                                       document="ndrc-2024")


def test_bad_output_and_bad_requests_still_fail_in_one_line(home, tmp_path):
    assert xinqu(home, "export", "--layer", "ports", "--format", "gpkg",
                 "--out", tmp_path / "p.gpkg").returncode == 0  # now kept
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    for args, said in [
            (("--layer", "ports", "--format", "gpkg", "--out", not_a_folder / "x.gpkg"),
             "--out: no directory"),
            (("--layer", "nowhere", "--format", "gpkg", "--out", tmp_path / "n.gpkg"),
             "nowhere"),
            (("--layer", "ports", "--format", "xlsx", "--out", tmp_path / "n.xlsx"), "xlsx")]:
        run = xinqu(home, "export", *args)
        assert run.returncode == 2 and said in run.stderr, run.stderr
        assert len(run.stderr.strip().splitlines()) == 1 and run.stdout == ""
    run = xinqu(home, "export", "--layer", "ports", "--format", "gpkg", "--out", tmp_path)
    assert run.returncode == 0, run.stderr  # into a folder: the export's own file name
    assert (tmp_path / "xinqu_ports_EPSG-4326.gpkg").read_bytes() == (
        tmp_path / "p.gpkg").read_bytes()


def test_the_server_answers_from_what_the_cli_kept(home, tmp_path):
    """The in-process app over a store opened as the service opens it (with its stamp): the
    entry the CLI kept (here in the tests' instance folder) is read, not written again."""
    from webapp import create_app

    out = tmp_path / "ports.geojson"
    run = subprocess.run([sys.executable, "-m", "webapp.cli", "export", "--store",
                          str(home / "xinqu.gpkg"), "--layer", "ports", "--format", "geojson",
                          "--out", str(out)], cwd=REPO, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "CI": "true"})
    assert run.returncode == 0, run.stderr
    store = open_stable(home / "xinqu.gpkg")
    name = export.cache_name(store, export.make_request(store, "ports", "geojson"))
    entry = export_cache.folder() / f"{name}{export_cache.SUFFIX}"
    os.utime(entry, (1_000_000_000, 1_000_000_000))
    inode = entry.stat().st_ino
    response = create_app({"STORE": store, "TESTING": True}).test_client().get(
        "/export/ports.geojson")
    assert response.status_code == 200
    assert response.data == out.read_bytes()
    assert response.headers["X-Export-Counts"] == "ports=6"
    assert entry.stat().st_ino == inode  # read, not replaced
    assert entry.stat().st_mtime > time.time() - 600  # and marked as used


def test_cli_exports_keep_the_cache_within_its_bytes(home, tmp_path, data_dir):
    """`cache_mb` of a copy of the data folder (XINQU_DATA) holds two small layers, not
    three: the least recently used go, and what is left is still served."""
    limit = 0.3  # MB: sites and corridors (about 150 and 140 kB), not with a third
    data = data_with_setting(data_dir, tmp_path, "cache_mb", str(limit))

    def run(layer: str) -> Path:
        out = tmp_path / f"{layer}.gpkg"
        done = subprocess.run(
            [sys.executable, "-m", "webapp.cli", "export", "--layer", layer, "--format",
             "gpkg", "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=300,
            env={**os.environ, "XINQU_HOME": str(home), "XINQU_DATA": str(data), "CI": "true"})
        assert done.returncode == 0, done.stderr
        return out

    def kept() -> dict[str, int]:
        """The file name of each kept export, with the inode of its entry."""
        found = {export_cache.get(p.stem, p.parent).filename.split("_")[1]: p.stat().st_ino
                 for p in entries(home)}
        assert sum(p.stat().st_size for p in entries(home)) <= limit * 1024 * 1024
        return found

    first = {layer: run(layer).read_bytes()
             for layer in ("ports", "science-cities", "corridors", "sites")}
    before = kept()  # (reading them marks both used)
    assert sorted(before) == ["corridors", "sites"]
    assert run("sites").read_bytes() == first["sites"]  # kept: copied, marked used
    assert run("ports").read_bytes() == first["ports"]  # gone: written, kept again
    after = kept()
    assert sorted(after) == ["ports", "sites"]  # corridors, least recently used, went
    assert after["sites"] == before["sites"]  # read, never rewritten


def test_the_cache_is_bounded_in_bytes_least_recently_used_out(tmp_path):
    def entry(n: int) -> export_cache.Entry:
        return export_cache.Entry(filename=f"f{n}.gpkg", media_type="application/x",
                                  crs_code="EPSG:4326", counts={"ports": n}, notes=(),
                                  body=bytes([n]) * 1000)

    limit = 2500  # two entries and their headers, not three
    for n in (1, 2):
        assert export_cache.put(f"k{n}", entry(n), limit, tmp_path)
    past = time.time() - 100
    os.utime(tmp_path / f"k1{export_cache.SUFFIX}", (past, past))
    os.utime(tmp_path / f"k2{export_cache.SUFFIX}", (past - 50, past - 50))
    assert export_cache.get("k2", tmp_path) == entry(2)  # k2 is now the more recently used
    assert export_cache.put("k3", entry(3), limit, tmp_path)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [f"k2{export_cache.SUFFIX}", f"k3{export_cache.SUFFIX}"]
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) <= limit
    assert not export_cache.put("big", export_cache.Entry(
        "big.gpkg", "application/x", "EPSG:4326", {}, (), b"x" * (limit + 1)), limit, tmp_path)
    assert export_cache.get("big", tmp_path) is None
    assert export_cache.get("k1", tmp_path) is None


def test_the_key_follows_the_store_the_commands_read(home):
    """The key of the file the CLI is about to read is the key of the store opened from
    it (its stamp as open_stable records it); a store opened without a stamp has none."""
    store = open_stable(home / "xinqu.gpkg")
    assert export_cache.file_id(home / "xinqu.gpkg") == export_cache.loaded_id(store)
    assert export_cache.loaded_id(Store.open(home / "xinqu.gpkg")) is None


@pytest.mark.parametrize("change", ["settings", "code"])
def test_the_key_changes_with_the_code_and_the_settings(change, tmp_path, monkeypatch):
    from layers import paths

    before = export_cache.fingerprint()
    export_cache.fingerprint.cache_clear()
    try:
        if change == "settings":
            data = tmp_path / "data"
            data.mkdir()
            for path in paths.DATA_DIR.glob("*.yaml"):
                (data / path.name).write_bytes(path.read_bytes())
            (data / "export-fields.yaml").write_bytes(
                (data / "export-fields.yaml").read_bytes() + b"\n# changed\n")
            monkeypatch.setattr(paths, "DATA_DIR", data)
        else:
            monkeypatch.setattr(export_cache, "CODE_PACKAGES", ("geo",))
        assert export_cache.fingerprint() != before
    finally:
        export_cache.fingerprint.cache_clear()
