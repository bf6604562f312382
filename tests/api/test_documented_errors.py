"""Every operation answers the common refusals openapi.yaml documents for
it, driven by the document itself (an operation added to it is held to the
same): an unknown query parameter is a 400 naming it, a missing token a 401
with WWW-Authenticate, a body over 1 MiB a 413, a body of another media
type a 415, and a database error nobody foresaw a 500 that shows no
internals. The ids in the paths need not exist: each answer comes before
the record is looked up. (503 for every operation: test_http_conventions,
while the database is down.)"""
import os
import re
import subprocess

import pytest

from conftest import BIN, Client, assert_problem
from documented import load, with_status
from private_server import PrivateServer, private_database, psql

MIB = 1048576


def body_for(op):
    return b"{}" if op.has_body else None


@pytest.mark.parametrize("op", with_status(400))
def test_unknown_query_parameter_is_400(admin, op):
    r = admin.request(op.method, op.path + "?no_such_parameter=1", raw=body_for(op))
    doc = assert_problem(r, 400, "no_such_parameter")
    assert doc["type"] == "/problems/bad-request"


@pytest.mark.parametrize("op", with_status(401))
def test_missing_token_is_401(anon, op):
    assert not op.public
    r = anon.request(op.method, op.path, raw=body_for(op))
    assert_problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("op", with_status(413, body=True))
def test_body_over_1mib_is_413(admin, op):
    body = b"{" + b" " * MIB + b"}"
    r = admin.request(op.method, op.path, raw=body)
    doc = assert_problem(r, 413)
    assert doc["type"] == "/problems/payload-too-large"


@pytest.mark.parametrize("op", with_status(415, body=True))
def test_body_of_another_media_type_is_415(admin, op):
    r = admin.request(op.method, op.path, raw=b"name=x", content_type="application/x-www-form-urlencoded")
    doc = assert_problem(r, 415)
    assert doc["type"] == "/problems/unsupported-media-type"


def test_every_operation_with_a_body_documents_413_and_415():
    """The refusals above apply to every body; the document must say so."""
    for op in load():
        if op.has_body:
            assert {"413", "415"} <= op.statuses, op
        if not op.public:
            assert "401" in op.statuses, op


INTERNALS = re.compile(r"(?i)injected|sqlstate|P0001|postgres|libpq|PQ[a-z]|trigger|\.c:|\bline \d|errno")


@pytest.fixture(scope="module")
def failing_database_server():
    """A server whose token checks meet an SQL error the code has no answer
    for: on a database of its own, a trigger makes recording a token's
    first use (last_used_at) raise, and the token was never used. Every
    request needing a token then fails in the database: our 500."""
    with private_database() as (url, _):
        env = dict(os.environ, DATABASE_URL=url, LOG_LEVEL="error")
        subprocess.run([BIN, "migrate"], env=env, check=True, capture_output=True, timeout=120)
        out = subprocess.run([BIN, "create-admin", "--name", "Root", "--email", "root@example.com"], env=env,
                             check=True, capture_output=True, text=True, timeout=120)
        psql(url, "CREATE FUNCTION injected_failure() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$BEGIN RAISE EXCEPTION 'injected failure in a trigger'; END$$; "
                  "CREATE TRIGGER injected_failure BEFORE UPDATE ON api_tokens "
                  "FOR EACH ROW EXECUTE FUNCTION injected_failure()")
        server = PrivateServer(env={"DATABASE_URL": url})
        try:
            yield Client(out.stdout.strip(), base=server.base)
        finally:
            status = server.stop()
            reports = server.sanitizer_reports()
            assert status == 0, f"private server exited with {status}; log: {server.log_path}"
            assert not reports, reports[:20]
            server.log_path.unlink(missing_ok=True)


@pytest.mark.parametrize("op", with_status(500))
def test_unforeseen_database_error_is_a_500_without_internals(failing_database_server, op):
    r = failing_database_server.request(op.method, op.path, raw=body_for(op))
    doc = assert_problem(r, 500)
    assert doc["type"] == "/problems/internal" and doc["errors"] == []
    assert set(doc) == {"type", "title", "status", "detail", "request_id", "errors"}
    assert not INTERNALS.search(r.body.decode()), r.body
