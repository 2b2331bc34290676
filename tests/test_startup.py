"""Start-up stays light: the CLI parser, the export command and the app import only what
they use, and the catalogue serialised a column at a time is the one built row by row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import shapely

from webapp import geojson
from webapp.map import load_style

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "geopandas", "numpy", "shapely", "pyproj", "flask", "folium", "mapclassify",
         "scipy", "sklearn", "matplotlib", "opencc", "werkzeug", "psycopg", "psycopg_pool",
         # the CQL2 text grammar (built at import, ~0.3 s); pygeofilter's tree classes are light
         "pygeofilter.parsers.cql2_text")
PARSER = "pygeofilter.parsers.cql2_text"


def imported_after(code: str) -> set[str]:
    """The HEAVY modules a fresh interpreter has loaded after running `code`."""
    return probe_modules(code, HEAVY)[0]


def probe_modules(code: str, names: tuple[str, ...]) -> tuple[set[str], str]:
    """Which of `names` a fresh interpreter has loaded after running `code`, and what it
    printed."""
    probe = (f"import sys\n{code}\n"
             f"print('LOADED:', *(m for m in {names!r} if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("LOADED:"))
    return set(line.split()[1:]), result.stdout


def test_the_parser_of_every_command_loads_no_heavy_library():
    loaded = imported_after("from webapp.cli import parser\nparser()")
    assert loaded == set()


@pytest.mark.parametrize("command", ["export", "build", "serve", "units", "links", "documents"])
def test_help_of_a_command_prints_without_heavy_libraries(command):
    code = (f"from webapp.cli import main\ntry:\n    main([{command!r}, '--help'])\n"
            f"except SystemExit as stop:\n    assert stop.code == 0\n")
    assert imported_after(code) == set()


def test_export_help_lists_the_formats_of_the_export_settings():
    from layers import export_settings

    result = subprocess.run([sys.executable, "-m", "webapp.cli", "export", "--help"], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0
    assert "one of: " + ", ".join(export_settings.format_ids()) in " ".join(result.stdout.split())


def test_export_command_does_not_load_the_web_app(store_path, tmp_path):
    out = tmp_path / "ports.gpkg"
    code = ("from webapp.cli import main\n"
            f"assert main(['export', '--layer', 'ports', '--format', 'gpkg', '--out', "
            f"{str(out)!r}]) == 0")
    loaded = imported_after(code)
    assert out.stat().st_size > 0
    assert {"flask", "folium", "mapclassify", "matplotlib", PARSER,
            "werkzeug"}.isdisjoint(loaded)


# What a request may need but no start does: pygeofilter (a filter), GDAL's bindings and the
# writers (an export, or reading the GeoPackage itself rather than its snapshot), the
# readers of added documents and the linker (an upload).
ON_DEMAND = ("pygeofilter", "pyogrio", "layers.export", "layers.linking",
             "layers.documents.ingest", "layers.userdocs.intake", "charset_normalizer")


def test_the_app_starts_without_what_only_some_requests_need(store_path):
    code = ("from layers import stores\nfrom layers.store import open_stable\n"
            f"stores.keep(open_stable({str(store_path)!r}))\n")  # a start reads the snapshot
    prepared = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                              text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert prepared.returncode == 0, prepared.stderr
    start = "from webapp import create_app\ncreate_app()"
    assert {"mapclassify", "scipy", "matplotlib", PARSER}.isdisjoint(imported_after(start))
    loaded, _ = probe_modules(start + "\nc = create_app().test_client()\n"
                              "assert c.get('/collections?f=json').status_code == 200\n"
                              "assert c.get('/collections/ports/items?f=json').status_code == 200\n"
                              "assert c.get('/?lang=en').status_code == 200\n", ON_DEMAND)
    assert loaded == set()


def test_a_filter_an_export_and_an_upload_form_load_what_they_need_when_asked(store_path):
    start = "from webapp import create_app\nc = create_app().test_client()\n"
    filtered, _ = probe_modules(
        start + "assert c.get(\"/collections/ports/items?f=json&filter=id='x'\")"
        ".status_code == 200", ON_DEMAND)
    assert {"pygeofilter"} <= filtered and "pyogrio" not in filtered
    exported, _ = probe_modules(
        start + "assert c.get('/export/ports.geojson').status_code == 200", ON_DEMAND)
    assert {"pyogrio", "layers.export"} <= exported and "layers.linking" not in exported
    admin = ("from webapp import create_app\n"
             "c = create_app({'XINQU_ADMIN_TOKEN': 'secret'}).test_client()\n")
    form, _ = probe_modules(
        admin + "assert c.get('/documents/new').status_code == 200\n"
        "assert c.post('/documents', data={'token': 'wrong'}).status_code == 403", ON_DEMAND)
    assert form == set()  # the form and a refused upload read no document
    upload, _ = probe_modules(  # no file: a 400 from the upload's own checks
        admin + "assert c.post('/documents', data={'token': 'secret'}).status_code == 400",
        ON_DEMAND)
    assert {"layers.userdocs.intake", "layers.documents.ingest"} <= upload


def test_loading_for_the_workers_freezes_what_it_loaded_and_collects_again():
    """`xinqu serve` loads with the collector off; after, the collector is on again and
    what was loaded is frozen out of it (a collector left off would leak every cycle the
    workers' requests make)."""
    code = ("import gc\nfrom webapp.commands.serve import loading_without_gc\n"
            "frozen = gc.get_freeze_count()\n"
            "with loading_without_gc():\n"
            "    assert not gc.isenabled()\n"
            "    kept = [[i] for i in range(5000)]\n"
            "assert gc.isenabled() and gc.get_freeze_count() >= frozen + 5000\n"
            "gc.disable()\n"
            "with loading_without_gc():\n"
            "    pass\n"
            "assert not gc.isenabled()  # left as it was found\n"
            "print('ok')")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_the_first_answer_needs_no_map_library_nor_the_opencc_converter(store_path):
    """`/collections` is answered without folium (and what it brings: branca, xyzservices,
    requests) and without building OpenCC's converter; the map page then loads them."""
    maps = ("folium", "branca", "xyzservices", "requests")
    probe = ("from layers import opencc_tables\nfrom webapp import create_app\n"
             "client = create_app().test_client()\n"
             "assert client.get('/collections?f=json').status_code == 200\n"
             "print('CONVERTERS', opencc_tables.converter.cache_info().currsize)\n")
    loaded, output = probe_modules(probe, maps)
    assert loaded == set() and "CONVERTERS 0" in output
    loaded, output = probe_modules(
        probe + "page = client.get('/?lang=zh-Hant', headers={'Accept': 'text/html'})\n"
        "assert page.status_code == 200 and page.mimetype == 'text/html'\n"
        "print('CONVERTERS', opencc_tables.converter.cache_info().currsize)\n", maps)
    assert loaded == set(maps) and "CONVERTERS 1" in output.splitlines()[-2]


def test_a_service_over_a_geopackage_starts_and_answers_without_the_database_driver(
        store_path, tmp_path):
    """psycopg and its pool are for a database store only: the app made over the
    GeoPackage, warmed as `xinqu serve` does, answering and answering an error (which
    tells the database's 503 apart by its class), never imports them."""
    code = ("from webapp.app import create_app, warm\n"
            f"app = create_app({{'XINQU_COMPRESSED_DIR': {str(tmp_path)!r}}})\n"
            "warm(app)\n"
            "assert app.test_client().get('/collections?f=json').status_code == 200\n"
            "assert app.test_client().get('/places/nowhere?f=json').status_code == 404\n")
    loaded = imported_after(code)
    assert {"pandas", "flask"} <= loaded  # what the app does need is there
    assert {"psycopg", "psycopg_pool"}.isdisjoint(loaded)
    assert {"psycopg", "psycopg_pool"} <= imported_after(
        "from layers.pgstore.reader import PgStore")


def test_a_map_image_and_a_filter_load_what_they_need_when_asked(store_path):
    code = ("from webapp import create_app\napp = create_app()\nc = app.test_client()\n"
            "assert c.get('/map.png?layers=none&width=800').status_code == 200\n"
            "assert c.get(\"/collections/ports/items?f=json&filter=id='x'\").status_code == 200")
    assert {"matplotlib", PARSER} <= imported_after(code)


def web_copy(geometry, tolerance: float, factor: float):
    """The map's copy of one geometry, made on its own (the reference)."""
    if geometry is None or geometry.is_empty:
        return geometry
    if tolerance > 0:
        geometry = geojson.without_small_parts(geometry, (factor * tolerance) ** 2)
    return geojson.rounded(geometry, geojson.decimals_for(tolerance))


def test_the_catalogue_is_the_one_built_row_by_row(store):
    """Every feature, full and display, equals the feature made from its row on its own."""
    tolerances = {str(k): float(v or 0) for k, v in
                  store.layer_meta["display_tolerance_deg"].items()}
    factor = float(load_style().get("web", {}).get("min_part_factor", 0))
    checked = 0
    for layer, frame in store.layers.items():
        tolerance = tolerances.get(layer, 0.0)
        web = geojson.WebCopy(tolerance, factor)
        built = geojson.layer_features(store, layer, web)
        # both sets of texts are made when first asked for, not on the way to a first answer
        assert not built.full_texts.made and not built.display_texts.made
        linked = geojson.query.units_of_places(store, frame.index)
        assert list(built.full) == [str(i) for i in frame.index]
        for id, row in frame.iterrows():
            id = str(id)
            properties = geojson.place_properties(layer, id, row, linked.get(id, []))
            full = json.loads(built.full[id])
            assert full["properties"] == properties
            assert full["geometry"] == json.loads(shapely.to_geojson(row.geometry))
            shown = row.geometry
            if id in store.display[layer].index:
                shown = store.display[layer].geometry.loc[id]
            display = json.loads(built.display[id])
            expected = web_copy(shown, tolerance, factor)
            assert display["geometry"] == json.loads(shapely.to_geojson(expected))
            assert display["properties"] == {k: properties[k] for k in
                                             geojson.DISPLAY_PROPERTIES if k in properties}
            checked += 1
    assert checked == sum(len(frame) for frame in store.layers.values())
