"""Documents on the real server: a document added, replaced or removed through the CLI
shows on the next request of an already running `xinqu serve` with two workers; uploads
need the admin token, are bounded, and their text is escaped wherever it is shown.

The server runs on a temporary instance folder (XINQU_HOME) holding a copy of the built
store, never the repository's.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from web_fixtures import BROWSER_ACCEPT, serving

from webapp import create_app

pytest_plugins = ["web_fixtures"]  # the chromium fixture and the server helpers

REPO = Path(__file__).resolve().parent.parent
TOKEN = "test-admin-token-" + uuid.uuid4().hex
# Enough requests that both workers answer some of them.
ROUNDS = 6

TEXT = """关于支持浦东新区开放发展的若干措施

为推动国家级新区高质量发展，制定本措施。

一、总体要求

（一）支持浦东新区建设国际航运中心。发挥上海港的枢纽作用，扩大高水平开放。

（二）支持两江新区扩大开放。建设内陆开放高地，完善物流通道体系。
"""
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HOSTILE = f"""{SCRIPT}关于浦东新区的若干措施

为推动发展{IMG}，制定本措施。

一、总体要求

（一）支持浦东新区{SCRIPT}建设国际航运中心。发挥{IMG}上海港的枢纽作用，扩大开放。
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory, store_path):
    """(base URL, instance folder) of `xinqu serve --workers 2` with an admin token."""
    home = tmp_path_factory.mktemp("served") / "home"
    home.mkdir()
    shutil.copyfile(store_path, home / "xinqu.gpkg")
    env = {**os.environ, "XINQU_HOME": str(home), "XINQU_ADMIN_TOKEN": TOKEN}
    with serving(env, home.parent / "serve.log") as base:
        yield base, home


def get(url: str) -> tuple[int, str]:
    """GET as a browser asks (pages answer HTML; `f=json` or a JSON-only resource, JSON)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(
                url, headers={"Accept": BROWSER_ACCEPT}), timeout=60) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def get_json(url: str):
    status, body = get(url)
    assert status == 200, (url, status, body[:300])
    return json.loads(body)


def xinqu(home: Path, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "XINQU_HOME": str(home), "CI": "true"}
    done = subprocess.run([sys.executable, "-m", "webapp.cli", *map(str, args)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return done


def named_units(base: str, place: str) -> set[str]:
    return {u["id"] for u in get_json(f"{base}/places/{place}?f=json")["named"]}


def test_cli_add_replace_remove_show_on_the_next_request(served, tmp_path):
    base, home = served
    for _ in range(ROUNDS):  # both workers have loaded the store as it was
        assert get(f"{base}/units/plan-w:1?f=json")[0] == 404
        assert "plan-w:1" not in named_units(base, "pudong")
    source = tmp_path / "plan.txt"
    source.write_text(TEXT, encoding="utf-8")
    xinqu(home, "documents", "add", source, "--id", "plan-w")
    for _ in range(ROUNDS):  # every request after the add, in whichever worker
        unit = get_json(f"{base}/units/plan-w:1?f=json")
        assert {"pudong", "port-shanghai"} <= {p["id"] for p in unit["places"]}
        assert "plan-w:1" in named_units(base, "pudong")
        status, page = get(f"{base}/places/pudong")
        assert status == 200 and "plan-w:1" in page
        selection = get_json(f"{base}/map/selection?document=plan-w")
        assert "pudong" in {p["id"] for p in selection["places"]["new-areas"]}
        options = get_json(f"{base}/map/options")
        assert "plan-w" in {d["id"] for d in options["documents"]}
        items = get_json(f"{base}/collections/new-areas/items?document=plan-w&f=json")
        assert {"pudong", "liangjiang"} <= {f["id"] for f in items["features"]}
        listed = get_json(f"{base}/documents?f=json")
        assert "plan-w" in {d["id"] for d in listed["documents"]}

    source.write_text(TEXT.replace("浦东新区", "滨海新区").replace("上海港", "天津港"),
                      encoding="utf-8")
    xinqu(home, "documents", "add", source, "--id", "plan-w", "--replace")
    for _ in range(ROUNDS):
        assert "plan-w:1" in named_units(base, "binhai")
        assert "plan-w:1" not in named_units(base, "pudong")
        selection = get_json(f"{base}/map/selection?document=plan-w")
        assert "binhai" in {p["id"] for p in selection["places"]["new-areas"]}

    xinqu(home, "documents", "remove", "plan-w")
    for _ in range(ROUNDS):
        assert get(f"{base}/units/plan-w:1?f=json")[0] == 404
        assert get(f"{base}/documents/plan-w?f=json")[0] == 404
        assert "plan-w:1" not in named_units(base, "binhai")
        assert get(f"{base}/map/selection?document=plan-w")[0] == 400


def post(base: str, files: list[tuple[str, bytes]], fields: dict[str, str],
         headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """A multipart POST /documents?f=json."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                     f'filename="{name}"\r\nContent-Type: text/plain\r\n\r\n'.encode()
                     + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"{base}/documents?f=json", data=body, method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def digest(home: Path) -> tuple:
    return tuple(hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None
                 for p in (home / "xinqu.gpkg", home / "documents.yaml"))


def test_upload_needs_the_token_and_previews_before_saving(served):
    base, home = served
    upload = [("plan-u.txt", TEXT.encode("utf-8"))]
    before = digest(home)
    status, body = post(base, upload, {"id": "plan-u"})
    assert status == 403 and "token" in body["description"]
    status, body = post(base, upload, {"id": "plan-u"}, {"X-Admin-Token": "wrong"})
    assert status == 403 and body["status"] == 403
    status, body = post(base, upload, {"id": "plan-u", "dry_run": "1", "token": TOKEN})
    assert status == 200 and body["dry_run"] is True
    units = {u["id"]: u["places"] for u in body["documents"][0]["units"]}
    assert "pudong" in units["plan-u:1"]
    status, body = post(base, upload, {"id": "../etc"}, {"X-Admin-Token": TOKEN})
    assert status == 400 and "unsafe document id" in body["description"]
    assert digest(home) == before  # refused or previewed: nothing saved
    status, body = post(base, [("big.txt", b"a" * (20 * 1024 * 1024 + 1))], {},
                        {"X-Admin-Token": TOKEN})
    assert status == 413 and body["status"] == 413
    assert digest(home) == before

    status, body = post(base, upload, {"id": "plan-u"}, {"X-Admin-Token": TOKEN})
    assert status == 201 and body["documents"][0]["saved"] is True
    assert get(f"{base}/units/plan-u:1?f=json")[0] == 200
    status, original = get(f"{base}/documents/plan-u/original")
    assert status == 200 and original == TEXT
    xinqu(home, "documents", "remove", "plan-u")


def test_uploaded_text_is_escaped_everywhere_it_is_shown(served):
    base, home = served
    status, body = post(base, [("hostile.txt", HOSTILE.encode("utf-8"))],
                        {"id": "plan-x", "publisher": IMG, "number": SCRIPT},
                        {"X-Admin-Token": TOKEN})
    assert status == 201, body
    pages = ["/documents", "/documents/plan-x", "/units/plan-x:1", "/units/plan-x:preamble",
             "/units?document=plan-x", "/places/pudong", "/places/pudong/popup"]
    try:
        for page in pages:
            status, html = get(base + page)
            assert status == 200, page
            assert SCRIPT not in html and IMG not in html, page
            assert "&lt;script&gt;" in html or "&lt;img" in html, page
    finally:
        xinqu(home, "documents", "remove", "plan-x")


def test_uploads_are_refused_without_a_configured_token(store):
    """The app with no XINQU_ADMIN_TOKEN: no form, no POST."""
    client = create_app({"STORE": store, "TESTING": True, "XINQU_ADMIN_TOKEN": None}
                        ).test_client()
    assert client.get("/documents/new").status_code == 403
    reply = client.post("/documents", data={"token": ""}, headers={"X-Admin-Token": "x"})
    assert reply.status_code == 403 and "disabled" in reply.get_json()["description"]
    assert client.get("/documents?f=json").status_code == 200


def test_the_upload_form_previews_then_adds(tmp_path, store_path):
    """The HTML form: the preview page lists the units and places and saves nothing; Add
    saves and links to the new document's page."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(store_path, home / "xinqu.gpkg")
    app = create_app({"STORE_PATH": home / "xinqu.gpkg", "XINQU_HOME": home,
                      "XINQU_ADMIN_TOKEN": TOKEN, "TESTING": True})
    client = app.test_client()
    form = client.get("/documents/new?lang=en")
    assert form.status_code == 200 and 'name="token"' in form.text and TOKEN not in form.text
    before = digest(home)

    def submit(dry_run: str):
        return client.post("/documents?lang=en", content_type="multipart/form-data",
                           headers={"Accept": "text/html"},
                           data={"file": (io.BytesIO(TEXT.encode("utf-8")), "plan.txt"),
                                 "token": TOKEN, "id": "plan-f", "dry_run": dry_run})

    preview = submit("1")
    assert preview.status_code == 200 and preview.mimetype == "text/html"
    assert "plan-f:1" in preview.text and "pudong" in preview.text
    assert digest(home) == before
    added = submit("0")
    assert added.status_code == 201 and 'href="http://localhost/documents/plan-f"' in added.text
    page = client.get("/documents/plan-f?lang=en")
    assert page.status_code == 200 and "plan-f:1" in page.text
    assert "/documents/plan-f/original" in page.text


def test_upload_form_and_pages_in_a_browser(served, chromium):
    """Chromium uploads a document with markup in it through the form (preview, then add);
    its pages show the markup as text and run none of it."""
    base, home = served
    context = chromium.new_context(viewport={"width": 1300, "height": 900}, locale="en-GB")
    page = context.new_page()
    dialogs, errors = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: errors.append(str(error)))
    upload = {"name": "hostile.txt", "mimeType": "text/plain",
              "buffer": HOSTILE.encode("utf-8")}
    try:
        page.goto(f"{base}/documents/new?lang=en")
        for button in ("Preview (save nothing)", "Add"):
            page.set_input_files("input[name=file]", files=[upload])
            page.fill("input[name=token]", TOKEN)
            page.fill("input[name=id]", "plan-b")
            page.get_by_role("button", name=button).click()
            page.wait_for_load_state("load")
            results = page.locator(".upload-results").inner_text()
            assert "plan-b:1" in results and "pudong" in results
            if button.startswith("Preview"):
                assert "nothing saved" in results
                assert get(f"{base}/documents/plan-b?f=json")[0] == 404
        assert get(f"{base}/documents/plan-b?f=json")[0] == 200

        page.goto(f"{base}/documents/plan-b?lang=en")
        page.locator(".small-map .folium-map").wait_for(timeout=30_000)
        assert SCRIPT in page.locator("h1").inner_text()  # shown as text
        assert "Shanghai Pudong New Area" in page.locator(".document-units").inner_text()
        for path in ("/documents?lang=en", "/units/plan-b:1?lang=en",
                     "/units/plan-b:preamble?lang=en", "/places/pudong?lang=en"):
            page.goto(base + path)
            page.wait_for_load_state("load")
            assert "plan-b" in page.content(), path
        assert dialogs == [] and not any("alert" in e for e in errors)
    finally:
        context.close()
        xinqu(home, "documents", "remove", "plan-b")
