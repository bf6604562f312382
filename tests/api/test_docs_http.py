"""GET /docs and its script over HTTP: public, cached as they should be,
with a strict Content-Security-Policy. tests/browser/test_docs.py renders
the page in Chromium."""
import pathlib
import re

import yaml

from conftest import assert_problem

OPENAPI = pathlib.Path(__file__).resolve().parents[2] / "openapi.yaml"

SCRIPT = re.compile(rb'<script src="(/docs/redoc\.standalone\.[0-9a-f]{16}\.js)"></script>')


def script_path(anon):
    page = anon.get("/docs")
    found = SCRIPT.search(page.body)
    assert found, page.body
    return found.group(1).decode()


def csp_directives(resp):
    policy = resp.headers["content-security-policy"]
    return {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}


def test_docs_page_is_public_html(anon):
    r = anon.get("/docs")
    assert r.status == 200, r
    assert r.content_type == "text/html; charset=utf-8"
    assert b'<redoc spec-url="/openapi.yaml"' in r.body
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert re.fullmatch(r'"[0-9a-f]{16}"', r.headers["etag"])


def test_docs_page_allows_nothing_from_other_origins(anon):
    csp = csp_directives(anon.get("/docs"))
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    # Anything but 'self', 'none', 'unsafe-inline' and data:/blob: would
    # let another host in.
    for directive, sources in csp.items():
        for source in sources:
            assert source in ("'self'", "'none'", "'unsafe-inline'", "data:", "blob:"), (directive, source)
    assert "'unsafe-eval'" not in sum(csp.values(), [])


def test_docs_page_csp_is_the_documented_one(anon):
    spec = yaml.safe_load(OPENAPI.read_text())
    documented = spec["paths"]["/docs"]["get"]["responses"]["200"]["headers"]["Content-Security-Policy"]["example"]
    assert anon.get("/docs").headers["content-security-policy"] == documented


def test_docs_page_names_an_existing_script(anon):
    r = anon.get(script_path(anon))
    assert r.status == 200, r
    assert r.content_type == "text/javascript; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert len(r.body) > 500_000  # Redoc's whole bundle, not a stub
    assert b"cdn.redoc.ly" not in r.body  # its logo URL was taken out at build time


def test_docs_script_name_is_its_hash(anon):
    path = script_path(anon)
    r = anon.get(path)
    assert r.headers["etag"] == '"' + path.split(".")[-2] + '"'


def test_docs_script_is_not_modified_for_its_etag(anon):
    path = script_path(anon)
    etag = anon.get(path).headers["etag"]
    for header in (etag, f"W/{etag}", f'"0000000000000000", {etag}', "*"):
        r = anon.get(path, headers={"If-None-Match": header})
        assert r.status == 304, (header, r)
        assert r.body == b""
        assert r.headers["etag"] == etag
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert anon.get(path, headers={"If-None-Match": '"0000000000000000"'}).status == 200
    assert anon.get(path, headers={"If-None-Match": etag[:-2] + '"'}).status == 200  # a prefix is another tag


def test_docs_page_is_not_modified_for_its_etag(anon):
    etag = anon.get("/docs").headers["etag"]
    r = anon.get("/docs", headers={"If-None-Match": etag})
    assert r.status == 304, r
    assert r.body == b""
    assert anon.get("/docs", headers={"If-None-Match": '"1"'}).status == 200


def test_docs_head_matches_get(anon):
    path = script_path(anon)
    for target in ("/docs", path):
        get = anon.get(target)
        head = anon.request("HEAD", target)
        assert head.status == 200, head
        assert head.body == b""
        assert head.headers["content-length"] == str(len(get.body))
        assert head.headers["etag"] == get.headers["etag"]
        assert head.content_type == get.content_type


def test_docs_script_ignores_a_bad_token(anon):
    path = script_path(anon)
    r = anon.get(path, headers={"Authorization": "Bearer crm_" + "A" * 43})
    assert r.status == 200, r
    assert "www-authenticate" not in r.headers


def test_docs_unknown_asset_is_404(anon):
    for path in ("/docs/redoc.standalone.js", "/docs/index.html", "/docs/..%2Fopenapi.yaml", "/docs/a/b"):
        assert_problem(anon.get(path), 404)


def test_docs_refuses_other_methods(anon):
    r = anon.post("/docs", {})
    assert_problem(r, 405)
    assert r.headers["allow"] == "GET"


def test_docs_refuses_unknown_query_parameter(anon):
    assert_problem(anon.get("/docs?theme=dark"), 400, "theme")
