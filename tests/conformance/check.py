"""Validates every exchange the API suite recorded against openapi.yaml.

    python3 tests/conformance/check.py openapi.yaml EXCHANGES.jsonl [UNEXERCISED_OUT]

Each line of EXCHANGES.jsonl is one request and its response, as
tests/api/conftest.py's record_exchange writes it. Prints the mismatches
(grouped, with an example request of each), how many documented
operation/status pairs the exchanges exercised, and exits 1 on any
mismatch. UNEXERCISED_OUT, when given, receives the pairs not exercised."""
import base64
import json
import re
import sys
from collections import OrderedDict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from document import Document  # noqa: E402
from exchange_check import ExchangeChecker  # noqa: E402

EXAMPLES_PER_MISMATCH = 3


def document_problems(doc):
    """What the checker itself needs of the document."""
    out = []
    if not doc.version.startswith("3.1"):
        out.append(f"openapi {doc.version}: the checker reads OpenAPI 3.1 (JSON Schema 2020-12)")
    for path, node in _walk(doc.root, ()):
        if isinstance(node, dict) and "nullable" in node:
            out.append(f"{'/'.join(path)}: 'nullable' is OpenAPI 3.0; in 3.1 write type: [..., 'null']")
    return out


def _walk(node, path):
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, path + (str(key),))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, path + (str(i),))


def read_exchanges(path):
    if not Path(path).exists():
        return
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                exchange = json.loads(line)
                exchange["body_bytes"] = base64.b64decode(exchange["body"])
                exchange["line"] = number
                yield exchange


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    doc = Document(argv[1])
    problems = document_problems(doc)
    if problems:
        print("conformance: the document cannot be checked against:", *problems, sep="\n  ")
        return 1
    checker = ExchangeChecker(doc)
    mismatches = OrderedDict()  # (operation, sentence) -> [example targets]
    exercised = set()
    count = 0
    for exchange in read_exchanges(argv[2]):
        count += 1
        covered, found = checker.check(exchange)
        if covered:
            exercised.add(covered)
        for sentence in found:
            where = f"{exchange['method']} {doc.match_path(exchange['target']) or '(no template)'}"
            kind = re.sub(r"\[\d+\]", "[*]", sentence)  # one group for every item of a list
            examples = mismatches.setdefault((where, exchange["status"], kind), [])
            examples.append(f"{exchange['method']} {exchange['target'][:120]} (line {exchange['line']})")
    documented = [(t, m, str(k)) for t, m, op in doc.operations() for k in op.get("responses", {})]
    missing = [p for p in documented if p not in exercised]
    if len(argv) == 4:
        Path(argv[3]).write_text("".join(f"{m.upper()} {t} {k}\n" for t, m, k in missing))
    for (where, status, sentence), examples in mismatches.items():
        print(f"MISMATCH {where} -> {status}: {sentence}  [{len(examples)}x]")
        for example in examples[:EXAMPLES_PER_MISMATCH]:
            print(f"    e.g. {example}")
    total = sum(len(e) for e in mismatches.values())
    print(f"conformance: {count} exchanges checked against {argv[1]}, {total} mismatches "
          f"({len(mismatches)} distinct)")
    print(f"conformance: documented operation/status pairs exercised: {len(documented) - len(missing)} "
          f"of {len(documented)}")
    if count == 0:
        print("conformance: no exchange was recorded (is CONFORMANCE_LOG set for the suite?)")
        return 1
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
