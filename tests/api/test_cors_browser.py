"""CORS in a real browser: headless Chromium (tests/browser/chromium.py)
opens tests/browser/pages/cors.html from a second local origin; its script
drives the API with fetch and a bearer token the way a front-end does, and
writes what it could read into the page, which the test reads back.

The suite's server allows http://127.0.0.1:<API_PORT+1> (scripts/test-api.sh);
the same page served from http://127.0.0.1:<API_PORT+2> must read nothing."""
import json
import os
import struct
import sys
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from conftest import API_URL, Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
import chromium  # noqa: E402  (tests/browser, shared with other page tests)
from static_server import serve_directory  # noqa: E402

PAGES = Path(__file__).resolve().parents[1] / "browser" / "pages"
API_PORT = urlsplit(API_URL).port
ALLOWED_PAGE_PORT = API_PORT + 1
REFUSED_PAGE_PORT = API_PORT + 2
STEPS = ["health", "list", "unauthorized", "create", "not_modified", "patch", "stale_patch", "keyed_first",
         "keyed_again", "delete", "csv"]


def page_url(origin, token, name):
    return f"{origin}/cors.html#api={quote(API_URL, safe='')}&token={quote(token, safe='')}&name={quote(name)}"


def run_page(port, token, name):
    """Opens the page from http://127.0.0.1:port; returns its results."""
    assert f"http://127.0.0.1:{ALLOWED_PAGE_PORT}" in os.environ.get("CORS_ORIGINS", ""), \
        "run through scripts/test-api.sh, which gives the server its CORS_ORIGINS"
    with serve_directory(PAGES, port) as origin:
        dom = chromium.dump_dom(page_url(origin, token, name), budget_ms=20000)
    assert 'data-state="done"' in dom, dom[-3000:]
    results = json.loads(chromium.element_text(dom, "results"))
    assert sorted(results) == sorted(STEPS), results
    return results


def accounts_named(admin, name):
    r = admin.get(f"/accounts?q={quote(name)}&include_deleted=true&limit=500")
    assert r.status == 200, r
    return [a for a in r.json["data"] if a["name"].startswith(name)]


@pytest.fixture(scope="module")
def page_token(admin):
    """A member's token, so the page acts as an ordinary user."""
    r = admin.post("/users", {"name": "Browser page", "email": f"page-{uuid.uuid4().hex[:10]}@example.com"})
    assert r.status == 201, r
    t = admin.post(f"/users/{r.json['id']}/tokens", {"name": "browser"})
    assert t.status == 201, t
    return t.json["token"]


def test_a_page_of_an_allowed_origin_reads_every_reply(admin, page_token):
    name = f"Browser {uuid.uuid4().hex[:10]}"
    got = run_page(ALLOWED_PAGE_PORT, page_token, name)
    for label in STEPS:
        assert not got[label].get("rejected"), (label, got[label])
        # X-Request-Id is exposed on every reply, errors included.
        assert got[label]["requestId"] and len(got[label]["requestId"]) == 32, (label, got[label])
        # WWW-Authenticate is not exposed, so a page cannot read it.
        assert got[label]["wwwAuthenticate"] is None, (label, got[label])

    assert got["health"]["status"] == 200 and got["health"]["json"] == {"status": "ok"}
    assert got["list"]["status"] == 200 and isinstance(got["list"]["json"]["data"], list)

    unauthorized = got["unauthorized"]
    assert unauthorized["status"] == 401
    assert unauthorized["contentType"].startswith("application/problem+json")
    assert unauthorized["json"]["type"] == "/problems/unauthorized"

    created = got["create"]
    account_id = created["json"]["id"]
    assert created["status"] == 201 and created["json"]["name"] == name
    assert created["location"] == f"/accounts/{account_id}"
    assert created["etag"] == '"1"'

    assert got["not_modified"]["status"] == 304 and got["not_modified"]["text"] == ""

    patched = got["patch"]
    assert patched["status"] == 200 and patched["json"]["name"] == f"{name} renamed"
    assert patched["etag"] == '"2"'

    stale = got["stale_patch"]
    assert stale["status"] == 412
    assert stale["contentType"].startswith("application/problem+json")
    assert stale["json"]["type"] == "/problems/precondition-failed" and stale["json"]["status"] == 412
    assert stale["json"]["request_id"] == stale["requestId"]

    first, again = got["keyed_first"], got["keyed_again"]
    assert first["status"] == 201 and again["status"] == 201
    assert again["json"]["id"] == first["json"]["id"]
    assert again["location"] == first["location"] == f"/accounts/{first['json']['id']}"

    assert got["delete"]["status"] == 204

    csv = got["csv"]
    assert csv["status"] == 200
    assert csv["contentType"].startswith("text/csv")
    assert csv["disposition"] == 'attachment; filename="forecast.csv"'
    assert csv["text"].startswith("owner,") and csv["text"].rstrip("\r\n").splitlines()[-1].startswith("Total,")

    # What the page did really happened on the server.
    assert Client(page_token).get(f"/accounts/{account_id}").status == 404  # deleted
    keyed = accounts_named(admin, f"{name} keyed")
    assert [a["id"] for a in keyed] == [first["json"]["id"]]  # created once


def test_a_page_of_another_origin_reads_nothing(admin, page_token):
    # The server is up and refuses this origin's preflights: the page's
    # failures below are CORS at work, not a server that is away.
    refused = Client(None).request("OPTIONS", "/accounts", headers={
        "Origin": f"http://127.0.0.1:{REFUSED_PAGE_PORT}", "Access-Control-Request-Method": "POST"})
    assert refused.status == 403, refused
    assert Client(page_token).get("/accounts?limit=1").status == 200
    name = f"Refused {uuid.uuid4().hex[:10]}"
    got = run_page(REFUSED_PAGE_PORT, page_token, name)
    for label in STEPS:
        assert got[label].get("rejected") is True, (label, got[label])
        assert got[label]["error"].startswith("TypeError"), (label, got[label])
    # The preflights were refused, so no write was even sent.
    assert accounts_named(admin, name) == []


def png_size(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_screenshot_of_the_page(page_token, tmp_path):
    """The harness's screenshot() (used by page tests) writes a PNG of the size asked."""
    with serve_directory(PAGES, ALLOWED_PAGE_PORT) as origin:
        path = chromium.screenshot(page_url(origin, page_token, f"Shot {uuid.uuid4().hex[:10]}"),
                                   tmp_path / "cors.png", width=1000, height=700)
    assert png_size(path) == (1000, 700)
    assert os.path.getsize(path) > 10000  # a rendered table, not a blank page
