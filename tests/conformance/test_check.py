"""The checker catches what it is meant to catch: run on a small document
and hand-made exchanges (no server), and on openapi.yaml's own templates."""
import base64
import json
import re
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import check  # noqa: E402
from document import Document  # noqa: E402
from exchange_check import ExchangeChecker  # noqa: E402

DOC = """
openapi: 3.1.0
info: {title: t, version: '1'}
x-common-responses:
  anyRequest:
    '414': {$ref: '#/components/responses/Problem'}
  unknownPath:
    '404': {$ref: '#/components/responses/Problem'}
  unknownMethod:
    '405': {$ref: '#/components/responses/Problem'}
paths:
  /things/{id}:
    get:
      responses:
        '200':
          description: ok
          headers:
            X-Request-Id: {$ref: '#/components/headers/X-Request-Id'}
            Retry-After:
              required: false
              schema: {type: integer, minimum: 0}
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
        '304':
          description: not modified
          headers:
            X-Request-Id: {$ref: '#/components/headers/X-Request-Id'}
        '404': {$ref: '#/components/responses/Problem'}
  /things/special:
    delete:
      responses:
        '204': {description: gone}
  /files/{id}:
    get:
      responses:
        '200':
          description: a file
          content:
            text/csv:
              schema: {type: string}
components:
  headers:
    X-Request-Id:
      required: true
      schema: {type: string, minLength: 1}
  responses:
    Problem:
      description: a problem
      headers:
        X-Request-Id: {$ref: '#/components/headers/X-Request-Id'}
      content:
        application/problem+json:
          schema:
            type: object
            required: [status, request_id]
  schemas:
    Thing:
      type: object
      required: [id, price, quantity, day, at]
      additionalProperties: false
      properties:
        id: {type: integer, minimum: 1}
        price: {type: string, pattern: '^\\d+\\.\\d{2}$'}
        quantity: {type: number, exclusiveMinimum: 0, multipleOf: 0.001}
        day: {type: string, format: date}
        at: {type: string, format: date-time}
        note: {type: [string, 'null']}
"""

GOOD = {"id": 1, "price": "12.50", "quantity": 0.125, "day": "2026-11-27", "at": "2026-11-27T08:00:00.123456Z"}


@pytest.fixture(scope="module")
def checker(tmp_path_factory):
    path = tmp_path_factory.mktemp("doc") / "openapi.yaml"
    path.write_text(DOC)
    return ExchangeChecker(Document(path))


def exchange(method, target, status, body=b"", headers=None, content_type="application/json"):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    pairs = [["X-Request-Id", "abc"]] if headers is None else list(headers)
    if body and content_type:
        pairs.append(["Content-Type", content_type])
    return {"method": method, "target": target, "status": status, "headers": pairs, "body_bytes": body}


def mismatches(checker, ex):
    return checker.check(ex)[1]


def test_a_conforming_exchange_passes_and_counts(checker):
    covered, found = checker.check(exchange("GET", "/things/7?x=1", 200, GOOD))
    assert found == []
    assert covered == ("/things/{id}", "get", "200")


def test_undocumented_status(checker):
    assert mismatches(checker, exchange("GET", "/things/7", 500, {"status": 500, "request_id": "abc"},
                                        content_type="application/problem+json"))


def test_literal_segment_beats_a_parameter(checker):
    """/things/special has only DELETE: GET is the unknownMethod 405, not /things/{id}."""
    assert mismatches(checker, exchange("GET", "/things/special", 200, GOOD))
    problem = {"status": 405, "request_id": "abc"}
    covered, found = checker.check(exchange("GET", "/things/special", 405, problem,
                                            content_type="application/problem+json"))
    assert found == [] and covered is None


def test_trailing_slash_is_an_unknown_path(checker):
    assert mismatches(checker, exchange("GET", "/things/7/", 200, GOOD))
    assert not mismatches(checker, exchange("GET", "/things/7/", 404, {"status": 404, "request_id": "abc"},
                                            content_type="application/problem+json"))


def test_any_request_response(checker):
    assert not mismatches(checker, exchange("GET", "/things/" + "1" * 9000, 414,
                                            {"status": 414, "request_id": "abc"},
                                            content_type="application/problem+json"))


def test_missing_required_header(checker):
    assert mismatches(checker, exchange("GET", "/things/7", 200, GOOD, headers=[])) == [
        "required header X-Request-Id is missing"]


def test_header_value_against_its_schema(checker):
    ok = exchange("GET", "/things/7", 200, GOOD, headers=[["X-Request-Id", "a"], ["Retry-After", "3"]])
    assert not mismatches(checker, ok)
    bad = exchange("GET", "/things/7", 200, GOOD, headers=[["X-Request-Id", "a"], ["Retry-After", "-3"]])
    assert mismatches(checker, bad)


def test_wrong_content_type(checker):
    assert mismatches(checker, exchange("GET", "/things/7", 200, GOOD, content_type="text/html"))


def test_body_where_none_is_documented(checker):
    assert mismatches(checker, exchange("GET", "/things/7", 304, b"x", content_type="text/plain"))
    assert not mismatches(checker, exchange("GET", "/things/7", 304))


def test_empty_body_where_one_is_documented(checker):
    assert mismatches(checker, exchange("GET", "/things/7", 200))


def test_head_is_get_without_a_body(checker):
    ex = exchange("HEAD", "/things/7", 200, headers=[["X-Request-Id", "a"], ["Content-Type", "application/json"]])
    assert checker.check(ex) == (("/things/{id}", "get", "200"), [])


@pytest.mark.parametrize("field,value", [
    ("price", 12.5),  # money as a number
    ("price", "12.5"),  # one fraction digit
    ("quantity", 0.1255),  # more than three fraction digits: exact decimals see it
    ("quantity", "1.5"),  # a string
    ("id", 1.0),  # an integer written with a fraction
    ("day", "2026-02-30"),
    ("at", "2026-11-27 08:00:00Z"),
    ("note", 5),
    ("colour", "red"),  # additionalProperties: false
])
def test_body_schema(checker, field, value):
    body = dict(GOOD, **{field: value})
    assert mismatches(checker, exchange("GET", "/things/7", 200, body)), (field, value)


def test_decimal_quantities_are_exact(checker):
    """0.3 is a multiple of 0.001 as a decimal, though not as binary floats."""
    text = b'{"id": 1, "price": "0.30", "quantity": 0.3, "day": "2026-01-01", "at": "2026-01-01T00:00:00Z"}'
    assert not mismatches(checker, exchange("GET", "/things/7", 200, text))


def test_json_that_is_not_quite_json(checker):
    dup = b'{"id": 1, "id": 2, "price": "1.00", "quantity": 1, "day": "2026-01-01", "at": "2026-01-01T00:00:00Z"}'
    assert mismatches(checker, exchange("GET", "/things/7", 200, dup))
    assert mismatches(checker, exchange("GET", "/things/7", 200, b'{"id": NaN}'))


def test_problem_status_and_request_id_agree_with_the_response(checker):
    assert mismatches(checker, exchange("GET", "/things/7", 404, {"status": 400, "request_id": "abc"},
                                        content_type="application/problem+json"))
    assert mismatches(checker, exchange("GET", "/things/7", 404, {"status": 404, "request_id": "zzz"},
                                        content_type="application/problem+json"))


def test_text_bodies_must_be_utf8(checker):
    assert not mismatches(checker, exchange("GET", "/files/1", 200, "é,1\r\n".encode(), content_type="text/csv"))
    assert mismatches(checker, exchange("GET", "/files/1", 200, b"\xff,1\r\n", content_type="text/csv"))


def test_a_30_document_is_refused(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text(DOC.replace("openapi: 3.1.0", "openapi: 3.0.3").replace(
        "note: {type: [string, 'null']}", "note: {type: string, nullable: true}"))
    problems = check.document_problems(Document(path))
    assert len(problems) == 2, problems


def test_main_fails_on_a_mismatch_and_counts_pairs(tmp_path, capsys):
    doc = tmp_path / "openapi.yaml"
    doc.write_text(DOC)
    log = tmp_path / "exchanges.jsonl"
    good = exchange("GET", "/things/7", 200, GOOD)
    bad = exchange("GET", "/things/7", 200, dict(GOOD, price=1))
    with open(log, "w") as f:
        for ex in (good, bad):
            body = base64.b64encode(ex.pop("body_bytes")).decode()
            f.write(json.dumps(dict(ex, body=body)) + "\n")
    assert check.main(["check.py", str(doc), str(log), str(tmp_path / "missing.txt")]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH GET /things/{id} -> 200: body.price" in out
    assert "exercised: 1 of 5" in out
    assert (tmp_path / "missing.txt").read_text().splitlines() == [
        "GET /things/{id} 304", "GET /things/{id} 404", "DELETE /things/special 204", "GET /files/{id} 200"]


def test_every_template_of_openapi_yaml_matches_itself():
    """A concrete path of each template falls under that template (literal
    segments beat parameters), and with a trailing slash under none."""
    doc = Document(HERE.parents[1] / "openapi.yaml")
    templates = {t for t, _, _ in doc.operations()}
    assert templates
    for template in templates:
        concrete = re.sub(r"\{[^}]+\}", "7", template)
        assert doc.match_path(concrete + "?limit=1") == template
        assert doc.match_path(concrete + "/") is None
