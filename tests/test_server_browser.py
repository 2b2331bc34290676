"""The security headers in headless Chromium against `xinqu serve`: the map page, a unit
page and a place page get them, and the browser records no CSP violation while they
load, open a popup and use the planner tools (so every script that ran was allowed)."""

from __future__ import annotations

import pytest
from test_browser import LAYERS_LOADED, PUDONG_POINT

pytest_plugins = ["web_fixtures"]

# Every violation the page reports, from its first script on.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
    [e.violatedDirective, e.blockedURI, e.sourceFile, e.lineNumber].join(' ')));
"""
SMALL_MAP_LOADED = "() => window.xinqu && xinqu.loading === 0 && xinqu.bounds"


@pytest.fixture()
def watched(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.console_csp = []
    page.errors = []
    page.on("console", lambda m: page.console_csp.append(m.text)
            if "Content Security Policy" in m.text or "Content-Security-Policy" in m.text
            else None)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def _headers_of(response) -> dict[str, str]:
    headers = response.all_headers()
    assert "server" not in headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    return headers


def _no_violations(page) -> None:
    assert page.evaluate("window.__csp") == []
    assert page.console_csp == []
    assert page.errors == []


def test_map_page_runs_under_its_csp(watched, live_server):
    page = watched
    response = page.goto(f"{live_server}/?lang=en")
    _headers_of(response)
    page.wait_for_function(LAYERS_LOADED, timeout=60_000)
    page.wait_for_load_state("networkidle")
    point = page.evaluate(PUDONG_POINT)
    assert point is not None
    page.mouse.click(point["x"], point["y"])
    page.locator('.leaflet-popup .xinqu-popup-body[data-place="pudong"]').wait_for(
        timeout=15_000)
    page.locator('#xinqu-mode input[value="named"]').check()  # the choropleth's legend
    page.wait_for_function("() => xinqu.planner.pending === 0 && xinqu.loading === 0",
                           timeout=30_000)
    assert page.locator(".xinqu-choropleth-legend").is_visible()
    _no_violations(page)


@pytest.mark.parametrize("path", ["/units/ndrc-2024:13?lang=en", "/places/xixian?lang=zh"])
def test_unit_and_place_pages_run_under_their_csp(watched, live_server, path):
    page = watched
    response = page.goto(f"{live_server}{path}")
    _headers_of(response)
    page.wait_for_function(SMALL_MAP_LOADED, timeout=60_000)
    page.wait_for_load_state("networkidle")
    assert page.locator(".leaflet-interactive").count() > 0  # the places were drawn
    _no_violations(page)


def test_the_recorder_sees_a_violation_when_a_script_is_not_allowed(watched, live_server):
    """The check above can fail: an inline script the service did not write is refused."""
    page = watched
    page.goto(f"{live_server}/units/ndrc-2024:13?lang=en")
    page.wait_for_function(SMALL_MAP_LOADED, timeout=60_000)
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.__ran = true;';
                             document.body.appendChild(s); }""")
    page.wait_for_function("() => window.__csp.length > 0", timeout=10_000)
    assert page.evaluate("window.__ran") is None
    assert "script-src" in page.evaluate("window.__csp")[0]
