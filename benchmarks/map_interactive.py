"""When the map becomes interactive in a real browser: xinqu's map page beside a plain
folium map of the same layers.

- xinqu: `xinqu serve` (the real gunicorn server, as `make run` starts it), `/?lang=en`.
  The page carries no geometry: map.js fetches the basemap and the seven layers' display
  GeoJSON from the API and draws them.
- folium: a plain folium 0.20 map written by this script with the same layers: the very
  display GeoJSON xinqu serves (`/basemap` and each layer's `display=1` items, fetched from
  the running server, so both draw the same geometry), embedded in the page as folium
  does, one `folium.GeoJson` per layer with the layer's colours from data/map_style.yaml,
  name tooltips, awesome-markers for the point layers and a layer control. folium's
  default assets point at the same vendored copies xinqu serves (its glyphicons and
  rotated-icon stylesheets, of which there is no copy, are left out). It is served as
  static files by Python's http.server on loopback (no compression, as a folder served
  by hand would be).

Time to interactive, per page load, in milliseconds from navigation start (the page's
`performance.now()`): the first animation frame at which the document's `load` event has
fired and every layer is drawn: for xinqu, no layer fetch is pending and each of the
eight layers holds its features (`xinqu.loading === 0`); for folium, whose layers are
built by its inline script before `load`, the overlay pane has its paths and the marker
pane its markers. Also printed: the `load` event (loadEventEnd) and how many SVG paths
and markers were drawn (the same layers give about the same numbers). Each load runs in
a fresh browser context (empty cache: a first visit), the two pages taken in turn;
medians of --runs. Headless Chromium (Debian's /usr/bin/chromium) through Playwright, as
the browser tests run it, at 1400x900.

Run: .venv/bin/python benchmarks/map_interactive.py [--runs 7]
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import statistics
import sys
import tempfile
import threading
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import folium

from layers.paths import STORE_PATH
from layers.progress import step
from webapp.map import LOCAL_ASSETS, load_style

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # benchmarks/peers.py: how xinqu serve is started and stopped

STATIC = Path(__file__).resolve().parent.parent / "webapp" / "static"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 900}
LAYER_COUNT = 8  # the basemap and the seven layers

# Evaluated by Chromium on every animation frame until it returns the time (truthy).
XINQU_READY = f"""() => document.readyState === 'complete' && window.xinqu
    && xinqu.loading === 0 && Object.keys(xinqu.layers).length === {LAYER_COUNT}
    && Object.values(xinqu.layers).every(l => l.getLayers().length > 0)
    && performance.now()"""
FOLIUM_READY = """() => document.readyState === 'complete'
    && document.querySelector('.leaflet-overlay-pane path')
    && document.querySelector('.leaflet-marker-pane > *')
    && performance.now()"""
FIGURES = """() => ({
    load: performance.getEntriesByType('navigation')[0].loadEventEnd,
    paths: document.querySelectorAll('.leaflet-overlay-pane path').length,
    markers: document.querySelectorAll('.leaflet-marker-pane > *').length})"""


def fetch_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as answer:
        return json.load(answer)


def shape_style(spec: dict) -> dict:
    """Leaflet path options of a layer or basemap kind (data/map_style.yaml)."""
    kind = spec.get("kind")
    style = {"color": spec.get("color"), "weight": spec.get("weight", 1), "opacity": 0.9}
    if kind in ("area", "region"):
        style.update(fillColor=spec["color"], fillOpacity=spec.get("fill_opacity", 0.2))
    elif kind in ("outline", "line") or spec.get("fill") is False:
        style["fill"] = False
    else:  # a basemap kind
        style.update(fillColor=spec.get("fill_color", spec.get("color")),
                     fillOpacity=spec.get("fill_opacity", 0.2))
    if spec.get("dash"):
        style["dashArray"] = spec["dash"]
    return style


def _fixed(style: dict, feature: dict) -> dict:
    return style


def _basemap_style(kinds: dict, feature: dict) -> dict:
    return shape_style(kinds.get(feature["properties"].get("kind"), {}))


def folium_page(base: str, folder: Path) -> Path:
    """A plain folium map of the layers xinqu's map page shows, written into folder."""
    style = load_style()
    page = urllib.request.urlopen(f"{base}/?lang=en&f=html", timeout=60).read().decode()
    urls = [u.replace("\\u0026", "&") for u in re.findall(r'"(/collections/[^"]+)"', page)]
    m = folium.Map(location=[35.5, 104.5], zoom_start=4, tiles=None, control_scale=True)
    m.default_js = [(name, f"/static/{LOCAL_ASSETS[name]}") for name, _ in m.default_js]
    m.default_css = [(name, f"/static/{LOCAL_ASSETS[name]}") for name, _ in m.default_css
                     if name in LOCAL_ASSETS]
    folium.GeoJson(fetch_json(f"{base}/basemap"), name="basemap", overlay=False,
                   style_function=functools.partial(_basemap_style, style["basemap"]["kinds"])
                   ).add_to(m)
    for url in urls:
        layer = url.split("/")[2]
        spec = style["layers"][layer]
        options: dict = {"name": layer, "tooltip": folium.GeoJsonTooltip(fields=["name_en"])}
        if spec["kind"] == "marker":
            options["marker"] = folium.Marker(icon=folium.Icon(
                icon=spec["icon"], color=spec["marker_color"], prefix="fa"))
        else:
            options["style_function"] = functools.partial(_fixed, shape_style(spec))
        folium.GeoJson(fetch_json(base + url), **options).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    path = folder / "folium.html"
    m.save(str(path))
    (folder / "static").symlink_to(STATIC)
    return path


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def static_server(folder: Path) -> ThreadingHTTPServer:
    """Python's http.server over folder on a free loopback port, in a thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def load_once(browser, url: str, ready: str) -> dict:
    """One first visit: time to interactive, the load event and what was drawn."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url, wait_until="commit")
        interactive = page.wait_for_function(ready, polling="raf", timeout=120_000).json_value()
        figures = page.evaluate(FIGURES)
        if errors:
            raise RuntimeError(f"{url}: {errors[:3]}")
        return {"interactive": float(interactive), **figures}
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="page loads of each map")
    args = parser.parse_args(argv)
    if not STORE_PATH.exists():
        print(f"no built store at {STORE_PATH}: run `xinqu build` first", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright  # the benchmark's browser driver

    xinqu = peers.xinqu_server(2)
    with peers.running(xinqu), tempfile.TemporaryDirectory() as folder, \
            sync_playwright() as playwright:
        step("starting xinqu serve")
        peers.start(xinqu)
        step("writing the plain folium map")
        folium_path = folium_page(xinqu.base, Path(folder))
        server = static_server(Path(folder))
        pages = {"xinqu": (f"{xinqu.base}/?lang=en", XINQU_READY),
                 "folium": (f"http://127.0.0.1:{server.server_port}/{folium_path.name}",
                            FOLIUM_READY)}
        sizes = {name: len(urllib.request.urlopen(urllib.request.Request(
            url, headers={"Accept": "text/html"}), timeout=60).read())
            for name, (url, _) in pages.items()}  # the HTML alone, uncompressed
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for url, ready in pages.values():  # once each, not counted
                load_once(browser, url, ready)
            results: dict[str, list[dict]] = {name: [] for name in pages}
            for run in range(args.runs):
                for name, (url, ready) in pages.items():
                    step(f"run {run + 1}/{args.runs}: {name}")
                    results[name].append(load_once(browser, url, ready))
        finally:
            browser.close()
            server.shutdown()
    print(f"map page in headless Chromium {VIEWPORT['width']}x{VIEWPORT['height']}, first "
          f"visits (fresh context), median of {args.runs}:")
    medians = {}
    for name, runs in results.items():
        medians[name] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        m = medians[name]
        each = ", ".join(f"{r['interactive']:.0f}" for r in runs)
        print(f"  {name:<7} interactive {m['interactive']:7.0f} ms   load event "
              f"{m['load']:7.0f} ms   page {sizes[name] / 1e3:7.0f} kB   drawn: "
              f"{m['paths']:.0f} paths, {m['markers']:.0f} markers   (all runs: "
              f"{each})")
    ratio = medians["xinqu"]["interactive"] / medians["folium"]["interactive"]
    print(f"xinqu's map is interactive at {ratio:.2f}× the plain folium map's time "
          f"(aim ≤ 1×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
