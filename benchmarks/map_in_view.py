"""The map with a layer bigger than one request: `sites` grown to N points (default
100,000, the figure of issue 14), served by `xinqu serve`, read by headless Chromium.

The real built store is the template; only `sites` grows (copy k of each site moved to a
random spot within China, as benchmarks/synthetic_corpus.py moves its copies). Prints,
at the national view and after zooming into a city and panning: seconds from the move to
the layer settled (request, parse, draw), the features drawn, the notice, and the bytes
the sites requests transferred (compressed, as the browser got them).

    python benchmarks/map_in_view.py [--sites 100000] [--page 10000]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from synthetic_corpus import SEED, _layer_meta, _models, _place_copies

from layers.paths import STORE_PATH
from layers.store import Store, write_store

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from web_fixtures import CHROMIUM, CHROMIUM_ARGS, serving  # noqa: E402

LAYER = "sites"
SETTLED = f"""() => window.xinqu && xinqu.loading === 0 && xinqu.layers['{LAYER}']
    && xinqu.layers['{LAYER}'].getLayers().length > 0"""
STATE = f"""() => {{
    const notice = document.querySelector('.xinqu-partial');
    return {{drawn: xinqu.layers['{LAYER}'].getLayers().length,
             notice: notice && !notice.hidden ? notice.textContent : '—'}};
}}"""
MOVES = [("zoom to Shanghai (z9)", "xinqu.map.setView([31.2, 121.5], 9, {animate: false})"),
         ("pan east", "xinqu.map.panBy([300, 0], {animate: false})"),
         ("back to z5", "xinqu.map.setView([35, 108], 5, {animate: false})")]


def grow(n: int, out: Path, template: Path = STORE_PATH) -> None:
    """A copy of the store at `template` whose sites layer holds about `n` points."""
    store = Store.open(template)
    rng = np.random.default_rng(SEED)
    frame = store.display[LAYER]
    models = _models(frame, 0.0)
    copies = [_place_copies(frame, models, k, rng)
              for k in range(1, math.ceil(n / len(frame)))]
    layers, display = dict(store.layers), dict(store.display)
    layers[LAYER] = pd.concat([store.layers[LAYER], *copies])
    display[LAYER] = pd.concat([frame, *copies])
    tables = {"documents": store.documents.reset_index(), "units": store.units.reset_index(),
              "mentions": store.mentions, "links": store.links,
              "layers": _layer_meta(store.layer_meta, layers, display),
              "build_info": pd.DataFrame({"key": list(store.build_info),
                                          "value": list(store.build_info.values())})}
    write_store(out, layers, display, store.basemap, tables)


def settle(page, base: str, script: str | None) -> tuple[float, dict, int]:
    """Seconds until the layer is settled after `script` (or the page's opening), its
    state, and the bytes of the layer's requests meanwhile."""
    sizes: list[int] = []

    def sized(request):
        if f"/collections/{LAYER}/items" in request.url:
            sizes.append(request.sizes()["responseBodySize"])

    page.on("requestfinished", sized)
    started = time.perf_counter()
    if script is None:
        page.goto(f"{base}/?lang=en")
    else:
        page.evaluate(f"() => {{ {script}; }}")
    page.wait_for_timeout(50)  # the debounce starts counting the layer as loading
    page.wait_for_function(SETTLED, timeout=300_000, polling=50)
    seconds = time.perf_counter() - started
    page.remove_listener("requestfinished", sized)
    return seconds, page.evaluate(STATE), sum(sizes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=None, help="map page size (default: "
                        "data/map_style.yaml web.map_page_limit)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="xinqu-map-in-view-") as tmp:
        home = Path(tmp)
        started = time.perf_counter()
        grow(args.sites, home / "xinqu.gpkg")
        print(f"store with {args.sites:,} sites written in {time.perf_counter() - started:.1f} s")
        env = {**os.environ, "XINQU_HOME": str(home), "PYTHONPATH": str(REPO)}
        if args.page:
            env["XINQU_MAP_PAGE_LIMIT"] = str(args.page)
        started = time.perf_counter()
        with serving(env, home / "serve.log") as base, sync_playwright() as playwright:
            print(f"server up in {time.perf_counter() - started:.1f} s")
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            print(f"{'step':<24} {'seconds':>8} {'drawn':>7} {'KB':>8}  notice")
            for label, script in [("open the map (national)", None), *MOVES]:
                seconds, state, size = settle(page, base, script)
                print(f"{label:<24} {seconds:8.2f} {state['drawn']:7d} {size / 1e3:8.0f}  "
                      f"{state['notice']}", flush=True)
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
