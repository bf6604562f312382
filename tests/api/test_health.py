"""Public endpoints: liveness, readiness, the OpenAPI document."""
from conftest import assert_problem


def test_healthz(anon):
    r = anon.get("/healthz")
    assert r.status == 200
    assert r.json == {"status": "ok"}
    assert len(r.headers["x-request-id"]) == 32


def test_readyz(anon):
    r = anon.get("/readyz")
    assert r.status == 200
    assert r.json == {"status": "ready"}


def test_openapi_document(anon):
    r = anon.get("/openapi.yaml")
    assert r.status == 200
    assert r.content_type.startswith("application/yaml")
    assert b"openapi: 3.1" in r.body
    assert b"/accounts/by-external-id/{external_id}" in r.body


def test_request_id_is_echoed(anon):
    r = anon.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"


def test_unusable_request_id_is_replaced(anon):
    r = anon.get("/healthz", headers={"X-Request-Id": "x" * 100})
    assert r.headers["x-request-id"] != "x" * 100
    assert len(r.headers["x-request-id"]) == 32


def test_unknown_path_is_404_problem(anon):
    assert_problem(anon.get("/nope"), 404)


def test_public_endpoint_refuses_unknown_query_parameter(anon):
    assert_problem(anon.get("/healthz?verbose=1"), 400, "verbose")
