"""CORS (SPEC §8) over real HTTP. The suite's server runs with
CORS_ORIGINS=http://localhost:5173,http://127.0.0.1:<API_PORT+1>
(scripts/test-api.sh); servers with CORS_ORIGINS=* and with CORS off run on
API_PORT+3 for the tests that need them."""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import API_URL, BIN, Response, assert_problem, make_account, record_exchange

ROOT = Path(__file__).resolve().parents[2]
API_PORT = urlsplit(API_URL).port
EXTRA_PORT = API_PORT + 3
ALLOWED = "http://localhost:5173"
OTHER = "http://localhost:5174"
EXPOSED = "ETag, Location, X-Request-Id, Retry-After, Content-Disposition"
ALLOWED_HEADERS = "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Request-Id"


class Reply(Response):
    """A reply with every header line kept, so a header sent twice shows."""

    def __init__(self, status, header_lines, body):
        super().__init__(status, {k.lower(): v for k, v in header_lines}, body)
        self.header_lines = header_lines  # [(name, value)]

    def values(self, name):
        return [v for k, v in self.header_lines if k.lower() == name.lower()]

    def cors(self):
        return {k.lower(): v for k, v in self.header_lines if k.lower().startswith("access-control-")}

    def __repr__(self):
        return f"<Reply {self.status} {self.header_lines} {self.body[:300]!r}>"


def send(method, path, token=None, origin=None, headers=None, body=None, base=API_URL):
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    hdrs = {}
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    if origin:
        hdrs["Origin"] = origin
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    reply = Reply(resp.status, resp.getheaders(), resp.read())
    conn.close()
    if base == API_URL:  # the suite's server: its answers are checked against openapi.yaml
        record_exchange(method, path, reply.status, reply.header_lines, reply.body)
    return reply


def preflight(path, origin=ALLOWED, method="GET", base=API_URL, **kw):
    headers = {"Access-Control-Request-Method": method,
               "Access-Control-Request-Headers": "authorization,content-type"}
    headers.update(kw.pop("headers", {}))
    return send("OPTIONS", path, origin=origin, headers=headers, base=base, **kw)


def assert_varies_on_origin(reply):
    """One Vary header, naming Origin once."""
    vary = reply.values("Vary")
    assert len(vary) == 1, reply
    tokens = [t.strip().lower() for t in vary[0].split(",")]
    assert tokens.count("origin") == 1, reply


def assert_readable(reply, origin=ALLOWED):
    """What every reply to an allowed origin carries (list policy)."""
    assert reply.values("Access-Control-Allow-Origin") == [origin], reply
    assert reply.values("Access-Control-Expose-Headers") == [EXPOSED], reply
    assert "access-control-allow-credentials" not in reply.cors(), reply
    assert_varies_on_origin(reply)


def assert_not_readable(reply):
    assert reply.cors() == {}, reply


# ------------------------------------------------------------- preflights

def openapi_paths():
    """{path template: [METHODS]} of openapi.yaml, OPTIONS left out."""
    paths, current = {}, None
    for line in (ROOT / "openapi.yaml").read_text().splitlines():
        if re.match(r"^\S", line):
            current = None
        m = re.match(r"^  (/\S*):\s*$", line)
        if m and line.startswith("  /"):
            current = m.group(1)
            paths[current] = []
            continue
        m = re.match(r"^    (get|put|post|patch|delete|head)\s*:\s*$", line)
        if current and m:
            paths[current].append(m.group(1).upper())
    assert len(paths) > 20, "openapi.yaml's paths were not found"
    return paths


SAMPLES = {"id": "1", "item_id": "1", "line_id": "1", "delivery_id": "1", "table": "source", "external_id": "crm-1", "asset": "redoc.js"}


def concrete(template):
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], template)


@pytest.mark.parametrize("template,methods", sorted(openapi_paths().items()))
def test_preflight_answers_with_the_methods_of_the_path(template, methods):
    """No token; Allow-Methods is the route table's list for the path, the
    very methods openapi.yaml documents for it."""
    r = preflight(concrete(template), method=methods[0])
    assert r.status == 204, r
    assert r.body == b""
    assert_readable(r)
    allowed = r.values("Access-Control-Allow-Methods")
    assert len(allowed) == 1 and sorted(allowed[0].split(", ")) == sorted(methods), (allowed, methods)
    assert r.values("Allow") == allowed
    assert r.values("Access-Control-Allow-Headers") == [ALLOWED_HEADERS]
    assert r.values("Access-Control-Max-Age") == ["600"]
    assert r.values("X-Request-Id")


def test_preflight_ignores_any_token():
    """A browser never sends credentials with a preflight; a bad token
    sent anyway changes nothing."""
    r = preflight("/accounts", method="POST", token="crm_not-a-real-token")
    assert r.status == 204, r
    assert r.values("Access-Control-Allow-Methods") == ["GET, POST"]


def test_preflight_from_the_page_origin_of_the_browser_test():
    origin = f"http://127.0.0.1:{API_PORT + 1}"
    r = preflight("/accounts/7", origin=origin, method="PATCH")
    assert r.status == 204, r
    assert_readable(r, origin)
    assert r.values("Access-Control-Allow-Methods") == ["GET, PATCH, DELETE"]


@pytest.mark.parametrize("origin", [
    OTHER,
    "http://localhost:5173/",  # origins are compared exactly
    "https://localhost:5173",
    "http://LOCALHOST:5173",
    "http://localhost",
    "http://localhost:5173.evil.example",
    "http://127.0.0.1:5173",
    "null",
])
def test_preflight_from_an_origin_not_allowed_is_403_without_cors_headers(origin):
    r = preflight("/accounts", origin=origin, method="POST")
    doc = assert_problem(r, 403, "Origin")
    assert doc["type"] == "/problems/forbidden"
    assert_not_readable(r)
    assert_varies_on_origin(r)  # the answer depends on Origin


@pytest.mark.parametrize("template,methods", sorted(openapi_paths().items()))
def test_preflight_from_an_origin_not_allowed_is_403_on_every_path(template, methods):
    r = preflight(concrete(template), origin=OTHER, method=methods[0])
    assert_problem(r, 403, "Origin")
    assert_not_readable(r)


def test_options_on_an_unknown_path_is_404():
    for path in ("/nothing", "/accounts/1/nothing", "/accounts/1/opportunities/2"):
        r = preflight(path)
        assert_problem(r, 404)
        assert_readable(r)  # the page may read why
        assert "access-control-allow-methods" not in r.cors()


def test_options_that_is_no_preflight_gets_allow():
    """Without Origin or without Access-Control-Request-Method an OPTIONS
    is a plain HTTP OPTIONS: 204 with Allow, no token."""
    r = send("OPTIONS", "/accounts")
    assert r.status == 204 and r.body == b"", r
    assert r.values("Allow") == ["GET, POST"]
    assert_not_readable(r)
    r = send("OPTIONS", "/users/me", origin=ALLOWED)
    assert r.status == 204, r
    assert r.values("Allow") == ["GET"]
    assert_readable(r)
    assert "access-control-allow-methods" not in r.cors() and "access-control-max-age" not in r.cors()
    r = send("OPTIONS", "/accounts", origin=OTHER)
    assert r.status == 204 and r.values("Allow") == ["GET, POST"], r
    assert_not_readable(r)


# ------------------------------------------------- replies to real requests

def requests_of_each_kind(admin_token, account):
    """(label, expected status, request) for each kind of reply."""
    etag = f'"{account["version"]}"'
    path = f"/accounts/{account['id']}"
    t = admin_token
    return [
        ("200", 200, lambda o: send("GET", "/accounts?limit=2", t, o)),
        ("201", 201, lambda o: send("POST", "/accounts", t, o, body={"name": f"CORS {uuid.uuid4().hex[:8]}"})),
        ("304", 304, lambda o: send("GET", path, t, o, headers={"If-None-Match": etag})),
        ("400", 400, lambda o: send("GET", "/accounts?bogus=1", t, o)),
        ("401", 401, lambda o: send("GET", "/accounts", None, o)),
        ("401-bad-token", 401, lambda o: send("GET", "/accounts", "crm_nope", o)),
        ("404", 404, lambda o: send("GET", "/accounts/999999999", t, o)),
        ("404-path", 404, lambda o: send("GET", "/nothing", t, o)),
        ("405", 405, lambda o: send("PUT", "/accounts", t, o, body={})),
        ("412", 412, lambda o: send("PATCH", path, t, o, headers={"If-Match": '"999"'}, body={"notes": "x"})),
        ("415", 415, lambda o: send("POST", "/accounts", t, o, headers={"Content-Type": "text/plain"}, body={})),
        ("422", 422, lambda o: send("POST", "/accounts", t, o, body={"name": "", "bogus": 1})),
    ]


KINDS = ["200", "201", "304", "400", "401", "401-bad-token", "404", "404-path", "405", "412", "415", "422"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_reply_to_an_allowed_origin_is_readable(admin, admin_token, kind):
    account = make_account(admin)
    label, status, request = next(c for c in requests_of_each_kind(admin_token, account) if c[0] == kind)
    r = request(ALLOWED)
    assert r.status == status, r
    assert_readable(r)
    if status >= 400:
        assert_problem(r, status)
    if status == 201:
        assert r.values("Location") and r.values("ETag")


@pytest.mark.parametrize("kind", KINDS)
def test_replies_to_other_origins_and_to_no_origin_carry_no_cors_headers(admin, admin_token, kind):
    """The server answers as usual (the browser hides the reply from the
    page); with a list of origins every reply says that it varies on Origin."""
    account = make_account(admin)
    label, status, request = next(c for c in requests_of_each_kind(admin_token, account) if c[0] == kind)
    for origin in (OTHER, None):
        r = request(origin)
        assert r.status == status, r
        assert_not_readable(r)
        assert_varies_on_origin(r)


def test_a_replayed_idempotent_write_is_readable(admin_token):
    key = f"cors-{uuid.uuid4().hex}"
    body = {"name": f"CORS keyed {uuid.uuid4().hex[:8]}"}
    first = send("POST", "/accounts", admin_token, ALLOWED, headers={"Idempotency-Key": key}, body=body)
    again = send("POST", "/accounts", admin_token, ALLOWED, headers={"Idempotency-Key": key}, body=body)
    assert first.status == again.status == 201, (first, again)
    assert again.values("Idempotent-Replayed") == ["true"]
    assert again.json["id"] == first.json["id"]
    assert_readable(first)
    assert_readable(again)


def test_vary_merges_with_accept_into_one_header(admin_token):
    """The forecast results vary on Accept already: one Vary names both."""
    path = "/reports/forecast?period=this_year&format=csv"
    for origin in (ALLOWED, OTHER, None):
        r = send("GET", path, admin_token, origin)
        assert r.status == 200, r
        assert r.values("Vary") == ["Accept, Origin"], r
    r = send("GET", path, admin_token, ALLOWED)
    assert_readable(r)
    assert r.values("Content-Disposition") == ['attachment; filename="forecast.csv"']


# ------------------------------------ servers with other CORS_ORIGINS values

class ExtraServer:
    """The binary under test on EXTRA_PORT with its own CORS_ORIGINS and the
    suite's database; stopped with SIGTERM, which must exit 0."""

    def __init__(self, cors_origins):
        if "DATABASE_URL" not in os.environ:
            pytest.skip("DATABASE_URL not set (run through scripts/test-api.sh)")
        self.base = f"http://127.0.0.1:{EXTRA_PORT}"
        self.log_path = Path(BIN).resolve().parent / f"test-cors-{EXTRA_PORT}.log"
        env = dict(os.environ, PORT=str(EXTRA_PORT), BIND="127.0.0.1", THREADS="2", LOG_LEVEL="info",
                   CORS_ORIGINS=cors_origins)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([BIN, "serve"], stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def __enter__(self):
        deadline = time.monotonic() + 60
        while True:
            try:
                if send("GET", "/healthz", base=self.base).status == 200:
                    return self.base
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                pytest.fail(f"server with other CORS_ORIGINS did not start; log: {self.log_path}")
            time.sleep(0.1)

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        text = self.log_path.read_text(errors="replace")
        assert self.proc.returncode == 0, f"exit {self.proc.returncode}; log: {self.log_path}"
        assert not re.search(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:", text), text[-4000:]
        self.log_path.unlink()
        return False


def test_star_allows_every_origin_without_vary(admin_token):
    with ExtraServer("*") as base:
        for origin in (OTHER, "https://anywhere.example", "null"):
            r = preflight("/accounts/1", origin=origin, method="DELETE", base=base)
            assert r.status == 204, r
            assert r.values("Access-Control-Allow-Origin") == ["*"]
            assert r.values("Access-Control-Allow-Methods") == ["GET, PATCH, DELETE"]
            assert r.values("Access-Control-Allow-Headers") == [ALLOWED_HEADERS]
            assert r.values("Access-Control-Max-Age") == ["600"]
            assert "access-control-allow-credentials" not in r.cors()
        for token, status in ((admin_token, 200), (None, 401)):
            r = send("GET", "/accounts?limit=1", token, OTHER, base=base)
            assert r.status == status, r
            assert r.values("Access-Control-Allow-Origin") == ["*"]
            assert r.values("Access-Control-Expose-Headers") == [EXPOSED]
            assert r.values("Vary") == []
            assert "access-control-allow-credentials" not in r.cors()
        r = send("GET", "/reports/forecast?period=this_year&format=csv", admin_token, OTHER, base=base)
        assert r.status == 200 and r.values("Vary") == ["Accept"], r
        r = send("GET", "/accounts?limit=1", admin_token, None, base=base)
        assert r.status == 200 and r.cors() == {}, r


def test_cors_off_sends_no_cors_header_at_all(admin_token):
    with ExtraServer("") as base:
        for token, status in ((admin_token, 200), (None, 401)):
            r = send("GET", "/accounts?limit=1", token, ALLOWED, base=base)
            assert r.status == status, r
            assert r.cors() == {} and r.values("Vary") == [], r
        r = preflight("/accounts", origin=ALLOWED, method="POST", base=base)
        assert_problem(r, 403, "Origin")
        assert r.cors() == {} and r.values("Vary") == [], r
        r = send("OPTIONS", "/accounts", base=base)
        assert r.status == 204 and r.values("Allow") == ["GET, POST"], r


# ------------------------------------------------- the setting at start-up

@pytest.mark.parametrize("value,why", [
    ("https://app.example.com/", "no path"),
    ("app.example.com", "scheme://host"),
    ("https://App.example.com", "lower case"),
    ("http://localhost:80", "default port"),
    ("http://localhost:0", "1 to 65535"),
    ("http://localhost:5173,,https://app.example.com", "empty origin"),
    ("*, http://localhost:5173", "stands alone"),
    ("null", "cannot be allowed"),
])
def test_a_malformed_origin_stops_the_start(value, why):
    env = dict(os.environ, PORT=str(EXTRA_PORT), CORS_ORIGINS=value)
    out = subprocess.run([BIN, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out
    assert "CORS_ORIGINS" in out.stderr and why in out.stderr, out.stderr
    with pytest.raises(OSError):  # it never listened
        socket.create_connection(("127.0.0.1", EXTRA_PORT), timeout=2).close()


def test_every_bad_variable_is_reported_at_once():
    env = dict(os.environ, PORT="0", CORS_ORIGINS="https://app.example.com/")
    out = subprocess.run([BIN, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "PORT" in out.stderr and "CORS_ORIGINS" in out.stderr, out.stderr


def test_a_good_list_is_accepted():
    env = dict(os.environ, CORS_ORIGINS=" https://app.example.com , http://localhost:5173,http://[::1]:8081 ",
               LOG_LEVEL="error")
    out = subprocess.run([BIN, "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
