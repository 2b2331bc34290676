"""What the map page costs a browser: bytes transferred (compressed) and app start time.

Fetches the page, every asset it names, the basemap and each layer's display GeoJSON
through the Flask test client with the encodings a browser offers, and prints the
figures. The fonts and marker images the CSS pulls in are added by name.
"""

from __future__ import annotations

import re
import time

from webapp import create_app

ENCODINGS = {"zstd (Chromium)": "zstd, br, gzip", "br (Firefox, Safari)": "br, gzip",
             "gzip only": "gzip", "none": "identity"}
# Files the stylesheets load on the map: Font Awesome's solid font and the marker sprites.
CSS_PULLS = ["/static/vendor/fontawesome-free/webfonts/fa-solid-900.woff2",
             "/static/vendor/leaflet.awesome-markers/images/markers-soft.png",
             "/static/vendor/leaflet.awesome-markers/images/markers-shadow.png"]


def main() -> None:
    start = time.perf_counter()
    app = create_app()
    print(f"app start (store load + serialisation): {time.perf_counter() - start:.2f} s")
    client = app.test_client()
    page = client.get("/?lang=en&f=html").get_data(as_text=True)
    urls = ["/?lang=en&f=html", *re.findall(r'(?:src|href)="(/static/[^"]+)"', page), *CSS_PULLS,
            "/basemap"]
    urls += [u.replace("\\u0026", "&") for u in re.findall(r'"(/collections/[^"]+)"', page)]
    for label, accept in ENCODINGS.items():
        sizes = {}
        for url in urls:
            response = client.get(url, headers={"Accept-Encoding": accept})
            sizes[url] = len(response.get_data())
        total = sum(sizes.values())
        print(f"map page, {label}: {len(urls)} requests, {total / 1e6:.3f} MB")
        if label.startswith("zstd"):
            for url, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:6]:
                print(f"    {size / 1e3:8.1f} kB  {url}")
    start = time.perf_counter()
    for _ in range(20):
        client.get("/collections/new-areas/items?f=json&limit=100")
    print(f"items request (19 full-resolution areas): "
          f"{(time.perf_counter() - start) / 20 * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
