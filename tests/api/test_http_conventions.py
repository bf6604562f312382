"""HTTP conventions of SPEC §5 that hold across endpoints: 405 with Allow,
HEAD, X-Request-Id on every response, trailing slashes, request sizes (414,
431), 500s that show no internals, concurrency, idle connections, and 503 +
Retry-After while the database is down (last in this file: it stops and restarts PostgreSQL)."""
import base64
import json
import os
import re
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import documented
from conftest import API_URL, Client, assert_problem, make_account, make_user, unique

ROOT = Path(__file__).resolve().parents[2]
HOST, PORT = urlsplit(API_URL).hostname, urlsplit(API_URL).port


def b64(text):
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def assert_request_id(resp):
    rid = resp.headers.get("x-request-id")
    assert rid and re.fullmatch(r"[0-9a-f]{32}", rid), resp.headers
    return rid


# ---------------------------------------------------------------------------
# 405 + Allow
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("method,path,allow", [
    ("POST", "/accounts/1", "GET, PATCH, DELETE"),
    ("PUT", "/accounts/1", "GET, PATCH, DELETE"),
    ("DELETE", "/accounts", "GET, POST"),
    ("PUT", "/accounts", "GET, POST"),
    ("GET", "/accounts/by-external-id/abc", "PUT"),
    ("PUT", "/users/1", "GET, PATCH"),
    ("DELETE", "/users", "GET, POST"),
    ("DELETE", "/users/1/tokens", "GET, POST"),
    ("GET", "/tokens/1", "DELETE"),
    ("DELETE", "/lookups", "GET"),
    ("PUT", "/lookups/source", "GET, POST"),
    ("POST", "/lookups/source/1", "GET, PATCH, DELETE"),
    ("POST", "/healthz", "GET"),
    ("DELETE", "/readyz", "GET"),
    ("PATCH", "/openapi.yaml", "GET"),
])
def test_405_lists_allowed_methods(admin, method, path, allow):
    r = admin.request(method, path, raw=b"{}" if method in ("POST", "PUT", "PATCH") else None)
    assert_problem(r, 405)
    assert r.headers["allow"] == allow
    assert r.json["type"] == "/problems/method-not-allowed"
    assert_request_id(r)


def test_405_needs_no_token(anon):
    """Routing comes first: a wrong method is a 405 even without a token."""
    r = anon.request("DELETE", "/accounts")
    assert_problem(r, 405)
    assert r.headers["allow"] == "GET, POST"


def test_allowed_methods_really_work(admin):
    """Every method an Allow header names for /accounts/{id} is served."""
    acct = make_account(admin)
    r = admin.post(f"/accounts/{acct['id']}", {})
    assert r.status == 405
    for method in [m.strip() for m in r.headers["allow"].split(",")]:
        body = {"notes": "allowed"} if method == "PATCH" else None
        got = admin.request(method, f"/accounts/{acct['id']}", body=body)
        assert got.status in (200, 204), (method, got)


def test_users_me_allow_is_consistent(admin):
    r = admin.delete("/users/me")
    assert_problem(r, 405)
    assert r.headers["allow"] == "GET"
    r = admin.patch("/users/me", {"name": "Test Admin"})
    assert_problem(r, 405)
    assert r.headers["allow"] == "GET"


# ---------------------------------------------------------------------------
# HEAD
# ---------------------------------------------------------------------------

def test_head_healthz(anon):
    get = anon.get("/healthz")
    r = anon.request("HEAD", "/healthz")
    assert r.status == 200
    assert r.body == b""
    assert r.content_type.startswith("application/json")
    assert_request_id(r)
    assert r.headers["x-request-id"] != get.headers["x-request-id"]


def test_head_content_length_matches_get(anon):
    get = anon.get("/healthz")
    head = anon.request("HEAD", "/healthz")
    assert head.status == 200 and head.body == b""
    assert head.headers.get("content-length", str(len(get.body))) == str(len(get.body))


def test_head_on_protected_list(admin, anon):
    r = admin.request("HEAD", "/accounts?limit=1")
    assert r.status == 200 and r.body == b""
    assert_request_id(r)
    unauth = anon.request("HEAD", "/accounts")
    assert unauth.status == 401 and unauth.body == b""
    assert unauth.headers["www-authenticate"].startswith("Bearer")
    assert_request_id(unauth)


# ---------------------------------------------------------------------------
# X-Request-Id on every response
# ---------------------------------------------------------------------------

def test_request_id_on_every_kind_of_response(admin, anon):
    acct = make_account(admin)
    path = f"/accounts/{acct['id']}"
    etag = admin.get(path).headers["etag"]
    seen = {}
    seen[200] = admin.get(path)
    seen[201] = admin.post("/accounts", {"name": unique("rid")})
    seen[304] = admin.get(path, headers={"If-None-Match": etag})
    seen[400] = admin.get("/accounts?limit=0")
    seen[401] = anon.get("/accounts")
    seen[404] = admin.get("/accounts/0")
    seen[405] = admin.request("DELETE", "/accounts")
    seen[412] = admin.patch(path, {"notes": "x"}, headers={"If-Match": '"999"'})
    seen[413] = admin.post("/accounts", raw=b" " * (1048576 + 1))
    seen[415] = admin.post("/accounts", raw=b"{}", content_type="text/plain")
    seen[422] = admin.post("/accounts", {"name": ""})
    seen[204] = admin.delete(path)
    ids = set()
    for status, r in seen.items():
        assert r.status == status, (status, r)
        ids.add(assert_request_id(r))
        if status >= 400:
            assert r.json["request_id"] == r.headers["x-request-id"]
    assert seen[304].body == b"" and seen[204].body == b""
    assert len(ids) == len(seen), "request ids must be unique"


def test_client_request_id_is_echoed_on_errors_304_and_204(admin):
    acct = make_account(admin)
    path = f"/accounts/{acct['id']}"
    etag = admin.get(path).headers["etag"]
    cases = [
        ("GET", path, None, {"If-None-Match": etag}, 304),
        ("GET", "/accounts?colour=red", None, {}, 400),
        ("POST", "/accounts", {"name": 7}, {}, 422),
        ("GET", "/nope", None, {}, 404),
        ("DELETE", path, None, {}, 204),
    ]
    for method, p, body, headers, status in cases:
        rid = "client-" + unique("rid")
        r = admin.request(method, p, body=body, headers=dict(headers, **{"X-Request-Id": rid}))
        assert r.status == status, r
        assert r.headers["x-request-id"] == rid
        if status >= 400:
            assert r.json["request_id"] == rid


# ---------------------------------------------------------------------------
# Trailing slash
# ---------------------------------------------------------------------------

def test_a_trailing_slash_is_not_found_and_names_the_path(admin, anon):
    """Paths never end with a slash: 404 (no redirect: a write is never
    resent elsewhere), with the path without the slash in the detail, and
    nothing done."""
    acct = make_account(admin)
    cases = [
        (admin, "GET", "/accounts/?limit=1", None, "/accounts"),
        (admin, "GET", f"/accounts/{acct['id']}/", None, f"/accounts/{acct['id']}"),
        (admin, "PATCH", f"/accounts/{acct['id']}/", {"notes": "via slash"}, f"/accounts/{acct['id']}"),
        (admin, "DELETE", f"/accounts/{acct['id']}/", None, f"/accounts/{acct['id']}"),
        (admin, "GET", "/users/me/", None, "/users/me"),
        (anon, "GET", "/healthz/", None, "/healthz"),
        (anon, "POST", "/accounts/", {"name": "never"}, "/accounts"),  # routing comes before the token
        (admin, "PUT", "/accounts/", {"name": "x"}, "/accounts"),  # a method the path lacks: still the slash
    ]
    for client, method, path, body, canonical in cases:
        r = client.request(method, path, body=body)
        doc = assert_problem(r, 404)
        assert doc["detail"].endswith(f"the path is {canonical}."), (path, doc)
        assert_request_id(r)
    got = admin.get(f"/accounts/{acct['id']}")
    assert got.status == 200 and got.json["notes"] is None and got.json["version"] == acct["version"]
    for path in ("/nope/", "/accounts/1/extra/"):
        doc = assert_problem(admin.get(path), 404)
        assert doc["detail"] == "No such path.", (path, doc)
    doc = assert_problem(admin.get("/accounts/%FF/"), 404)  # not echoed: it is no text
    assert doc["detail"].endswith("send it without the last one."), doc


def test_two_trailing_slashes_are_not_found(admin):
    assert_problem(admin.get("/accounts//"), 404)


# ---------------------------------------------------------------------------
# A 500 never shows internals
# ---------------------------------------------------------------------------

INTERNALS = re.compile(
    r"(?i)sqlstate|syntax|bigint|integer|out of range|displacement|postgres|libpq|PQ[a-z]|select |"
    r"\.c:|\bline \d|stack|errno|segfault|api_[a-z_]+\(|22P02|22003|22009|22008")


def test_a_500_shows_no_internals(admin, anon):
    """Requests that have made the server fail; if any still gives a 500, its
    body must be the generic problem, never database or C internals."""
    me = admin.get("/users/me").json["id"]
    acct = make_account(admin)
    triggers = [
        ("GET", "/users?cursor=" + b64("users|abc"), None, {}),
        ("GET", f"/users/{me}/tokens?cursor=" + b64("tokens|abc"), None, {}),
        ("GET", "/lookups/source?cursor=" + b64("lookups|-,5"), None, {}),
        ("GET", "/accounts?updated_since=2026-01-01T00:00:00%2B16:00", None, {}),
        ("GET", "/accounts?updated_since=2026-01-01T23:59:60.5Z", None, {}),
        ("PATCH", f"/accounts/{acct['id']}", {"notes": "x"}, {"If-Match": '"2147483648"'}),
        ("PATCH", f"/users/{me}", {"name": "Test Admin"}, {"If-Match": '"2147483648"'}),
    ]
    failures = []
    for method, path, body, headers in triggers:
        r = admin.request(method, path, body=body, headers=headers)
        if r.status != 500:
            assert 400 <= r.status < 500, (path, r)
            continue
        failures.append(path)
        doc = assert_problem(r, 500)
        assert doc["type"] == "/problems/internal"
        assert doc["errors"] == []
        assert set(doc) == {"type", "title", "status", "detail", "request_id", "errors"}
        assert not INTERNALS.search(r.body.decode()), r.body
        assert_request_id(r)
    if not failures:
        pytest.skip("no request known to cause a 500 still does")


# ---------------------------------------------------------------------------
# Limits enforced by the HTTP library itself
# ---------------------------------------------------------------------------

def _raw_exchange(data, timeout=10):
    with socket.create_connection((HOST, PORT), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
    return out


def test_a_long_request_target_is_a_414_problem(admin, anon):
    """8,192 bytes of path and query string are read; one more is a 414
    problem, before the token is looked at."""
    base = "/accounts?q="
    at_limit = base + "q" * (8192 - len(base))
    assert len(at_limit) == 8192
    r = admin.get(at_limit)
    assert_problem(r, 400, "q")  # read in full: the search text is too long, not the URL
    for client, path in ((admin, at_limit + "e"), (anon, "/accounts?q=" + "a" * 40000),
                         (anon, "/nope/" + "a" * 9000)):
        r = client.get(path)
        doc = assert_problem(r, 414)
        assert doc["type"] == "/problems/uri-too-long"
        assert str(len(path)) in doc["detail"] and "8192" in doc["detail"]
        assert_request_id(r)


def test_large_header_fields_are_a_431_problem(admin, anon):
    """16,384 bytes of header field lines are read; more is a 431 problem
    naming the largest field, before the token is looked at."""
    r = anon.get("/healthz", headers={"X-Filler": "b" * 40000})
    doc = assert_problem(r, 431, "X-Filler")
    assert doc["type"] == "/problems/request-header-fields-too-large"
    assert_request_id(r)
    r = admin.get("/users/me", headers={"X-Filler": "b" * 9000})
    assert r.status == 200, r  # well within the limit with the client's other fields
    r = admin.get("/users/me", headers={"X-One": "b" * 9000, "X-Two": "c" * 9000})
    assert_problem(r, 431)
    r = admin.get("/users/me", headers={"X-Request-Id": "mine-1", "X-Filler": "b" * 20000})
    doc = assert_problem(r, 431, "X-Filler")
    assert r.headers["x-request-id"] == "mine-1"


def test_a_head_past_the_connection_buffer_is_refused_by_the_http_layer(admin_token):
    """Past 65,536 bytes the request line and headers cannot be read at all:
    libmicrohttpd answers 414 or 431 itself (documented in openapi.yaml's
    introduction), and the server goes on serving."""
    out = _raw_exchange(b"GET /accounts?q=" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 414 "), out[:200]
    out = _raw_exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"b" * 70000 + b"\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 431 "), out[:200]
    assert Client(None).get("/readyz").status == 200


# ---------------------------------------------------------------------------
# Concurrency smoke test
# ---------------------------------------------------------------------------

def test_fifty_parallel_mixed_requests(admin):
    acct = make_account(admin)
    mix = [
        (lambda c: c.get("/healthz"), 200),
        (lambda c: c.get("/readyz"), 200),
        (lambda c: c.get("/accounts?limit=5"), 200),
        (lambda c: c.post("/accounts", {"name": unique("par")}), 201),
        (lambda c: c.get(f"/accounts/{acct['id']}"), 200),
        (lambda c: c.get("/users/me"), 200),
        (lambda c: c.get("/lookups"), 200),
        (lambda c: c.get("/lookups/source"), 200),
        (lambda c: c.post("/accounts", {"name": ""}), 422),
        (lambda c: c.get("/accounts/0"), 404),
        (lambda c: c.get("/accounts?colour=red"), 400),
        (lambda c: c.request("DELETE", "/accounts"), 405),
        (lambda c: c.post("/accounts", raw=b"{", content_type="application/json"), 400),
    ]
    jobs = [mix[i % len(mix)] for i in range(50)]
    barrier = threading.Barrier(len(jobs))

    def run(job):
        fn, expected = job
        barrier.wait(timeout=30)
        return fn(admin), expected

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(run, jobs))
    created = []
    for resp, expected in results:
        assert resp.status == expected, resp
        assert_request_id(resp)
        if expected >= 400:
            assert_problem(resp, expected)
        elif expected == 201:
            created.append(resp.json["id"])
        else:
            json.loads(resp.body)
    assert len(set(created)) == len(created) == sum(1 for _, e in jobs if e == 201)
    assert len({r.headers["x-request-id"] for r, _ in results}) == 50
    for account_id in created:
        assert admin.get(f"/accounts/{account_id}").status == 200


# ---------------------------------------------------------------------------
# Idle and half-sent connections do not block others
# ---------------------------------------------------------------------------

def test_idle_connections_do_not_block_others(admin_token):
    token = admin_token.encode()
    held = []
    try:
        for _ in range(8):  # more than the server's threads
            s = socket.create_connection((HOST, PORT), timeout=10)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
            held.append(s)
        for _ in range(8):
            s = socket.create_connection((HOST, PORT), timeout=10)
            s.sendall(b"POST /accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
                      + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":")
            held.append(s)
        for _ in range(4):
            held.append(socket.create_connection((HOST, PORT), timeout=10))  # nothing sent at all
        time.sleep(0.3)
        client = Client(admin_token)
        start = time.monotonic()
        for _ in range(3):
            assert client.get("/healthz").status == 200
            assert client.get("/accounts?limit=1").status == 200
            r = client.post("/accounts", {"name": unique("meanwhile")})
            assert r.status == 201, r
        assert time.monotonic() - start < 5, "requests were held up by idle connections"
    finally:
        for s in held:
            s.close()
    assert Client(None).get("/readyz").status == 200


# ---------------------------------------------------------------------------
# Database down -> 503 + Retry-After, and recovery (keep this test last)
# ---------------------------------------------------------------------------

def _pg(*args):
    return subprocess.run([str(ROOT / "scripts" / "pg.sh"), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def _wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def _pg_env():
    pg_dir, pg_port = os.environ.get("PG_TEST_DIR"), os.environ.get("PG_TEST_PORT")
    if not pg_dir or not pg_port:
        pytest.skip("PG_TEST_DIR/PG_TEST_PORT not set (run through scripts/test-api.sh)")
    return pg_dir, pg_port


def _parallel_round(client, path, n=16):
    """n concurrent GETs (so every pooled database connection is used); their statuses."""
    barrier = threading.Barrier(n)

    def one(_):
        barrier.wait(timeout=30)
        return client.get(path).status

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def _drain_stale_connections(client):
    """Leaves the server with working pooled connections for the tests that
    follow: rounds of parallel requests until three rounds in a row are clean."""
    clean = 0
    for _ in range(30):
        clean = clean + 1 if set(_parallel_round(client, "/readyz")) == {200} else 0
        if clean == 3:
            return
    pytest.fail("the service kept failing requests after the database came back")


def test_pooled_connections_survive_a_database_restart(admin, anon):
    pg_dir, pg_port = _pg_env()
    assert set(_parallel_round(admin, "/accounts?limit=1")) == {200}  # every pooled connection is open now
    stopped = _pg("stop", pg_dir)
    try:
        assert stopped.returncode == 0, stopped.stderr
        assert admin.get("/accounts?limit=1").status == 503  # one request sees the outage
    finally:
        started = _pg("start", pg_dir, pg_port)
        assert started.returncode == 0, started.stderr
    try:
        assert _wait_for(lambda: anon.get("/readyz").status == 200, 10)
        # The database is back: from now on no request may fail.
        statuses = []
        for _ in range(5):
            statuses += _parallel_round(admin, "/accounts?limit=1")
        assert set(statuses) == {200}, statuses
    finally:
        _drain_stale_connections(anon)


def test_database_down_gives_503_and_service_recovers(admin, anon):
    pg_dir, pg_port = _pg_env()
    acct = make_account(admin)  # also warms the pool: its connections break below
    _, unchecked = make_user(admin, "admin")  # a token no request has checked (none is cached)
    stopped = _pg("stop", pg_dir)
    try:
        assert stopped.returncode == 0, stopped.stderr
        for _ in range(3):  # broken pooled connections first, then failed reconnects
            r = admin.get("/accounts?limit=1")
            assert_problem(r, 503)
            assert r.json["type"] == "/problems/unavailable"
            assert r.headers["retry-after"] == "1"
            assert_request_id(r)
        r = admin.post("/accounts", {"name": unique("down")})
        assert_problem(r, 503)
        assert r.headers["retry-after"] == "1"
        r = admin.get(f"/accounts/{acct['id']}")
        assert_problem(r, 503)
        ready = anon.get("/readyz")
        assert_problem(ready, 503)
        assert ready.headers["retry-after"] == "1"
        health = anon.get("/healthz")
        assert health.status == 200 and health.json == {"status": "ok"}
        # Every operation documenting 503 answers it: no token can be checked.
        swept = 0
        for op in documented.load():
            if "503" in op.statuses and not op.public:
                r = unchecked.request(op.method, op.path, raw=b"{}" if op.has_body else None)
                assert_problem(r, 503)
                assert r.headers["retry-after"] == "1", (op, r.headers)
                swept += 1
        assert swept >= 40
    finally:
        started = _pg("start", pg_dir, pg_port)
        assert started.returncode == 0, started.stderr
    assert _wait_for(lambda: anon.get("/readyz").status == 200, 10), "service did not become ready again"
    assert _wait_for(lambda: admin.get("/accounts?limit=1").status == 200, 10), "GET /accounts did not recover"
    got = admin.get(f"/accounts/{acct['id']}")
    assert got.status == 200 and got.json["id"] == acct["id"]
    r = admin.post("/accounts", {"name": unique("back")})
    assert r.status == 201, r
    _drain_stale_connections(anon)
