"""Time of OGC API requests that do work per request: CQL2 filters, sorting, other CRSs.

In-process (Flask test client on the built store), so the figures are the service's own
work without the network. Prints the median of a few runs per request, in milliseconds,
beside the plain CRS84 page whose features were serialised at start.
"""

from __future__ import annotations

import statistics
import sys
import time
from urllib.parse import quote

from webapp import create_app

RUNS = 7
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
REQUESTS = {
    "new-areas, CRS84 (serialised at start)": "/collections/new-areas/items",
    "new-areas, EPSG:4490 (lat, lon)": f"/collections/new-areas/items?crs={EPSG.format(4490)}",
    "new-areas, Gauss-Krüger zone 40": f"/collections/new-areas/items?crs={EPSG.format(4528)}",
    "new-areas, EPSG:3857": f"/collections/new-areas/items?crs={EPSG.format(3857)}",
    "new-areas, CQL2 text date + number": "/collections/new-areas/items?filter=" + quote(
        "official_area_km2 > 1000 AND approved >= DATE('2014-01-01')"),
    "new-areas, CQL2 S_INTERSECTS polygon": "/collections/new-areas/items?filter=" + quote(
        "S_INTERSECTS(geometry, POLYGON((110 20, 125 20, 125 35, 110 35, 110 20)))"),
    "new-areas, sortby + properties": "/collections/new-areas/items?sortby=-official_area_km2"
                                      "&properties=name_zh_hans,official_area_km2",
    "partners, CRS84": "/collections/partners/items",
    "partners, EPSG:3857": f"/collections/partners/items?crs={EPSG.format(3857)}",
    "units (table), CQL2 LIKE": "/collections/units/items?limit=1000&filter=" + quote(
        "text_zh_hans LIKE '%开放%'"),
    "links (table), all 570 rows": "/collections/links/items?limit=1000",
}


def main() -> int:
    client = create_app({"TESTING": True}).test_client()
    width = max(map(len, REQUESTS))
    for name, url in REQUESTS.items():
        times, size = [], 0
        for _ in range(RUNS):
            started = time.perf_counter()
            response = client.get(url, headers={"Accept": "application/geo+json"})
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                print(f"{name}: HTTP {response.status_code} {response.get_data(as_text=True)}")
                return 1
            size = len(response.data)
        matched = response.get_json()["numberMatched"]
        print(f"{name:<{width}}  {statistics.median(times):8.1f} ms  {matched:4d} features "
              f"{size / 1024:9.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
