"""Shared fixtures: a client for the running server (started by
scripts/test-api.sh), an admin token made with the binary itself, and
helpers to make users, tokens and accounts. Every exchange made through
Client (or handed to record_exchange) is appended to CONFORMANCE_LOG, which
tests/conformance/check.py validates against openapi.yaml after the run."""
import base64
import http.client
import json
import os
import subprocess
import threading
import uuid
from urllib.parse import urlsplit

import pytest

API_URL = os.environ.get("API_URL", "http://127.0.0.1:18080")
BIN = os.environ.get("CRM_API_BIN", "bin/crm-api")
CONFORMANCE_LOG = os.environ.get("CONFORMANCE_LOG")
_record_lock = threading.Lock()


def record_exchange(method, target, status, header_pairs, body):
    """Appends one exchange (one JSON line) to CONFORMANCE_LOG, if set.
    header_pairs keeps repeated headers; body is the bytes received."""
    if not CONFORMANCE_LOG:
        return
    line = json.dumps({
        "method": method, "target": target, "status": status,
        "headers": [[k, v] for k, v in header_pairs],
        "body": base64.b64encode(body).decode(),
    })
    with _record_lock, open(CONFORMANCE_LOG, "a") as log:
        log.write(line + "\n")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names
        self.body = body  # bytes

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def content_type(self):
        return self.headers.get("content-type", "")

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


class Client:
    """A raw HTTP client: sends exactly the bytes and headers given."""

    def __init__(self, token=None, base=API_URL, record=True):
        self.token = token
        self.record = record  # False: not an exchange openapi.yaml describes
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port

    def request(self, method, path, body=None, headers=None, raw=None, content_type="application/json"):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        hdrs = {}
        if self.token:
            hdrs["Authorization"] = f"Bearer {self.token}"
        data = None
        if raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
        elif body is not None:
            data = json.dumps(body).encode()
        if data is not None and content_type:
            hdrs["Content-Type"] = content_type
        hdrs.update(headers or {})
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        out = Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        conn.close()
        if self.record:
            record_exchange(method, path, out.status, resp.getheaders(), out.body)
        return out

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def assert_problem(resp, status, field=None):
    """Checks an RFC 9457 problem reply; field, when given, must be listed."""
    assert resp.status == status, resp
    assert resp.content_type.startswith("application/problem+json"), resp.headers
    doc = resp.json
    assert doc["status"] == status
    assert doc["type"].startswith("/problems/")
    assert doc["title"] and doc["detail"]
    assert doc["request_id"] == resp.headers["x-request-id"]
    assert isinstance(doc["errors"], list)
    if field is not None:
        fields = [e["field"] for e in doc["errors"]]
        assert field in fields, doc
    return doc


def unique(prefix="x"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def admin_token():
    out = subprocess.run(
        [BIN, "create-admin", "--name", "Test Admin", "--email", f"{unique('admin')}@example.com"],
        check=True, capture_output=True, text=True, env=dict(os.environ, LOG_LEVEL="error"),
    )
    token = out.stdout.strip()
    assert token.startswith("crm_")
    return token


@pytest.fixture(scope="session")
def admin(admin_token):
    return Client(admin_token)


@pytest.fixture(scope="session")
def anon():
    return Client(None)


def make_user(admin, role="member", name=None):
    """Creates a user and a token; returns (user json, Client)."""
    r = admin.post("/users", {"name": name or unique("User"), "email": f"{unique('u')}@example.com", "role": role})
    assert r.status == 201, r
    user = r.json
    t = admin.post(f"/users/{user['id']}/tokens", {"name": "tests"})
    assert t.status == 201, t
    return user, Client(t.json["token"])


@pytest.fixture
def member(admin):
    return make_user(admin, "member")


@pytest.fixture
def member_client(member):
    return member[1]


def make_account(client, **fields):
    body = {"name": unique("Account")}
    body.update(fields)
    r = client.post("/accounts", body)
    assert r.status == 201, r
    return r.json
