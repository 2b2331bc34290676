"""What the planner pages cost: time to the first and a repeated answer of /new-areas (HTML,
CSV, XLSX, JSON), /compare and /about, their size, and a popup in each script.

Runs through the Flask test client on the built store and prints the figures; the first
call of a page includes what is cached after it (the table's rows, the administrative
names of the store's codes).
"""

from __future__ import annotations

import statistics
import time

from webapp import create_app

URLS = [
    "/new-areas?lang=zh-Hans", "/new-areas?lang=en&sort=-area_ratio&q=jiang",
    "/new-areas?f=csv", "/new-areas?f=xlsx", "/new-areas?f=json",
    "/compare?places=pudong,binhai&lang=zh-Hant", "/compare?places=xixian,guian,tianfu&f=json",
    "/about?lang=en", "/places/port-ningbo-zhoushan/popup?lang=zh-Hant",
    "/places/xixian/popup?lang=zh-Hans", "/places/xixian/popup?lang=en",
]
REPEAT = 20


def main() -> None:
    start = time.perf_counter()
    app = create_app()
    print(f"app start: {time.perf_counter() - start:.2f} s")
    client = app.test_client()
    for url in URLS:
        began = time.perf_counter()
        first = client.get(url)
        first_ms = (time.perf_counter() - began) * 1000
        assert first.status_code == 200, (url, first.status_code)
        times = []
        for _ in range(REPEAT):
            began = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - began) * 1000)
        print(f"{url}: first {first_ms:.1f} ms, then median {statistics.median(times):.1f} ms"
              f", {len(first.data) / 1000:.1f} kB")


if __name__ == "__main__":
    main()
