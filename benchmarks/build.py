"""Cold build time and size of the built store.

Runs the whole build once in this fresh process (no boundary cached yet) into a temporary
GeoPackage, so the real store is left alone, then prints the wall-clock time, the file's
size, and per layer the vertices and WKB bytes of the full and the display geometry.
Goal: a cold build under 60 s on a 2-core machine.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import shapely

from layers.build import build
from layers.store import Store


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="xinqu-bench-") as tmp:
        out = Path(tmp) / "xinqu.gpkg"
        started = time.perf_counter()
        cpu = time.process_time()
        report = build(store_path=out)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        size = out.stat().st_size
        store = Store.open(out)
    print(f"cold build: {wall:.1f} s wall, {cpu:.1f} s CPU ({os.cpu_count()} cores)")
    print(f"store size: {size / 1e6:.1f} MB ({report.units} units, {report.mentions} mentions, "
          f"{report.links} links)")
    print(f"{'layer':18} {'features':>8} {'full vertices':>14} {'full KB':>9} "
          f"{'display vertices':>17} {'display KB':>11}")
    for layer, full in store.layers.items():
        display = store.display[layer]
        print(f"{layer:18} {len(full):8d} "
              f"{shapely.get_num_coordinates(full.geometry.values).sum():14d} "
              f"{_kb(full):9.0f} "
              f"{shapely.get_num_coordinates(display.geometry.values).sum():17d} "
              f"{_kb(display):11.0f}")
    basemap = store.basemap
    print(f"{'basemap':18} {len(basemap):8d} {'':14} {'':9} "
          f"{shapely.get_num_coordinates(basemap.geometry.values).sum():17d} "
          f"{_kb(basemap):11.0f}")
    return 0


def _kb(frame) -> float:
    return sum(len(shapely.to_wkb(g)) for g in frame.geometry) / 1024


if __name__ == "__main__":
    sys.exit(main())
