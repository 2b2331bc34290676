"""Time to draw a map image (/map.png) by the span of its bbox, and two renders at once.

Each image is drawn by a fresh renderer (nothing cached) on the built store. Spans below
the minimum (data/map_style.yaml image.min_bbox_span_deg) are refused by the service;
they are drawn here anyway, bypassing that check, to show that the drawing itself stays
bounded (a 0.0001° box took 7.6 s to 11 s before geometry was clipped to the view, and a
0.00001° box ran into gunicorn's 60 s timeout). Goals: every span under 2 s; a cached
image answered at once while another is being drawn (no lock held across a render).
Two renders at once in threads are not faster than one after the other (matplotlib
holds the GIL); they are there so that no request waits behind another's render.
Usage: python benchmarks/map_image.py [--quick]
"""

from __future__ import annotations

import sys
import threading
import time

from layers.paths import STORE_PATH
from layers.store import Store
from webapp import create_app
from webapp.mapimage import MapRenderer, MapSpec
from webapp.planner import EXTENSION

CENTRE = (121.5, 31.2)  # Pudong
SPANS = (None, 10, 1, 0.1, 0.01, 0.001, 0.0001, 0.00001)


def spec_for(span: float | None, fmt: str = "png") -> MapSpec:
    if span is None:
        return MapSpec(lang="en", names="en")
    x, y = CENTRE
    return MapSpec(lang="en", names="en", bbox=(x, y, x + span, y + span))


def timed(renderer: MapRenderer, spec: MapSpec, fmt: str = "png") -> float:
    started = time.perf_counter()
    renderer.image(spec, fmt, budget=600)
    return time.perf_counter() - started


def main() -> int:
    quick = "--quick" in sys.argv
    store = Store.open(STORE_PATH)
    app = create_app({"STORE": store})
    base = app.extensions[EXTENSION]

    def fresh() -> MapRenderer:
        return MapRenderer(store, base.strings)

    print("map image: seconds to draw (fresh renderer, no cache)")
    print(f"{'bbox span (deg)':>16} {'png':>7} {'svg':>7}")
    for span in SPANS[:4] if quick else SPANS:
        png = timed(fresh(), spec_for(span), "png")
        svg = timed(fresh(), spec_for(span), "svg")
        label = "China (default)" if span is None else f"{span:g}"
        print(f"{label:>16} {png:7.2f} {svg:7.2f}")

    # A cached image asked for while another is being drawn: with one lock around every
    # render it waited for that render; now it is answered at once.
    renderer = fresh()
    cached, drawing = spec_for(1), MapSpec(unit="ndrc-2024:6", lang="zh", names="zh-Hans")
    renderer.image(cached, "png")
    worker = threading.Thread(target=timed, args=(renderer, drawing))
    worker.start()
    time.sleep(0.05)
    wait = timed(renderer, cached)
    worker.join()
    print(f"a cached image while another is drawn: {wait * 1000:.1f} ms")
    if not quick:  # threads share the GIL: at once is not faster, only never blocked
        specs = [drawing, MapSpec(document="xixian-2023", lang="en", names="en")]
        one_by_one = sum(timed(fresh(), spec) for spec in specs)
        renderer = fresh()
        threads = [threading.Thread(target=timed, args=(renderer, spec)) for spec in specs]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(f"two different images: one after the other {one_by_one:.2f} s, at once in "
              f"two threads {time.perf_counter() - started:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
