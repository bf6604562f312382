"""The OpenAPI document as the checker reads it: loaded with exact decimals,
its $refs followed, its path templates matched against request targets and
the responses it allows for one request listed."""
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote

import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class _Loader(yaml.SafeLoader):
    """YAML with decimals instead of floats (multipleOf: 0.01 must stay
    exact) and dates left as text (an example '2026-11-27' is a string in
    JSON Schema, not a date object)."""


def _decimal(loader, node):
    text = loader.construct_scalar(node).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:  # .inf, .nan: never money, keep YAML's reading
        return float(loader.construct_yaml_float(node))


_Loader.add_constructor("tag:yaml.org,2002:float", _decimal)
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class Document:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.root = yaml.load(f, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
        self.version = str(self.root.get("openapi", ""))
        self.templates = [(t, _segments(t)) for t in self.root.get("paths", {})]
        self.common = self.root.get("x-common-responses", {})

    def resolve(self, node):
        """Follows a local $ref chain ('#/components/...'); returns the target."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in seen:
                raise ValueError(f"unsupported or circular $ref {ref!r}")
            seen.add(ref)
            node = self.root
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def match_path(self, target):
        """The path template a request target falls under, or None. A
        literal segment beats a parameter, as in the server's router."""
        path = target.split("?", 1)[0].split("#", 1)[0]
        if not path.startswith("/"):
            return None
        segments = [_decode(s) for s in path[1:].split("/")] if path != "/" else []
        best, best_literals = None, -1
        for template, parts in self.templates:
            if len(parts) != len(segments):
                continue
            literals = 0
            for part, segment in zip(parts, segments):
                if _is_parameter(part):
                    if segment == "":
                        break
                elif part != segment:
                    break
                else:
                    literals += 1
            else:
                if literals > best_literals:
                    best, best_literals = template, literals
        return best

    def operation(self, template, method):
        """(operation, operation method) for a request; HEAD falls back to GET
        (RFC 9110: the same answer without a body) unless documented itself."""
        item = self.root["paths"][template]
        method = method.lower()
        if method in item:
            return item[method], method
        if method == "head" and "get" in item:
            return item["get"], "get"
        return None, method

    def operations(self):
        """Every (template, method, operation) in the document."""
        for template, item in self.root.get("paths", {}).items():
            for method in METHODS:
                if method in item:
                    yield template, method, item[method]

    def allowed_responses(self, template, operation):
        """The responses a request may get, by status key, with where each
        is documented: the operation's own, then the document's common
        ones (x-common-responses: anyRequest, and unknownPath or
        unknownMethod when the request reached no operation)."""
        allowed = {}
        for key, response in self.common.get("anyRequest", {}).items():
            allowed[str(key)] = (response, "x-common-responses.anyRequest")
        if template is None:
            for key, response in self.common.get("unknownPath", {}).items():
                allowed[str(key)] = (response, "x-common-responses.unknownPath")
        elif operation is None:
            for key, response in self.common.get("unknownMethod", {}).items():
                allowed[str(key)] = (response, "x-common-responses.unknownMethod")
        else:
            for key, response in operation.get("responses", {}).items():
                allowed[str(key)] = (response, "operation")
        return allowed


def response_key(allowed, status):
    """The documented key that covers a status: '404', then '4XX', then 'default'."""
    for key in (str(status), f"{str(status)[0]}XX", "default"):
        if key in allowed:
            return key
    return None


def _segments(template):
    return [] if template == "/" else template[1:].split("/")


def _is_parameter(part):
    return re.fullmatch(r"\{[^{}/]+\}", part) is not None


def _decode(segment):
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError:
        return segment  # undecodable: matches a parameter, never a literal
