"""The operations of openapi.yaml as requests a test can send: method, a
concrete path (parameters filled with a plausible value), whether it takes
a body, and the statuses it documents. Lets a test hold every operation to
what the document promises, including operations added later."""
from pathlib import Path

import pytest
import yaml

DOCUMENT = Path(__file__).resolve().parents[2] / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


class Operation:
    def __init__(self, method, template, path, statuses, has_body, public):
        self.method = method
        self.template = template
        self.path = path
        self.statuses = statuses
        self.has_body = has_body
        self.public = public

    def __repr__(self):
        return f"{self.method} {self.template}"


def load():
    root = yaml.safe_load(DOCUMENT.read_text())

    def resolve(node):
        while isinstance(node, dict) and "$ref" in node:
            target = root
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = target
        return node

    def value_of(param):
        schema = resolve(param.get("schema", {}))
        if "enum" in schema:
            return str(schema["enum"][0])
        if schema.get("type") == "string":
            return "x"
        return "1"

    operations = []
    for template, item in root["paths"].items():
        shared = [resolve(p) for p in item.get("parameters", [])]
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            params = shared + [resolve(p) for p in op.get("parameters", [])]
            path = template
            for p in params:
                if p.get("in") == "path":
                    path = path.replace("{" + p["name"] + "}", value_of(p))
            public = op.get("security", root.get("security")) == []
            statuses = {str(k) for k in op.get("responses", {})}
            operations.append(Operation(method.upper(), template, path, statuses, "requestBody" in op, public))
    return operations


def with_status(status, body=None):
    """The operations documenting a status, as pytest params (id: METHOD template)."""
    return [pytest.param(op, id=f"{op.method} {op.template}") for op in load()
            if str(status) in op.statuses and (body is None or op.has_body == body)]
