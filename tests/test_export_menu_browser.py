"""The map's export menu in headless Chromium against `xinqu serve`: every format of
data/export.yaml is offered for a chosen layer; with all layers only those that hold all
of them; the CSV geometry box only for CSV; the download is what the menu says."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from layers import export_settings

pytest_plugins = ["web_fixtures"]

FORMAT_STATE = """() => Array.from(document.querySelectorAll(
    'form[data-export-menu] select[name=format] option')).map(o => [o.value, !o.disabled])"""


@pytest.fixture()
def page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB",
                                   accept_downloads=True)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    yield page
    context.close()


def test_map_menu_offers_every_format_of_the_chosen_layer(page, live_server, store):
    formats = export_settings.settings().formats
    page.goto(f"{live_server}/?lang=en")
    page.click("details.export-dropdown > summary")
    form = page.locator("form[data-export-menu]")
    page.wait_for_function("() => document.querySelector('form[data-export-ready]')")
    assert dict(page.evaluate(FORMAT_STATE)) == {f.id: f.all_layers for f in formats.values()}
    for layer in store.layers:
        form.locator("select[name=layer]").select_option(layer)
        assert dict(page.evaluate(FORMAT_STATE)) == {f: True for f in formats}, layer
    form.locator("select[name=format]").select_option("csv")
    assert form.locator("[data-export-csv]").is_visible()
    form.locator("select[name=format]").select_option("gpkg")
    assert not form.locator("[data-export-csv]").is_visible()
    # Back to all layers with a one-layer format chosen: an all-layer format is picked.
    form.locator("select[name=layer]").select_option("sites")
    form.locator("select[name=format]").select_option("kml")
    form.locator("select[name=layer]").select_option("all")
    assert formats[form.locator("select[name=format]").input_value()].all_layers
    # The CSV a planner downloads from the menu opens with a point per place.
    form.locator("select[name=layer]").select_option("ports")
    form.locator("select[name=format]").select_option("csv")
    with page.expect_download() as info:
        form.locator("button[type=submit]").click()
    raw = Path(info.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))
    assert {"lon", "lat"} <= set(header) and "WKT" not in header
    assert page.errors == []
