#!/usr/bin/env python3
"""The house rules of api/, checked (`make lint`; ARCHITECTURE.md has the why).

    scripts/lint.py [API_DIR]   check API_DIR (default: api); exit 1 on any finding
    scripts/lint.py --self-test run the checks on small bad trees: each rule must fire

Rules, each finding printed as FILE:LINE: message:
  framework    ulfius.h and microhttpd.h are included in api/net/ only
  libpq        libpq-fe.h is included in api/store/ only
  curl         curl/curl.h is included in api/outbound/ only (outgoing HTTP)
  store-header api/net/ and api/http/ include no store header
  net-header   a header of api/net/ is included only by api/net/ and api/main.c
  cycle        the include graph between modules (a .c and its .h are one
               module) has no cycle
  length       no file in api/ is longer than 400 lines
  banned       strcpy, strcat, sprintf, atoi, atol, atoll and gets are not
               called (snprintf, memcpy and parse_int_range are the forms to use)
Standard library only; it reads each file once.
"""
import os
import re
import sys
import tempfile

MAX_LINES = 400
BANNED = ("strcpy", "strcat", "sprintf", "atoi", "atol", "atoll", "gets")
BANNED_CALL = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(BANNED) + r")\s*\(")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SOURCE_SUFFIXES = (".c", ".h", ".def")


def strip_comments_and_strings(text):
    """The text with comments, string and character literals blanked (line
    breaks kept), so a banned name in a comment or a message is no call."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1 : j - 1]) + (text[j - 1] if j - 1 > i else ""))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def module_of(rel):
    """store/db.c and store/db.h are the module store/db."""
    return os.path.splitext(rel)[0]


def find_cycles(edges):
    """Each cycle of the module graph once, as a list of modules."""
    cycles, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, {})):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return cycles


def lint(api_dir):
    """The findings in api_dir, as (path, line, rule, message)."""
    findings = []
    prefix = os.path.basename(os.path.normpath(api_dir))
    shown_dir = os.path.normpath(api_dir).replace(os.sep, "/")
    files = []
    for root, dirs, names in os.walk(api_dir):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(SOURCE_SUFFIXES):
                full = os.path.join(root, name)
                files.append((os.path.relpath(full, api_dir).replace(os.sep, "/"), full))
    known = {rel for rel, _ in files}
    edges = {}  # module -> {included module: (file, line)}
    for rel, full in files:
        shown = shown_dir + "/" + rel
        top = rel.split("/")[0] if "/" in rel else ""
        with open(full, encoding="utf-8", errors="replace") as f:
            text = f.read()
        lines = text.split("\n")
        count = len(lines) - (1 if text.endswith("\n") else 0)
        if count > MAX_LINES:
            findings.append((shown, MAX_LINES + 1, "length",
                             "%d lines, over %d: split the file along its jobs" % (count, MAX_LINES)))
        for number, line in enumerate(lines, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            kind, target = m.groups()
            if kind == "<":
                if target in ("ulfius.h", "microhttpd.h") and top != "net":
                    findings.append((shown, number, "framework",
                                     "%s is included outside %s/net/: only the transport may use the framework"
                                     % (target, prefix)))
                if target == "libpq-fe.h" and top != "store":
                    findings.append((shown, number, "libpq",
                                     "libpq-fe.h is included outside %s/store/: only the store speaks SQL" % prefix))
                if target.startswith("curl/") and top != "outbound":
                    findings.append((shown, number, "curl",
                                     "%s is included outside %s/outbound/: only outbound/ makes HTTP requests"
                                     % (target, prefix)))
                continue
            resolved = target if target in known else os.path.normpath(
                os.path.join(os.path.dirname(rel), target)).replace(os.sep, "/")
            if resolved not in known:
                continue
            target_top = resolved.split("/")[0] if "/" in resolved else ""
            if target_top == "store" and top in ("net", "http"):
                findings.append((shown, number, "store-header",
                                 "%s is a store header, included by %s/%s/: the transport and HTTP layers know "
                                 "no store types" % (resolved, prefix, top)))
            if target_top == "net" and top != "net" and rel != "main.c":
                findings.append((shown, number, "net-header",
                                 "%s is a transport header, included outside %s/net/ and main.c"
                                 % (resolved, prefix)))
            a, b = module_of(rel), module_of(resolved)
            if a != b:
                edges.setdefault(a, {}).setdefault(b, (shown, number))
        code = strip_comments_and_strings(text)
        for number, line in enumerate(code.split("\n"), 1):
            for m in BANNED_CALL.finditer(line):
                findings.append((shown, number, "banned",
                                 "%s() is banned in %s/: use a bounded or checked form (snprintf, memcpy, "
                                 "parse_int_range, parse_id)" % (m.group(1), prefix)))
    for cycle in find_cycles(edges):
        steps = []
        for a, b in zip(cycle, cycle[1:]):
            where = edges[a][b]
            steps.append("%s -> %s (%s:%d)" % (a, b, where[0], where[1]))
        first = edges[cycle[0]][cycle[1]]
        findings.append((first[0], first[1], "cycle", "include cycle between modules: " + "; ".join(steps)))
    return findings


def report(findings):
    for path, line, rule, message in findings:
        print("%s:%d: [%s] %s" % (path, line, rule, message))


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def self_test():
    """Every rule fires on a small bad tree (naming the file and line), and
    a clean tree with look-alikes passes."""
    failures = []

    def expect(name, files, rule, path, line, count=1):
        with tempfile.TemporaryDirectory() as tmp:
            root = os.path.join(tmp, "api")
            for rel, text in files.items():
                write(root, rel, text)
            found = [f for f in lint(root) if f[2] == rule]
            hits = [f for f in found if f[0] == root + "/" + path and f[1] == line]
            if len(found) != count or not hits:
                failures.append("%s: expected %d [%s] finding(s) at api/%s:%d, got %s"
                                % (name, count, rule, path, line, found or "none"))

    expect("ulfius outside net", {"app/a.c": "#include <stdio.h>\n#include <ulfius.h>\n"},
           "framework", "app/a.c", 2)
    expect("microhttpd outside net", {"http/b.h": "#include <microhttpd.h>\n"}, "framework", "http/b.h", 1)
    expect("libpq outside store", {"resources/c.c": "\n\n#include <libpq-fe.h>\n"}, "libpq", "resources/c.c", 3)
    expect("curl outside outbound", {"jobs/w.c": "#include <curl/curl.h>\n"}, "curl", "jobs/w.c", 1)
    expect("store header in http", {"store/store.h": "", "http/d.c": '#include "store/store.h"\n'},
           "store-header", "http/d.c", 1)
    expect("store header in net", {"store/db.h": "", "net/e.c": '#include "store/db.h"\n'},
           "store-header", "net/e.c", 1)
    expect("net header in app", {"net/server.h": "", "app/f.c": '#include "net/server.h"\n'},
           "net-header", "app/f.c", 1)
    expect("cycle", {"a/one.h": '#include "a/two.h"\n', "a/two.c": '\n#include "a/one.h"\n',
                     "a/two.h": ""}, "cycle", "a/one.h", 1)
    expect("cycle of three", {"s/db.c": '#include "s/cache.h"\n', "s/cache.c": '#include "s/fold.h"\n',
                              "s/fold.c": '#include "s/db.h"\n', "s/db.h": "", "s/cache.h": "",
                              "s/fold.h": ""}, "cycle", "s/cache.c", 1)
    expect("long file", {"g.c": "int x;\n" * 401}, "length", "g.c", 401)
    for i, name in enumerate(BANNED):
        expect(name, {"util/h.c": "void f(void)\n{\n    %s (a);\n}\n" % name}, "banned", "util/h.c", 3)
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "api")
        write(root, "net/server.c", "#include <ulfius.h>\n#include <microhttpd.h>\n#include \"net/server.h\"\n")
        write(root, "net/server.h", "")
        write(root, "main.c", '#include "net/server.h"\n')
        write(root, "store/db.c", "#include <libpq-fe.h>\n")
        write(root, "outbound/post.c", "#include <curl/curl.h>\n")
        write(root, "http/reply.c", '#include "errors.def"\n#include "http/reply.h"\n')
        write(root, "http/reply.h", "")
        write(root, "errors.def", "")
        write(root, "util/ok.c", "/* no strcpy( here */\nvoid f(void)\n{\n    snprintf(b, 4, \"atoi(\");\n"
                                 "    fgets(b, 4, f);\n    my_strcat(b);\n    vsnprintf(b, 4, s, ap);\n}\n"
                                 + "int y;\n" * 390)
        found = lint(root)
        if found:
            failures.append("clean tree: expected no finding, got %s" % found)
    for failure in failures:
        print("lint self-test: " + failure)
    print("lint self-test: %s" % ("failed" if failures else "every rule fires"))
    return 1 if failures else 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    api_dir = argv[1] if len(argv) > 1 else "api"
    findings = lint(api_dir)
    report(findings)
    if findings:
        print("lint: %d finding(s) in %s/ (rules: scripts/lint.py, ARCHITECTURE.md)" % (len(findings), api_dir))
        return 1
    print("lint: %s/ keeps the rules" % api_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
