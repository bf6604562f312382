"""Bad input, table-driven: every case is a request a careless or hostile
client could send to a real endpoint, and the exact 4xx a correct API
answers. Each case also checks the RFC 9457 problem shape (type, title,
status, detail, request_id, errors), the field named where one applies, that
the answer is never a 5xx, and that the service is still ready afterwards.

Cases that hang a worker thread run against a private, throwaway server
(same binary, same database) so the shared server stays usable."""
import base64
import http.client
from dataclasses import dataclass, field as dc_field
from typing import Optional, Tuple, Union
from urllib.parse import quote, urlsplit

import pytest

from conftest import API_URL, Client, assert_problem, make_user, record_exchange, unique
from private_server import PrivateServer

MIB = 1048576

SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    414: "uri-too-long",
    415: "unsupported-media-type",
    422: "validation",
    431: "request-header-fields-too-large",
}


# ---------------------------------------------------------------------------
# Helpers private to this file
# ---------------------------------------------------------------------------

class _Latin1Connection(http.client.HTTPConnection):
    """http.client refuses non-ASCII request targets; this one sends each
    character of the target as the byte of the same value, so a test can
    put raw (invalid UTF-8) bytes on the request line."""

    def _encode_request(self, request):
        return request.encode("latin-1")


def send(method, path, body=None, headers=None, content_type="application/json", token=None,
         chunked=False, raw_target=False, base=API_URL, timeout=30):
    """Sends one request and returns a conftest-style Response.

    body: bytes or None. chunked: send it with Transfer-Encoding: chunked
    (from a generator, as a streaming client would). raw_target: path is a
    str whose characters are sent as single bytes (latin-1)."""
    from conftest import Response

    parts = urlsplit(base)
    cls = _Latin1Connection if raw_target else http.client.HTTPConnection
    conn = cls(parts.hostname, parts.port, timeout=timeout)
    hdrs = {}
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    if body is not None and content_type:
        hdrs["Content-Type"] = content_type
    hdrs.update(headers or {})
    try:
        if chunked:
            def pieces(data=body, size=64 * 1024):
                for i in range(0, len(data), size):
                    yield data[i:i + size]

            conn.request(method, path, body=pieces(), headers=hdrs, encode_chunked=True)
        else:
            conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        out = Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        record_exchange(method, path, out.status, resp.getheaders(), out.body)
        return out
    finally:
        conn.close()


def b64(text):
    """A cursor-shaped value: base64url without padding."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def check_problem(resp, status, fields=(), allow=None):
    """The full problem contract for one case."""
    assert resp.status < 500, f"server error: {resp!r}"
    assert resp.status == status, resp
    assert resp.content_type.startswith("application/problem+json"), resp.headers
    doc = resp.json
    for key in ("type", "title", "status", "detail", "request_id", "errors"):
        assert key in doc, doc
    assert doc["type"] == f"/problems/{SLUGS[status]}", doc
    assert doc["status"] == status
    assert isinstance(doc["title"], str) and doc["title"]
    assert isinstance(doc["detail"], str) and doc["detail"]
    assert doc["request_id"] == resp.headers.get("x-request-id"), (doc, resp.headers)
    assert isinstance(doc["errors"], list)
    for e in doc["errors"]:
        assert set(e) == {"field", "message"}, e
        assert isinstance(e["field"], str) and isinstance(e["message"], str) and e["message"]
    named = [e["field"] for e in doc["errors"]]
    for f in fields:
        assert f in named, doc
    if status == 405:
        assert resp.headers.get("allow") == allow, resp.headers
    if status == 401:
        assert resp.headers.get("www-authenticate", "").startswith("Bearer"), resp.headers
    assert_problem(resp, status, fields[0] if fields else None)  # the shared helper agrees
    return doc


def assert_still_ready():
    r = Client(None).get("/readyz")
    assert r.status == 200, f"/readyz after the case: {r!r}"


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

@dataclass
class Case:
    id: str
    method: str
    path: str                      # may hold {account}, {me}
    status: int
    fields: Tuple[str, ...] = ()   # fields the problem must name
    body: Optional[Union[bytes, str]] = None
    content_type: Optional[str] = "application/json"
    headers: dict = dc_field(default_factory=dict)
    who: str = "admin"             # admin | anon | member
    chunked: bool = False
    raw_target: bool = False
    allow: Optional[str] = None    # expected Allow on 405
    bug: Optional[str] = None      # xfail reason (a server bug to fix)


def J(text):
    return text.encode() if isinstance(text, str) else text


A = "/accounts"
ACC = "/accounts/{account}"
PUT_EXT = "/accounts/by-external-id/{ext}"
USERS = "/users"
PRODUCT = "/lookups/product"


CASES = [
    # --- JSON syntax: 400 ------------------------------------------------
    Case("json-missing-value", "POST", A, 400, body=J('{"name": }')),
    Case("json-single-quotes", "POST", A, 400, body=J("{'name': 'x'}")),
    Case("json-trailing-comma", "POST", A, 400, body=J('{"name": "x",}')),
    Case("json-unquoted-key", "POST", A, 400, body=J('{name: "x"}')),
    Case("json-truncated-object", "POST", A, 400, body=J('{"name": "x"')),
    Case("json-truncated-string", "POST", A, 400, body=J('{"name": "x')),
    Case("json-truncated-escape", "POST", A, 400, body=J('{"name": "\\u12')),
    Case("json-empty-body", "POST", A, 400, body=b""),
    Case("json-whitespace-body", "POST", A, 400, body=b"  \r\n\t "),
    Case("json-trailing-garbage", "POST", A, 400, body=J('{"name": "x"} {}')),
    Case("json-nul-after-document", "POST", A, 400, body=b'{"name": "x"}\x00junk'),
    Case("json-duplicate-keys", "POST", A, 400, body=J('{"name": "a", "name": "b"}')),
    Case("json-duplicate-keys-patch", "PATCH", ACC, 400, body=J('{"notes": "a", "notes": null}')),
    Case("json-nan-literal", "POST", A, 400, body=J('{"name": "x", "owner_id": NaN}')),
    Case("json-leading-zero", "POST", A, 400, body=J('{"name": "x", "owner_id": 01}')),
    Case("json-comment", "POST", A, 400, body=J('{"name": "x" /* hi */}')),
    # --- top level is not an object: 400 -----------------------------------
    Case("top-array-empty", "POST", A, 400, body=J("[]")),
    Case("top-array-of-object", "POST", A, 400, body=J('[{"name": "x"}]')),
    Case("top-string", "POST", A, 400, body=J('"x"')),
    Case("top-number", "POST", A, 400, body=J("42")),
    Case("top-null", "POST", A, 400, body=J("null")),
    Case("top-true", "POST", A, 400, body=J("true")),
    Case("top-array-patch", "PATCH", ACC, 400, body=J('[{"op": "replace"}]')),
    Case("top-null-patch", "PATCH", ACC, 400, body=J("null"), content_type="application/merge-patch+json"),
    Case("top-string-put", "PUT", PUT_EXT, 400, body=J('"x"')),
    Case("top-array-users", "POST", USERS, 400, body=J("[]")),
    Case("top-number-product", "POST", PRODUCT, 400, body=J("12.50")),
    # --- bytes that are not UTF-8 / not representable: 400 -----------------
    Case("utf8-invalid-byte-ff", "POST", A, 400, body=b'{"name": "\xff"}'),
    Case("utf8-invalid-continuation", "POST", A, 400, body=b'{"name": "a\x80b"}'),
    Case("utf8-truncated-sequence", "POST", A, 400, body=b'{"name": "\xe2\x82"}'),
    Case("utf8-overlong-slash", "POST", A, 400, body=b'{"name": "\xc0\xaf"}'),
    Case("utf8-overlong-nul", "POST", A, 400, body=b'{"name": "\xc0\x80"}'),
    Case("utf8-overlong-3byte", "POST", A, 400, body=b'{"name": "\xe0\x80\xaf"}'),
    Case("utf8-encoded-surrogate", "POST", A, 400, body=b'{"name": "\xed\xa0\x80"}'),
    Case("utf8-beyond-u10ffff", "POST", A, 400, body=b'{"name": "\xf4\x90\x80\x80"}'),
    Case("utf8-invalid-in-key", "POST", A, 400, body=b'{"na\xffme": "x"}'),
    Case("utf8-invalid-patch", "PATCH", ACC, 400, body=b'{"notes": "\xfe"}'),
    Case("escape-lone-high-surrogate", "POST", A, 400, body=J('{"name": "\\ud800"}')),
    Case("escape-lone-low-surrogate", "POST", A, 400, body=J('{"name": "\\udc00x"}')),
    Case("escape-reversed-surrogates", "POST", A, 400, body=J('{"name": "\\udc00\\ud800"}')),
    # \u0000 is valid JSON but no text field can hold NUL; the parser refuses it.
    Case("escape-nul", "POST", A, 400, body=J('{"name": "a\\u0000b"}')),
    Case("escape-nul-users", "POST", USERS, 400,
         body=J('{"name": "x\\u0000", "email": "nul@example.com", "role": "member"}')),
    Case("raw-control-char", "POST", A, 400, body=b'{"name": "a\x01b"}'),
    Case("raw-nul-in-string", "POST", A, 400, body=b'{"name": "a\x00b"}'),
    # --- depth and numeric range: 400 --------------------------------------
    Case("nesting-10000-arrays", "POST", A, 400, body=b"[" * 10000),
    Case("nesting-10000-closed", "POST", A, 400, body=b'{"name": ' + b"[" * 10000 + b"]" * 10000 + b"}"),
    Case("nesting-10000-objects", "PATCH", ACC, 400, body=b'{"a":' * 10000 + b"1" + b"}" * 10000),
    # Numbers with a fraction or exponent reach the validator as written (no double):
    # out of any range, they are the named field's error.
    Case("number-1e400", "POST", A, 422, ("owner_id",), body=J('{"name": "x", "owner_id": 1e400}')),
    Case("number-minus-1e400", "POST", A, 422, ("name",), body=J('{"name": -1e400}')),
    Case("number-huge-integer", "POST", A, 422, ("owner_id",), body=J('{"name": "x", "owner_id": 99999999999999999999999}')),
    Case("number-leading-zero", "POST", PRODUCT, 400, body=J('{"label": "p", "unit_price": 01.5}')),
    Case("number-two-dots", "POST", PRODUCT, 400, body=J('{"label": "p", "unit_price": 1.2.3}')),
    Case("number-trailing-dot", "POST", PRODUCT, 400, body=J('{"label": "p", "unit_price": 1.}')),
    Case("string-with-reserved-marker", "POST", A, 400, body=J('{"name": "\\ue000Acme"}')),
    Case("number-huge-money", "POST", PRODUCT, 422, ("unit_price",), body=J('{"label": "p", "unit_price": 1e400}')),
    # --- accounts: wrong types / sizes: 422 naming the field --------------
    Case("acc-name-missing", "POST", A, 422, ("name",), body=J("{}")),
    Case("acc-name-number", "POST", A, 422, ("name",), body=J('{"name": 42}')),
    Case("acc-name-true", "POST", A, 422, ("name",), body=J('{"name": true}')),
    Case("acc-name-null", "POST", A, 422, ("name",), body=J('{"name": null}')),
    Case("acc-name-object", "POST", A, 422, ("name",), body=J('{"name": {"first": "x"}}')),
    Case("acc-name-array", "POST", A, 422, ("name",), body=J('{"name": ["x"]}')),
    Case("acc-name-empty", "POST", A, 422, ("name",), body=J('{"name": ""}')),
    Case("acc-name-201", "POST", A, 422, ("name",), body=J('{"name": "%s"}' % ("n" * 201))),
    Case("acc-name-201-multibyte", "POST", A, 422, ("name",), body=J('{"name": "%s"}' % ("\u00e9" * 201))),
    Case("acc-name-201-astral", "POST", A, 422, ("name",), body=J('{"name": "%s"}' % ("\U0001F600" * 201))),
    Case("acc-notes-10001", "POST", A, 422, ("notes",), body=J('{"name": "x", "notes": "%s"}' % ("z" * 10001))),
    Case("acc-notes-number", "POST", A, 422, ("notes",), body=J('{"name": "x", "notes": 1}')),
    Case("acc-website-501", "POST", A, 422, ("website",), body=J('{"name": "x", "website": "%s"}' % ("w" * 501))),
    Case("acc-phone-array", "POST", A, 422, ("phone",), body=J('{"name": "x", "phone": ["1"]}')),
    Case("acc-phone-object", "POST", A, 422, ("phone",), body=J('{"name": "x", "phone": {}}')),
    Case("acc-owner-string", "POST", A, 422, ("owner_id",), body=J('{"name": "x", "owner_id": "1"}')),
    Case("acc-owner-float", "POST", A, 422, ("owner_id",), body=J('{"name": "x", "owner_id": 1.5}')),
    Case("acc-owner-float-whole", "POST", A, 422, ("owner_id",), body=J('{"name": "x", "owner_id": 1.0}')),
    Case("acc-owner-zero", "POST", A, 422, ("owner_id",), body=J('{"name": "x", "owner_id": 0}')),
    Case("acc-owner-negative", "POST", A, 422, ("owner_id",), body=J('{"name": "x", "owner_id": -1}')),
    Case("acc-owner-null", "POST", A, 422, ("owner_id",), body=J('{"name": "x", "owner_id": null}')),
    Case("acc-owner-bool", "POST", A, 422, ("owner_id",), body=J('{"name": "x", "owner_id": true}')),
    Case("acc-owner-no-such-user", "POST", A, 422, ("owner_id",),
         body=J('{"name": "x", "owner_id": 9223372036854775807}')),
    Case("acc-source-object", "POST", A, 422, ("source_id",), body=J('{"name": "x", "source_id": {"id": 1}}')),
    Case("acc-source-no-such-item", "POST", A, 422, ("source_id",),
         body=J('{"name": "x", "source_id": 9223372036854775807}')),
    Case("acc-external-id-empty", "POST", A, 422, ("external_id",), body=J('{"name": "x", "external_id": ""}')),
    Case("acc-external-id-201", "POST", A, 422, ("external_id",),
         body=J('{"name": "x", "external_id": "%s"}' % ("e" * 201))),
    Case("acc-external-id-number", "POST", A, 422, ("external_id",), body=J('{"name": "x", "external_id": 7}')),
    Case("acc-unknown-field", "POST", A, 422, ("colour",), body=J('{"name": "x", "colour": "red"}')),
    Case("acc-readonly-id", "POST", A, 422, ("id",), body=J('{"name": "x", "id": 5}')),
    Case("acc-readonly-version", "POST", A, 422, ("version",), body=J('{"name": "x", "version": 1}')),
    Case("acc-readonly-created-at", "POST", A, 422, ("created_at",),
         body=J('{"name": "x", "created_at": "2026-01-01T00:00:00Z"}')),
    Case("acc-readonly-deleted-at-null", "POST", A, 422, ("deleted_at",), body=J('{"name": "x", "deleted_at": null}')),
    Case("acc-every-error-listed", "POST", A, 422, ("name", "owner_id", "notes", "colour", "id"),
         body=J('{"name": 5, "owner_id": "me", "notes": [], "colour": 1, "id": 1}')),
    # --- account patch -----------------------------------------------------
    Case("patch-name-null", "PATCH", ACC, 422, ("name",), body=J('{"name": null}')),
    Case("patch-name-201", "PATCH", ACC, 422, ("name",), body=J('{"name": "%s"}' % ("n" * 201))),
    Case("patch-notes-10001", "PATCH", ACC, 422, ("notes",), body=J('{"notes": "%s"}' % ("z" * 10001))),
    Case("patch-owner-string", "PATCH", ACC, 422, ("owner_id",), body=J('{"owner_id": "2"}')),
    Case("patch-website-bool", "PATCH", ACC, 422, ("website",), body=J('{"website": false}')),
    Case("patch-unknown-field", "PATCH", ACC, 422, ("nmae",), body=J('{"nmae": "typo"}')),
    Case("patch-readonly-updated-at", "PATCH", ACC, 422, ("updated_at",),
         body=J('{"updated_at": "2026-01-01T00:00:00Z"}')),
    Case("patch-malformed", "PATCH", ACC, 400, body=J('{"name": "x",')),
    # More refused fields than a problem lists (64): the ones left unlisted
    # must not reach the database's check as if they were valid.
    Case("patch-many-unknown-then-bad-type", "PATCH", ACC, 422, ("u0",),
         body=J("{%s, \"owner_id\": \"bad\"}" % ", ".join('"u%d": 0' % i for i in range(70)))),
    Case("patch-if-match-stale", "PATCH", ACC, 412, body=J('{"notes": "x"}'), headers={"If-Match": '"999"'}),
    Case("patch-if-match-beyond-int32", "PATCH", ACC, 412, body=J('{"notes": "x"}'),
         headers={"If-Match": '"2147483648"'}),
    Case("patch-if-match-max-int64", "PATCH", ACC, 412, body=J('{"notes": "x"}'),
         headers={"If-Match": '"9223372036854775807"'}),
    Case("patch-if-match-garbage", "PATCH", ACC, 412, body=J('{"notes": "x"}'), headers={"If-Match": "garbage"}),
    Case("patch-if-match-weak", "PATCH", ACC, 412, body=J('{"notes": "x"}'), headers={"If-Match": 'W/"1"'}),
    Case("delete-if-match-beyond-int32", "DELETE", ACC, 412, headers={"If-Match": '"4294967297"'}),
    Case("patch-user-if-match-beyond-int32", "PATCH", "/users/{me}", 412, body=J('{"name": "Test Admin"}'),
         headers={"If-Match": '"2147483648"'}),
    Case("patch-lookup-if-match-beyond-int32", "PATCH", "/lookups/source/{source}", 412, body=J("{}"),
         headers={"If-Match": '"2147483648"'}),
    Case("delete-lookup-if-match-beyond-int32", "DELETE", "/lookups/source/{source}", 412,
         headers={"If-Match": '"2147483648"'}),
    # --- upsert by external id ---------------------------------------------
    Case("put-name-missing", "PUT", PUT_EXT, 422, ("name",), body=J('{"notes": "x"}')),
    Case("put-external-id-in-body", "PUT", PUT_EXT, 422, ("external_id",), body=J('{"name": "x", "external_id": "y"}')),
    Case("put-external-id-201-in-path", "PUT", "/accounts/by-external-id/" + "e" * 201, 422, ("external_id",),
         body=J('{"name": "x"}')),
    Case("put-path-pct-nul", "PUT", "/accounts/by-external-id/a%00b", 422, ("external_id",),
         body=J('{"name": "x"}')),
    Case("put-path-pct-invalid-utf8", "PUT", "/accounts/by-external-id/a%FFb", 422, ("external_id",),
         body=J('{"name": "x"}')),
    Case("put-path-pct-nul-and-bad-body", "PUT", "/accounts/by-external-id/%00", 422, ("external_id", "name"),
         body=J('{"name": ""}')),
    Case("put-opportunity-path-pct-nul", "PUT", "/opportunities/by-external-id/a%00b", 422, ("external_id",),
         body=J('{"name": "x"}')),
    Case("put-path-pct-nul-anonymous", "PUT", "/accounts/by-external-id/a%00b", 401, body=J('{"name": "x"}'),
         who="anon"),
    Case("put-form-urlencoded", "PUT", PUT_EXT, 415, body=b"name=x", content_type="application/x-www-form-urlencoded"),
    Case("put-if-match-beyond-int32", "PUT", PUT_EXT, 412, body=J('{"name": "x"}'),
         headers={"If-Match": '"2147483648"'}),
    # --- users -------------------------------------------------------------
    Case("users-email-missing", "POST", USERS, 422, ("email",), body=J('{"name": "x", "role": "member"}')),
    Case("users-email-not-address", "POST", USERS, 422, ("email",),
         body=J('{"name": "x", "email": "not-an-email", "role": "member"}')),
    Case("users-email-two-ats", "POST", USERS, 422, ("email",),
         body=J('{"name": "x", "email": "a@b@example.com", "role": "member"}')),
    Case("users-email-number", "POST", USERS, 422, ("email",), body=J('{"name": "x", "email": 5, "role": "member"}')),
    Case("users-email-255", "POST", USERS, 422, ("email",),
         body=J('{"name": "x", "email": "%s@example.com", "role": "member"}' % ("a" * 243))),
    Case("users-role-unknown", "POST", USERS, 422, ("role",),
         body=J('{"name": "x", "email": "r1@example.com", "role": "root"}')),
    Case("users-role-wrong-case", "POST", USERS, 422, ("role",),
         body=J('{"name": "x", "email": "r2@example.com", "role": "Admin"}')),
    Case("users-role-bool", "POST", USERS, 422, ("role",),
         body=J('{"name": "x", "email": "r3@example.com", "role": true}')),
    Case("users-active-string", "POST", USERS, 422, ("active",),
         body=J('{"name": "x", "email": "a1@example.com", "role": "member", "active": "true"}')),
    Case("users-active-number", "POST", USERS, 422, ("active",),
         body=J('{"name": "x", "email": "a2@example.com", "role": "member", "active": 1}')),
    Case("users-name-201", "POST", USERS, 422, ("name",),
         body=J('{"name": "%s", "email": "n1@example.com", "role": "member"}' % ("n" * 201))),
    Case("users-name-array", "POST", USERS, 422, ("name",),
         body=J('{"name": [], "email": "n2@example.com", "role": "member"}')),
    Case("users-unknown-field", "POST", USERS, 422, ("password",),
         body=J('{"name": "x", "email": "p1@example.com", "role": "member", "password": "x"}')),
    Case("users-readonly-id", "POST", USERS, 422, ("id",),
         body=J('{"name": "x", "email": "p2@example.com", "role": "member", "id": 1}')),
    Case("users-text-plain", "POST", USERS, 415, body=J('{"name": "x"}'), content_type="text/plain"),
    Case("users-member-forbidden", "POST", USERS, 403,
         body=J('{"name": "x", "email": "m1@example.com", "role": "member"}'), who="member"),
    Case("users-patch-email-readonly", "PATCH", "/users/{me}", 422, ("email",), body=J('{"email": "x@example.com"}')),
    Case("tokens-name-201", "POST", "/users/{me}/tokens", 422, ("name",), body=J('{"name": "%s"}' % ("t" * 201))),
    Case("tokens-name-missing", "POST", "/users/{me}/tokens", 422, ("name",), body=J("{}")),
    # --- lookups/product ---------------------------------------------------
    Case("product-label-missing", "POST", PRODUCT, 422, ("label",), body=J('{"unit_price": "1.00"}')),
    Case("product-label-101", "POST", PRODUCT, 422, ("label",), body=J('{"label": "%s"}' % ("l" * 101))),
    Case("product-label-number", "POST", PRODUCT, 422, ("label",), body=J('{"label": 3}')),
    Case("product-price-3-decimals", "POST", PRODUCT, 422, ("unit_price",), body=J('{"label": "p", "unit_price": "12.345"}')),
    Case("product-price-number-3-decimals", "POST", PRODUCT, 422, ("unit_price",),
         body=J('{"label": "p", "unit_price": 12.345}')),
    Case("product-price-negative", "POST", PRODUCT, 422, ("unit_price",), body=J('{"label": "p", "unit_price": -1}')),
    Case("product-price-negative-string", "POST", PRODUCT, 422, ("unit_price",),
         body=J('{"label": "p", "unit_price": "-0.01"}')),
    Case("product-price-garbage", "POST", PRODUCT, 422, ("unit_price",), body=J('{"label": "p", "unit_price": "abc"}')),
    Case("product-price-over-max", "POST", PRODUCT, 422, ("unit_price",),
         body=J('{"label": "p", "unit_price": "1000000000.01"}')),
    Case("product-price-exponent", "POST", PRODUCT, 422, ("unit_price",), body=J('{"label": "p", "unit_price": 1e-7}')),
    Case("product-price-bool", "POST", PRODUCT, 422, ("unit_price",), body=J('{"label": "p", "unit_price": true}')),
    Case("product-price-spaces", "POST", PRODUCT, 422, ("unit_price",), body=J('{"label": "p", "unit_price": " 1.00"}')),
    Case("product-position-float", "POST", PRODUCT, 422, ("position",), body=J('{"label": "p", "position": 1.5}')),
    Case("product-position-out-of-range", "POST", PRODUCT, 422, ("position",),
         body=J('{"label": "p", "position": 2147483648}')),
    Case("product-is-default-string", "POST", PRODUCT, 422, ("is_default",),
         body=J('{"label": "p", "is_default": "yes"}')),
    Case("product-active-null", "POST", PRODUCT, 422, ("active",), body=J('{"label": "p", "active": null}')),
    Case("product-extra-of-other-table", "POST", PRODUCT, 422, ("probability",),
         body=J('{"label": "p", "probability": 50}')),
    Case("product-text-plain", "POST", PRODUCT, 415, body=J('{"label": "p"}'), content_type="text/plain"),
    Case("product-member-forbidden", "POST", PRODUCT, 403, body=J('{"label": "p"}'), who="member"),
    Case("lookup-unknown-table", "POST", "/lookups/nope", 404, body=J('{"label": "p"}')),
    # --- content type: 415 ---------------------------------------------------
    Case("ct-text-plain", "POST", A, 415, body=J('{"name": "x"}'), content_type="text/plain"),
    Case("ct-form-urlencoded", "POST", A, 415, body=b"name=x", content_type="application/x-www-form-urlencoded"),
    Case("ct-missing", "POST", A, 415, body=J('{"name": "x"}'), content_type=None),
    Case("ct-multipart", "POST", A, 415, body=J('{"name": "x"}'), content_type="multipart/form-data; boundary=x"),
    Case("ct-json-latin1", "POST", A, 415, body=J('{"name": "x"}'), content_type="application/json; charset=latin1"),
    Case("ct-jsonx", "POST", A, 415, body=J('{"name": "x"}'), content_type="application/jsonx"),
    Case("ct-merge-patch-on-post", "POST", A, 415, body=J('{"name": "x"}'),
         content_type="application/merge-patch+json"),
    Case("ct-patch-text-plain", "PATCH", ACC, 415, body=J('{"notes": "x"}'), content_type="text/plain"),
    Case("ct-patch-missing", "PATCH", ACC, 415, body=J('{"notes": "x"}'), content_type=None),
    # --- size: 413 -----------------------------------------------------------
    Case("body-over-1mib-content-length", "POST", A, 413,
         body=b'{"name": "x", "notes": "' + b"a" * MIB + b'"}'),
    Case("body-over-1mib-chunked", "POST", A, 413,
         body=b'{"name": "x", "notes": "' + b"a" * MIB + b'"}', chunked=True),
    Case("body-1mib-plus-one-whitespace", "POST", A, 413, body=b'{"name": "x"}' + b" " * (MIB + 1 - 13)),
    Case("body-over-1mib-patch-chunked", "PATCH", ACC, 413, body=b" " * (2 * MIB) + b"{}", chunked=True),
    Case("body-over-1mib-users", "POST", USERS, 413, body=b"[" + b"1," * (MIB // 2) + b"1]"),
    # --- bodies where none belong: 400 ---------------------------------------
    Case("body-on-get", "GET", A, 400, body=J("{}")),
    Case("body-on-delete", "DELETE", ACC, 400, body=J("{}")),
    # --- ids in paths: 404 -----------------------------------------------------
    Case("path-id-zero", "GET", "/accounts/0", 404),
    Case("path-id-negative", "GET", "/accounts/-1", 404),
    Case("path-id-non-numeric", "GET", "/accounts/abc", 404),
    Case("path-id-decimal", "GET", "/accounts/1.5", 404),
    Case("path-id-exponent", "GET", "/accounts/1e3", 404),
    Case("path-id-leading-zero", "GET", "/accounts/01", 404),
    Case("path-id-plus", "GET", "/accounts/+1", 404),
    Case("path-id-int64-overflow", "GET", "/accounts/9223372036854775808", 404),
    Case("path-id-20-digits", "GET", "/accounts/99999999999999999999999", 404),
    Case("path-id-max-int64-absent", "GET", "/accounts/9223372036854775807", 404),
    Case("path-id-pct-nul", "GET", "/accounts/1%00", 404),
    Case("path-pct-nul-segment", "GET", "/accounts%00", 404),
    Case("path-pct-invalid-utf8", "GET", "/accounts/%FF", 404),
    Case("path-pct-overlong-utf8", "GET", "/accounts/%C0%AF", 404),
    Case("path-pct-bad-escape", "GET", "/accounts/%G1", 404),
    Case("path-raw-invalid-utf8", "GET", "/accounts/\xff\xfe", 404, raw_target=True),
    Case("path-raw-overlong-utf8", "GET", "/accounts/\xc0\xae\xc0\xae", 404, raw_target=True),
    Case("path-patch-id-negative", "PATCH", "/accounts/-5", 404, body=J('{"notes": "x"}')),
    Case("path-delete-id-non-numeric", "DELETE", "/accounts/abc", 404),
    Case("path-users-id-zero", "GET", "/users/0", 404),
    Case("path-tokens-id-overflow", "DELETE", "/tokens/18446744073709551616", 404),
    Case("path-lookup-id-negative", "GET", "/lookups/source/-5", 404),
    Case("path-lookup-table-unknown", "GET", "/lookups/colours", 404),
    Case("path-unknown", "GET", "/nope", 404),
    Case("path-extra-segment", "GET", "/accounts/1/extra", 404),
    Case("path-too-many-segments", "GET", "/a/b/c/d/e/f/g/h/i/j/k", 404),
    Case("path-double-slash", "GET", "/accounts//1", 404),
    Case("path-trailing-slash-list", "GET", "/accounts/", 404),
    Case("path-trailing-slash-patch", "PATCH", ACC + "/", 404, body=J('{"notes": "x"}')),
    Case("path-trailing-slash-anonymous", "POST", "/accounts/", 404, body=J('{"name": "x"}'), who="anon"),
    Case("path-pct-invalid-utf8-lookup-table", "GET", "/lookups/%FF", 404),
    # --- sizes of the request head: 414, 431 (before the token) ----------------
    Case("uri-too-long", "GET", "/accounts?q=" + "q" * 8200, 414, who="anon"),
    Case("uri-too-long-path", "GET", "/accounts/" + "1" * 8200, 414),
    Case("headers-too-large", "GET", A, 431, ("X-Filler",), headers={"X-Filler": "f" * 17000}, who="anon"),
    Case("headers-too-large-together", "GET", A, 431, ("X-B",),
         headers={"X-A": "a" * 6000, "X-B": "b" * 6001, "X-C": "c" * 5000}),
    # --- query strings: 400 ----------------------------------------------------
    Case("query-pct-nul", "GET", "/accounts?q=a%00b", 400),
    Case("query-pct-nul-name", "GET", "/accounts?q%00=a", 400),
    Case("query-pct-invalid-utf8", "GET", "/accounts?q=%FF", 400),
    Case("query-pct-overlong-utf8", "GET", "/accounts?q=%C0%AF", 400),
    Case("query-pct-surrogate", "GET", "/accounts?q=%ED%A0%80", 400),
    Case("query-pct-truncated", "GET", "/accounts?q=%4", 400),
    Case("query-pct-bad-hex", "GET", "/accounts?q=%zz", 400),
    Case("query-raw-invalid-utf8", "GET", "/accounts?q=\xff\xfe", 400, raw_target=True),
    Case("query-q-201", "GET", "/accounts?q=" + "q" * 201, 400, ("q",)),
    Case("limit-zero", "GET", "/accounts?limit=0", 400, ("limit",)),
    Case("limit-negative", "GET", "/accounts?limit=-1", 400, ("limit",)),
    Case("limit-501", "GET", "/accounts?limit=501", 400, ("limit",)),
    Case("limit-decimal", "GET", "/accounts?limit=1.5", 400, ("limit",)),
    Case("limit-empty", "GET", "/accounts?limit=", 400, ("limit",)),
    Case("limit-no-equals", "GET", "/accounts?limit", 400, ("limit",)),
    Case("limit-word", "GET", "/accounts?limit=ten", 400, ("limit",)),
    Case("limit-overflow", "GET", "/accounts?limit=99999999999999999999", 400, ("limit",)),
    Case("limit-users-501", "GET", "/users?limit=501", 400, ("limit",)),
    Case("limit-lookups-zero", "GET", "/lookups/source?limit=0", 400, ("limit",)),
    Case("limit-tokens-word", "GET", "/users/{me}/tokens?limit=all", 400, ("limit",)),
    # A bad limit beside a good cursor (the decoded cursor must be freed).
    Case("limit-lines-zero-good-cursor", "GET", "/opportunities/1/lines?limit=0&cursor=" + b64("lines:1|1,2"), 400,
         ("limit",)),
    Case("limit-tokens-zero-good-cursor", "GET", "/users/{me}/tokens?limit=0&cursor=" + b64("tokens|1"), 400,
         ("limit",)),
    Case("limit-history-zero-good-cursor", "GET", "/opportunities/1/history?limit=0&cursor=" + b64("history:1|1"),
         400, ("limit",)),
    # A name holding a space is no parameter, even when it spells two of them.
    Case("query-name-of-two-names", "GET", "/accounts?limit+cursor=1", 400, ("limit cursor",)),
    Case("query-name-with-space", "GET", "/accounts?limit%20=1", 400, ("limit ",)),
    Case("cursor-garbage", "GET", "/accounts?cursor=!!!not-base64!!!", 400, ("cursor",)),
    Case("cursor-empty", "GET", "/accounts?cursor=", 400, ("cursor",)),
    Case("cursor-padded-base64", "GET", "/accounts?cursor=YWNjb3VudHN8MQ%3D%3D", 400, ("cursor",)),
    Case("cursor-of-users-on-accounts", "GET", "/accounts?cursor=" + b64("users|1"), 400, ("cursor",)),
    Case("cursor-of-accounts-on-users", "GET", "/users?cursor=" + b64("accounts|1"), 400, ("cursor",)),
    Case("cursor-of-lookups-on-tokens", "GET", "/users/{me}/tokens?cursor=" + b64("lookups|1,1"), 400, ("cursor",)),
    Case("cursor-accounts-non-numeric", "GET", "/accounts?cursor=" + b64("accounts|abc"), 400, ("cursor",)),
    Case("cursor-accounts-overflow", "GET", "/accounts?cursor=" + b64("accounts|99999999999999999999"), 400,
         ("cursor",)),
    Case("cursor-accounts-empty-key", "GET", "/accounts?cursor=" + b64("accounts|"), 400, ("cursor",)),
    Case("cursor-users-non-numeric", "GET", "/users?cursor=" + b64("users|abc"), 400, ("cursor",)),
    Case("cursor-users-overflow", "GET", "/users?cursor=" + b64("users|99999999999999999999"), 400, ("cursor",)),
    Case("cursor-users-sql", "GET", "/users?cursor=" + b64("users|1 OR 1=1"), 400, ("cursor",)),
    Case("cursor-tokens-non-numeric", "GET", "/users/{me}/tokens?cursor=" + b64("tokens|abc"), 400, ("cursor",)),
    Case("cursor-lookups-dash", "GET", "/lookups/source?cursor=" + b64("lookups|-,5"), 400, ("cursor",)),
    Case("cursor-lookups-int-overflow", "GET", "/lookups/source?cursor=" + b64("lookups|9999999999,5"), 400,
         ("cursor",)),
    Case("cursor-lookups-bigint-overflow", "GET", "/lookups/source?cursor=" + b64("lookups|1,9999999999999999999"),
         400, ("cursor",)),
    Case("cursor-lookups-no-comma", "GET", "/lookups/source?cursor=" + b64("lookups|15"), 400, ("cursor",)),
    Case("filter-owner-zero", "GET", "/accounts?owner_id=0", 400, ("owner_id",)),
    Case("filter-owner-negative", "GET", "/accounts?owner_id=-1", 400, ("owner_id",)),
    Case("filter-owner-word", "GET", "/accounts?owner_id=me", 400, ("owner_id",)),
    Case("filter-owner-overflow", "GET", "/accounts?owner_id=99999999999999999999", 400, ("owner_id",)),
    Case("filter-owner-decimal", "GET", "/accounts?owner_id=1.0", 400, ("owner_id",)),
    Case("filter-owner-list", "GET", "/accounts?owner_id=1,2", 400, ("owner_id",)),
    Case("filter-source-empty", "GET", "/accounts?source_id=", 400, ("source_id",)),
    Case("filter-include-deleted-yes", "GET", "/accounts?include_deleted=yes", 400, ("include_deleted",)),
    Case("filter-include-deleted-upper", "GET", "/accounts?include_deleted=TRUE", 400, ("include_deleted",)),
    Case("filter-updated-since-word", "GET", "/accounts?updated_since=yesterday", 400, ("updated_since",)),
    Case("filter-updated-since-feb-30", "GET", "/accounts?updated_since=2026-02-30T00:00:00Z", 400, ("updated_since",)),
    Case("filter-updated-since-date-only", "GET", "/accounts?updated_since=2026-01-01", 400, ("updated_since",)),
    Case("filter-updated-since-no-zone", "GET", "/accounts?updated_since=2026-01-01T00:00:00", 400, ("updated_since",)),
    Case("filter-updated-since-offset-16h", "GET", "/accounts?updated_since=2026-01-01T00:00:00%2B16:00", 400,
         ("updated_since",)),
    Case("filter-updated-since-offset-minus-23h", "GET", "/accounts?updated_since=2026-01-01T00:00:00-23:59", 400,
         ("updated_since",)),
    Case("filter-updated-since-leap-fraction", "GET", "/accounts?updated_since=2026-01-01T23:59:60.5Z", 400,
         ("updated_since",)),
    Case("filter-users-active-one", "GET", "/users?active=1", 400, ("active",)),
    Case("filter-lookups-active-word", "GET", "/lookups/source?active=maybe", 400, ("active",)),
    Case("query-unknown", "GET", "/accounts?colour=red", 400, ("colour",)),
    Case("query-typo", "GET", "/accounts?owner=1", 400, ("owner",)),
    Case("query-substring-of-known", "GET", "/accounts?imit=5", 400, ("imit",)),
    Case("query-unknown-users", "GET", "/users?role=admin", 400, ("role",)),
    Case("query-unknown-lookups", "GET", "/lookups/product?q=x", 400, ("q",)),
    Case("query-unknown-on-single", "GET", ACC + "?expand=owner", 400, ("expand",)),
    Case("query-unknown-on-post", "POST", A + "?dry_run=1", 400, ("dry_run",), body=J('{"name": "x"}')),
    Case("query-unknown-readyz", "GET", "/readyz?verbose=1", 400, ("verbose",), who="anon"),
    Case("query-repeated-limit", "GET", "/accounts?limit=1&limit=2", 400, ("limit",)),
    Case("query-repeated-same-value", "GET", "/accounts?q=a&q=a", 400, ("q",)),
    Case("query-repeated-filter", "GET", "/accounts?owner_id=1&owner_id=2", 400, ("owner_id",)),
    Case("query-33-parameters", "GET", "/accounts?" + "&".join(f"p{i}=1" for i in range(33)), 400, ("p0",)),
    # --- methods: 405 with Allow -----------------------------------------------
    Case("method-post-on-account", "POST", ACC, 405, body=J("{}"), allow="GET, PATCH, DELETE"),
    Case("method-put-on-account", "PUT", ACC, 405, body=J('{"name": "x"}'), allow="GET, PATCH, DELETE"),
    Case("method-delete-on-accounts", "DELETE", A, 405, allow="GET, POST"),
    Case("method-patch-on-accounts", "PATCH", A, 405, body=J("{}"), allow="GET, POST"),
    Case("method-get-on-upsert", "GET", PUT_EXT, 405, allow="PUT"),
    Case("method-trace", "TRACE", A, 405, allow="GET, POST"),
    Case("method-unknown-verb", "BREW", A, 405, allow="GET, POST"),
    Case("method-delete-on-product-list", "DELETE", PRODUCT, 405, allow="GET, POST"),
    Case("method-post-on-readyz", "POST", "/readyz", 405, body=J("{}"), allow="GET", who="anon"),
    # --- authentication (before anything reaches a handler) ------------------
    Case("auth-missing", "GET", A, 401, who="anon"),
    Case("auth-garbage-token", "GET", A, 401, headers={"Authorization": "Bearer crm_not-a-real-token"}, who="anon"),
    Case("auth-basic-scheme", "GET", A, 401, headers={"Authorization": "Basic YTpi"}, who="anon"),
    Case("auth-huge-token", "GET", A, 401, headers={"Authorization": "Bearer " + "x" * 5000}, who="anon"),
]


@pytest.fixture(scope="module")
def targets(admin):
    """Real records the table refers to: an account of the admin, the admin
    itself, a source item, and an external id not used by anyone."""
    account = admin.post("/accounts", {"name": unique("BadInput")})
    assert account.status == 201, account
    me = admin.get("/users/me")
    assert me.status == 200, me
    sources = admin.get("/lookups/source?limit=1")
    assert sources.status == 200 and sources.json["data"], sources
    return {
        "account": account.json["id"],
        "me": me.json["id"],
        "source": sources.json["data"][0]["id"],
        "ext": unique("ext"),
    }


@pytest.fixture(scope="module")
def member_token(admin):
    user, client = make_user(admin, "member")
    return client.token


def _param(case):
    marks = [pytest.mark.xfail(strict=True, reason=f"server bug: {case.bug}")] if case.bug else []
    return pytest.param(case, id=case.id, marks=marks)


def test_table_is_big_enough():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert len(CASES) >= 50


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_request(case, targets, admin_token, member_token):
    token = {"admin": admin_token, "member": member_token, "anon": None}[case.who]
    path = case.path.format(**targets)
    body = case.body.encode() if isinstance(case.body, str) else case.body
    resp = send(case.method, path, body=body, headers=case.headers, content_type=case.content_type,
                token=token, chunked=case.chunked, raw_target=case.raw_target)
    check_problem(resp, case.status, case.fields, case.allow)
    assert_still_ready()


def test_patch_with_bad_input_changes_nothing(admin, targets):
    """A refused patch must not have half-applied: the account is as it was."""
    path = f"/accounts/{targets['account']}"
    before = admin.get(path)
    assert before.status == 200
    r = admin.patch(path, {"notes": "fine", "owner_id": "bad"})
    check_problem(r, 422, ("owner_id",))
    after = admin.get(path)
    assert after.status == 200
    assert after.json == before.json


# ---------------------------------------------------------------------------
# SQL metacharacters and other hostile-but-valid text: stored verbatim
# ---------------------------------------------------------------------------

HOSTILE = [
    pytest.param("'; DROP TABLE accounts; --", id="sql-drop-table"),
    pytest.param("Robert'); DROP TABLE users;--", id="sql-bobby-tables"),
    pytest.param("' OR '1'='1", id="sql-or-true"),
    pytest.param("%", id="like-percent"),
    pytest.param("_", id="like-underscore"),
    pytest.param("\\", id="backslash"),
    pytest.param("a%b_c\\d", id="like-mixed"),
    pytest.param("$1::text", id="placeholder"),
    pytest.param("\\x00 \\u0000 \\0", id="escaped-nul-text"),
    pytest.param("\"quoted\" {json: [1]}", id="json-like"),
    pytest.param("<script>alert(1)</script>", id="html"),
    pytest.param("\u202e\u200b\ufeff\U0001F600", id="unicode-oddities"),
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_stored_verbatim(admin, text):
    ext = f"{text}-{unique('x')}"
    body = {"name": text, "notes": text, "website": text, "phone": text, "external_id": ext}
    r = admin.post("/accounts", body)
    assert r.status == 201, r
    created = r.json
    for k, v in body.items():
        assert created[k] == v, (k, created)
    got = admin.get(f"/accounts/{created['id']}")
    assert got.status == 200, got
    for k, v in body.items():
        assert got.json[k] == v, (k, got.json)
    # The exact external id finds exactly this account (no pattern matching).
    found = admin.get("/accounts?external_id=" + quote(ext, safe=""))
    assert found.status == 200, found
    assert [a["id"] for a in found.json["data"]] == [created["id"]]
    # The table is still there and still works.
    listed = admin.get("/accounts?limit=1")
    assert listed.status == 200 and len(listed.json["data"]) == 1
    assert_still_ready()


@pytest.mark.parametrize("text", HOSTILE[:7])
def test_hostile_external_id_in_path_is_verbatim(admin, text):
    ext = f"{text}-{unique('p')}"
    path = "/accounts/by-external-id/" + quote(ext, safe="")
    r = admin.put(path, {"name": text})
    assert r.status == 201, r
    assert r.json["external_id"] == ext and r.json["name"] == text
    again = admin.put(path, {"name": text + "!"})
    assert again.status == 200, again
    assert again.json["id"] == r.json["id"] and again.json["name"] == text + "!"


@pytest.mark.parametrize("meta", ["%", "_", "\\"], ids=["percent", "underscore", "backslash"])
def test_search_treats_like_metacharacters_literally(admin, meta):
    """q=... is 'name contains', so % _ \\ match themselves, not patterns."""
    u = unique("like")
    literal = admin.post("/accounts", {"name": f"{u} a{meta}b"})
    decoy = admin.post("/accounts", {"name": f"{u} axb"})
    other = admin.post("/accounts", {"name": f"{u} ab"})
    assert literal.status == decoy.status == other.status == 201
    r = admin.get("/accounts?limit=500&q=" + quote(f"{u} a{meta}b", safe=""))
    assert r.status == 200, r
    assert [a["id"] for a in r.json["data"]] == [literal.json["id"]]
    only_meta = admin.get("/accounts?limit=500&q=" + quote(f"{u} a{meta}", safe=""))
    assert [a["id"] for a in only_meta.json["data"]] == [literal.json["id"]]


def test_boundary_sizes_are_accepted(admin):
    """The limits are inclusive: 200-character names (counted in characters,
    not bytes) and 10,000-character notes are fine."""
    for name in ("n" * 200, "\u00e9" * 200, "\U0001F600" * 200):
        r = admin.post("/accounts", {"name": name, "notes": "\u00e9" * 10000})
        assert r.status == 201, r
        assert r.json["name"] == name and len(r.json["notes"]) == 10000


def test_body_of_exactly_1mib_is_accepted(admin_token):
    body = b'{"name": "exactly one MiB"}'
    body += b" " * (MIB - len(body))
    assert len(body) == MIB
    for chunked in (False, True):
        r = send("POST", "/accounts", body=body, token=admin_token, chunked=chunked)
        assert r.status == 201, r
        assert r.json["name"] == "exactly one MiB"


# ---------------------------------------------------------------------------
# Cases that may hang a worker: run on a private server
# ---------------------------------------------------------------------------

@pytest.fixture
def private_server():
    server = PrivateServer()
    try:
        yield server
    finally:
        server.stop(grace=5)
        reports = server.sanitizer_reports()
        if reports:
            pytest.fail("sanitizer reports in " + str(server.log_path) + ":\n" + "\n".join(reports[:20]))
        server.log_path.unlink(missing_ok=True)



ISOLATED = [
    pytest.param("/accounts?=5", "", id="empty-name-accounts"),
    pytest.param("/users?limit=5&=", "", id="empty-name-users"),
    pytest.param("/lookups/source?=", "", id="empty-name-lookups"),
    pytest.param("/healthz?=x", "", id="empty-name-healthz"),
    pytest.param("/accounts?+=1", " ", id="space-name-accounts"),
]


@pytest.mark.parametrize("path,field", ISOLATED)
def test_bad_query_name_on_private_server(private_server, admin_token, path, field):
    resp = send("GET", path, token=admin_token, base=private_server.base, timeout=5)
    check_problem(resp, 400, (field,))
    # The server is still fully usable (both workers), and still stops cleanly.
    for _ in range(4):
        assert send("GET", "/readyz", base=private_server.base, timeout=5).status == 200
    assert private_server.stop() == 0, "private server did not exit 0 on SIGTERM"
