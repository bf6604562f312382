"""Checks one recorded exchange against the document: the status is
documented for its operation, and the response's headers, content type and
body are those documented for that status. JSON numbers are read as exact
decimals, so money and quantities are compared as decimals, never floats."""
import json
import re
from datetime import date, datetime
from decimal import Decimal

from jsonschema import Draft202012Validator, FormatChecker, RefResolver

from document import response_key

_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value):
    """RFC 3339 (a leap second 60 included), checked by parsing it."""
    if not isinstance(value, str):
        return True
    m = _RFC3339.fullmatch(value)
    if m is None:
        return False
    day, hour, minute, second, offset = m.groups()
    offset = "+00:00" if offset in ("Z", "z") else offset
    datetime.fromisoformat(f"{day}T{hour}:{minute}:{min(second, '59')}{offset}")
    return True


@FORMATS.checks("date", raises=ValueError)
def _date(value):
    if not isinstance(value, str):
        return True
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None and date.fromisoformat(value) is not None


@FORMATS.checks("int64")
def _int64(value):
    return not isinstance(value, int) or -(2 ** 63) <= value < 2 ** 63


class ExchangeChecker:
    def __init__(self, document):
        self.doc = document
        self.resolver = RefResolver(base_uri="", referrer=document.root)
        self._validators = {}

    def check(self, exchange):
        """Returns (covered, mismatches): covered is (template, method, key)
        when the status is documented on an operation, and mismatches a list
        of sentences."""
        template = self.doc.match_path(exchange["target"])
        operation, op_method = (None, exchange["method"].lower())
        if template is not None:
            operation, op_method = self.doc.operation(template, exchange["method"])
        allowed = self.doc.allowed_responses(template, operation)
        status = exchange["status"]
        key = response_key(allowed, status)
        if key is None:
            where = f"{op_method.upper()} {template}" if operation else (
                "a path no template matches" if template is None else f"{template} (no {op_method.upper()} operation)")
            return None, [f"status {status} is not documented for {where}"]
        response, source = allowed[key]
        response = self.doc.resolve(response)
        mismatches = self._headers(response, exchange) + self._content(response, exchange)
        covered = (template, op_method, key) if source == "operation" else None
        return covered, mismatches

    # -- headers --------------------------------------------------------------

    def _headers(self, response, exchange):
        got = {}
        for name, value in exchange["headers"]:
            got.setdefault(name.lower(), value)
        out = []
        for name, header in response.get("headers", {}).items():
            header = self.doc.resolve(header)
            value = got.get(name.lower())
            if value is None:
                if header.get("required"):
                    out.append(f"required header {name} is missing")
                continue
            schema = header.get("schema")
            if schema is None:
                continue
            instance = value
            if self.doc.resolve(schema).get("type") in ("integer", "number"):
                try:
                    instance = int(value) if re.fullmatch(r"-?\d+", value) else Decimal(value)
                except ArithmeticError:
                    out.append(f"header {name}: {value!r} is not a number")
                    continue
            out += [f"header {name}: {e}" for e in self._schema_errors(schema, instance)]
        return out

    # -- content type and body ---------------------------------------------------

    def _content(self, response, exchange):
        body = exchange["body_bytes"]
        content = response.get("content")
        media_type = _header(exchange, "content-type")
        if not content:
            if body:
                return [f"a body of {len(body)} bytes where the document declares none"]
            return []
        essence = media_type.split(";", 1)[0].strip().lower() if media_type else ""
        entry = _media_entry(content, essence)
        if entry is None:
            return [f"Content-Type {media_type!r} is not one of {sorted(content)}"]
        if exchange["method"].upper() == "HEAD":
            return []  # the GET answer's headers, no body (RFC 9110)
        if not body:
            return [f"an empty body where the document declares {essence}"]
        schema = entry.get("schema")
        if essence == "application/json" or essence.endswith("+json"):
            return self._json_body(schema, body, exchange)
        if schema is not None and self.doc.resolve(schema).get("format") != "binary":
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                return [f"the {essence} body is not UTF-8 text"]
        return []

    def _json_body(self, schema, body, exchange):
        try:
            doc = json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=_no_constant,
                             object_pairs_hook=_no_duplicates)
        except (UnicodeDecodeError, ValueError) as e:
            return [f"the body is not a JSON document: {e}"]
        out = [] if schema is None else self._schema_errors(schema, doc)
        if _header(exchange, "content-type", "").lower().startswith("application/problem+json"):
            out += _problem_agrees(doc, exchange)
        return out

    def _schema_errors(self, schema, instance):
        validator = self._validators.get(id(schema))
        if validator is None:
            validator = Draft202012Validator(schema, resolver=self.resolver, format_checker=FORMATS)
            self._validators[id(schema)] = validator
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        return [f"body{_json_path(e.absolute_path)}: {_short(e.message)}" for e in errors[:5]]


def _problem_agrees(doc, exchange):
    """RFC 9457: a problem's status is the response's; our problems also
    carry the response's X-Request-Id."""
    if not isinstance(doc, dict):
        return []
    out = []
    if "status" in doc and doc["status"] != exchange["status"]:
        out.append(f"problem status {doc['status']} differs from the response status {exchange['status']}")
    rid = _header(exchange, "x-request-id")
    if "request_id" in doc and rid is not None and doc["request_id"] != rid:
        out.append(f"problem request_id {doc['request_id']!r} differs from X-Request-Id {rid!r}")
    return out


def _media_entry(content, essence):
    if essence in content:
        return content[essence]
    # A documented media type may carry parameters (text/plain; version=0.0.4).
    for key, entry in content.items():
        if key.split(";", 1)[0].strip().lower() == essence:
            return entry
    wildcard = essence.split("/")[0] + "/*"
    return content.get(wildcard, content.get("*/*"))


def _header(exchange, name, default=None):
    for key, value in exchange["headers"]:
        if key.lower() == name:
            return value
    return default


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def _no_duplicates(pairs):
    names = [k for k, _ in pairs]
    if len(names) != len(set(names)):
        raise ValueError(f"duplicate member names {sorted({n for n in names if names.count(n) > 1})}")
    return dict(pairs)


def _json_path(path):
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _short(message, limit=200):
    return message if len(message) <= limit else message[:limit] + "..."
