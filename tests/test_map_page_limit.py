"""The map's page size: data/map_style.yaml `web.map_page_limit`, overridden by the app
config key or $XINQU_MAP_PAGE_LIMIT, is the `limit` of every layer URL the map pages carry;
a bad value stops the start with one line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from layers.query import LIMIT_MAX
from webapp.errors import UsageError
from webapp.map import PAGE_LIMIT_ENV, load_style, page_limit

pytest_plugins = ["web_fixtures"]

REPO = Path(__file__).resolve().parent.parent
LAYER_URL = re.compile(r'"(/collections/[^"/]+/items\?[^"]+)"')


def _layer_urls(client, path: str) -> list[str]:
    html = client.get(path).get_data(as_text=True)
    return [u.replace("\\u0026", "&") for u in LAYER_URL.findall(html)]


def test_the_default_is_the_styles_and_at_most_the_apis():
    web = load_style()["web"]
    assert page_limit(web) == web["map_page_limit"] <= LIMIT_MAX
    assert page_limit(web, "") == web["map_page_limit"]
    assert page_limit(web, "25") == 25 and page_limit(web, 3) == 3


@pytest.mark.parametrize("value", ["0", str(LIMIT_MAX + 1), "ten", "2.5", -1])
def test_a_bad_page_size_is_a_usage_error(value):
    with pytest.raises(UsageError, match="map page limit"):
        page_limit(load_style()["web"], value)


def test_layer_urls_carry_the_page_size_and_the_filters(web_store, as_browser):
    from webapp import create_app

    client = as_browser(create_app({"STORE": web_store, "TESTING": True,
                                    "XINQU_MAP_PAGE_LIMIT": 7}))
    full = _layer_urls(client, "/?lang=en")
    assert len(full) == len(web_store.layers)
    assert all("limit=7" in u and "display=1" in u and "bbox" not in u for u in full)
    small = _layer_urls(client, "/units/ndrc-2024:13?lang=en")
    assert small and all("limit=7" in u and "unit=ndrc-2024:13" in u for u in small)


def test_serve_refuses_a_bad_page_size_in_one_line(store_path):
    env = {**os.environ, PAGE_LIMIT_ENV: "0"}
    result = subprocess.run([sys.executable, "-m", "webapp.cli", "serve", "--port", "1"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"xinqu serve: map page limit must lie within "
                                     f"1..{LIMIT_MAX}, not 0")
