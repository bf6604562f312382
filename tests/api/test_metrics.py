"""GET /metrics (SPEC §8): a strictly parsed Prometheus text exposition
(format 0.0.4) that promtool accepts, counts that move by exactly what was
asked, route labels that are templates, the pool and process figures
checked against the process itself, and METRICS=off removing the route.

Servers of its own run on the two ports after the suite's (API_PORT + 1
and + 2), against the suite's database."""
import http.client
import math
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import API_URL, BIN, Client, assert_problem, make_account, unique

ROOT = Path(__file__).resolve().parents[2]
HOST, PORT = urlsplit(API_URL).hostname, urlsplit(API_URL).port
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FAMILIES = {
    "http_requests_total": "counter",
    "http_request_duration_seconds": "histogram",
    "db_pool_connections": "gauge",
    "db_errors_total": "counter",
    "webhook_deliveries_total": "counter",
    "webhook_backlog": "gauge",
    "change_feed_events_total": "counter",
    "process_resident_memory_bytes": "gauge",
    "process_open_fds": "gauge",
}
LE = ["0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]

# ---------------------------------------------------------------------------
# A strict parser of the text format 0.0.4
# ---------------------------------------------------------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(rf"({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?,?\}})? (\S+)(?: (-?\d+))?")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def unescape(value):
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), value)


def parse_value(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    assert re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text), f"bad value {text!r}"
    return float(text)


def family_of(sample_name, families):
    """The declared family a sample name belongs to, or None."""
    if sample_name in families and families[sample_name]["type"] in ("counter", "gauge", "untyped"):
        return sample_name
    for suffix in ("_bucket", "_sum", "_count"):
        base = sample_name[: -len(suffix)]
        if sample_name.endswith(suffix) and families.get(base, {}).get("type") == "histogram":
            return base
    return None


def parse_exposition(text):
    """Parses a scrape strictly; returns {family: {type, help, samples: [(name, labels, value)]}}.
    Every sample must follow its family's HELP and TYPE, a family's samples
    are contiguous, no series repeats, and every histogram is well formed."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    families, current, seen_series, closed = {}, None, set(), set()
    for number, line in enumerate(text[:-1].split("\n"), 1):
        where = f"line {number}: {line!r}"
        assert line == line.strip() and line, f"blank or padded {where}"
        if line.startswith("#"):
            m = re.fullmatch(rf"# (HELP|TYPE) ({NAME}) (.*)", line)
            if m is None:
                continue  # a plain comment
            kind, name, rest = m.groups()
            fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
            assert name not in closed, f"family {name} declared again after other families, {where}"
            assert not fam["samples"], f"{kind} after samples of {name}, {where}"
            if current is not None and current != name:
                closed.add(current)
            current = name
            if kind == "HELP":
                assert fam["help"] is None, f"second HELP, {where}"
                fam["help"] = rest
            else:
                assert fam["type"] is None and rest in TYPES, f"bad or second TYPE, {where}"
                fam["type"] = rest
            continue
        m = SAMPLE.fullmatch(line)
        assert m, f"not a sample, {where}"
        name, labels_text, value_text = m.group(1), m.group(2) or "", m.group(7)
        labels = {k: unescape(v) for k, v in re.findall(LABEL, labels_text)}
        assert len(labels) == len(re.findall(LABEL, labels_text)), f"repeated label, {where}"
        fam_name = family_of(name, families)
        assert fam_name is not None, f"sample of no declared family, {where}"
        assert fam_name == current, f"sample of {fam_name} outside its block, {where}"
        fam = families[fam_name]
        assert fam["help"] is not None and fam["type"] is not None, f"sample before HELP and TYPE, {where}"
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen_series, f"repeated series, {where}"
        seen_series.add(key)
        fam["samples"].append((name, labels, parse_value(value_text)))
    for name, fam in families.items():
        assert fam["help"] and fam["type"], f"{name} lacks HELP or TYPE"
        if fam["type"] == "counter":
            assert all(v >= 0 for _, _, v in fam["samples"]), name
        if fam["type"] == "histogram":
            check_histogram(name, fam["samples"])
    return families


def check_histogram(name, samples):
    """Per label set: buckets in increasing le, cumulative (never falling),
    a +Inf bucket equal to _count, and a _sum."""
    series = {}
    for sample_name, labels, value in samples:
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        s = series.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if sample_name == name + "_bucket":
            assert "le" in labels, (sample_name, labels)
            s["buckets"].append((parse_value(labels["le"]), value))
        else:
            assert "le" not in labels, (sample_name, labels)
            s["sum" if sample_name.endswith("_sum") else "count"] = value
    for rest, s in series.items():
        bounds = [b for b, _ in s["buckets"]]
        assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds), (name, rest, bounds)
        assert bounds and bounds[-1] == math.inf, (name, rest, "no +Inf bucket")
        counts = [c for _, c in s["buckets"]]
        assert all(a <= b for a, b in zip(counts, counts[1:])), (name, rest, counts)
        assert s["count"] is not None and s["sum"] is not None, (name, rest)
        assert counts[-1] == s["count"], (name, rest, counts[-1], s["count"])
        assert s["sum"] >= 0, (name, rest)


def test_the_parser_refuses_what_it_must():
    """The checks above can fail: each broken exposition is refused."""
    good = ("# HELP h_seconds x\n# TYPE h_seconds histogram\n"
            'h_seconds_bucket{le="1"} 1\nh_seconds_bucket{le="+Inf"} 2\nh_seconds_sum 0.5\nh_seconds_count 2\n')
    parse_exposition(good)
    broken = [
        good.replace("h_seconds_count 2", "h_seconds_count 3"),  # +Inf != _count
        good.replace('le="1"} 1', 'le="1"} 5'),  # not cumulative
        good.replace('h_seconds_bucket{le="+Inf"} 2\n', ""),  # no +Inf
        good + "stray_total 1\n",  # no family
        "# TYPE c_total counter\nc_total 1\n",  # no HELP
        "# HELP c_total x\n# TYPE c_total counter\nc_total 1\nc_total 2\n",  # repeated series
        "# HELP c_total x\n# TYPE c_total counter\nc_total{a=\"1\"} 1\n"
        "# HELP g x\n# TYPE g gauge\ng 1\nc_total{a=\"2\"} 1\n",  # outside its block
        "# HELP g x\n# TYPE g gauge\ng one\n",  # not a number
        "# HELP g x\n# TYPE g gauge\ng 1",  # no final newline
    ]
    for text in broken:
        with pytest.raises(AssertionError):
            parse_exposition(text)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def scrape_text(base=API_URL):
    r = Client(None, base).get("/metrics")
    assert r.status == 200, r
    assert r.headers["content-type"] == CONTENT_TYPE
    assert r.headers.get("x-request-id")
    return r.body.decode()


def scrape(base=API_URL):
    families = parse_exposition(scrape_text(base))
    assert {name: fam["type"] for name, fam in families.items()} == FAMILIES
    return families


def value(families, family, sample=None, **labels):
    """The value of one series (0 when it is not shown: it never moved)."""
    found = [v for n, l, v in families[family]["samples"] if n == (sample or family) and l == labels]
    assert len(found) <= 1
    return found[0] if found else 0


def requests_total(families, route, method, status):
    return value(families, "http_requests_total", route=route, method=method, status=str(status))


def duration_count(families, route):
    return value(families, "http_request_duration_seconds", "http_request_duration_seconds_count", route=route)


def duration_sum(families, route):
    return value(families, "http_request_duration_seconds", "http_request_duration_seconds_sum", route=route)


def raw_request(method, path, port=PORT):
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    conn.request(method, path)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status


def documented_paths():
    text = (ROOT / "openapi.yaml").read_text()
    return set(re.findall(r"^  (/\S*):\s*$", text, re.M))


# ---------------------------------------------------------------------------
# The scrape of the suite's server
# ---------------------------------------------------------------------------

def test_scrape_is_a_valid_exposition_without_a_token(anon, admin):
    admin.get("/accounts?limit=1")
    families = scrape()
    for fam in families.values():
        assert fam["help"].strip()
    # The suite's server runs THREADS=2 and the default REPORT_THREADS=2, so
    # DB_POOL_SIZE is 4 pooled connections in all.
    pool = {l["state"]: v for _, l, v in families["db_pool_connections"]["samples"]}
    assert set(pool) == {"busy", "idle", "closed"} and sum(pool.values()) == 4, pool
    assert pool["idle"] >= 1, pool
    assert value(families, "process_resident_memory_bytes") > 1 << 20
    assert value(families, "process_open_fds") >= 5  # stdio, the listen socket, epoll, PostgreSQL
    for _, labels, _ in families["http_request_duration_seconds"]["samples"]:
        if "le" in labels:
            assert labels["le"] in LE, labels


def test_promtool_accepts_a_real_scrape(admin, anon):
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: scripts/deps.sh test installs it (Debian package prometheus)"
    admin.get("/accounts?limit=1")
    anon.get(f"/no-such-{uuid.uuid4().hex}")
    anon.request("BREW", "/accounts")
    text = scrape_text()
    assert "http_request_duration_seconds_bucket" in text
    out = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "" and out.stderr.strip() == "", (out.stdout, out.stderr)


def test_requests_are_counted_exactly_under_their_route_template(admin):
    account = make_account(admin)
    created = admin.post("/opportunities", {"account_id": account["id"]})
    assert created.status == 201, created
    opp_id = created.json["id"]
    before = scrape()
    for _ in range(7):
        assert admin.get(f"/opportunities/{opp_id}").status == 200
    for _ in range(3):
        assert admin.request("HEAD", f"/opportunities/{opp_id}").status == 200
    for _ in range(2):
        assert_problem(admin.get("/opportunities/999999999999"), 404)
    after = scrape()
    route = "/opportunities/{id}"
    assert requests_total(after, route, "GET", 200) - requests_total(before, route, "GET", 200) == 7
    assert requests_total(after, route, "HEAD", 200) - requests_total(before, route, "HEAD", 200) == 3
    assert requests_total(after, route, "GET", 404) - requests_total(before, route, "GET", 404) == 2
    assert duration_count(after, route) - duration_count(before, route) == 12
    assert duration_sum(after, route) > duration_sum(before, route)
    # The raw path never becomes a label; every route label is a documented template.
    text = scrape_text()
    assert f"/opportunities/{opp_id}" not in text
    routes = {l["route"] for _, l, _ in after["http_requests_total"]["samples"]}
    assert route in routes and routes <= documented_paths() | {"unmatched"}, routes - documented_paths()


def test_every_route_label_is_a_documented_template():
    """The route labels are the route table's patterns written as templates:
    each must be a path of openapi.yaml, so dashboards read the same names."""
    patterns = re.findall(r'(?:\{|ROUTE\()"[A-Z]+", "([^"]+)"', (ROOT / "api" / "app" / "routes.c").read_text())
    assert len(patterns) >= 20
    templates = {re.sub(r":(\w+)", r"{\1}", p) for p in patterns}
    assert templates <= documented_paths(), templates - documented_paths()


def test_each_scrape_is_counted_once():
    first = scrape()
    second = scrape()
    assert requests_total(second, "/metrics", "GET", 200) - requests_total(first, "/metrics", "GET", 200) == 1


def test_unknown_paths_and_methods_share_bounded_labels(anon):
    before = scrape()
    paths = [f"/no-such-{uuid.uuid4().hex}" for _ in range(3)]
    for path in paths:
        assert_problem(anon.get(path), 404)
    assert raw_request("BREW", "/accounts") == 405
    assert raw_request("get", "/healthz") == 405  # methods are case-sensitive
    after = scrape()
    assert requests_total(after, "unmatched", "GET", 404) - requests_total(before, "unmatched", "GET", 404) == 3
    assert requests_total(after, "unmatched", "other", 405) - requests_total(before, "unmatched", "other", 405) == 2
    text = scrape_text()
    for path in paths:
        assert path not in text
    assert "BREW" not in text and 'method="get"' not in text


def test_counts_from_every_server_thread_add_up(anon):
    """Each pool thread counts in its own slot; a scrape folds them all, and
    scrapes made while the threads count are valid too (the ThreadSanitizer
    build checks the reads against the writes)."""
    before = scrape()
    with ThreadPoolExecutor(8) as pool:
        scrapes = [pool.submit(scrape) for _ in range(20)]
        statuses = list(pool.map(lambda _: Client(None).get("/healthz").status, range(400)))
        for during in scrapes:
            healthz = requests_total(during.result(), "/healthz", "GET", 200)
            assert requests_total(before, "/healthz", "GET", 200) <= healthz
    assert statuses == [200] * 400
    after = scrape()
    assert requests_total(after, "/healthz", "GET", 200) - requests_total(before, "/healthz", "GET", 200) == 400
    assert duration_count(after, "/healthz") - duration_count(before, "/healthz") == 400


def test_answers_of_the_api_are_not_database_errors(admin):
    before = value(scrape(), "db_errors_total")
    assert_problem(admin.post("/accounts", {"name": ""}), 422, "name")
    assert_problem(admin.get("/accounts/999999999999"), 404)
    external = unique("ext")
    make_account(admin, external_id=external)
    assert_problem(admin.post("/accounts", {"name": "again", "external_id": external}), 409)
    assert_problem(Client("crm_" + "x" * 43).get("/accounts"), 401)
    assert value(scrape(), "db_errors_total") == before


def test_change_feed_events_are_counted_as_they_are_listed(admin):
    for _ in range(3):
        make_account(admin)
    before = value(scrape(), "change_feed_events_total")
    page = admin.get("/changes?types=account&limit=2")
    assert page.status == 200 and len(page.json["data"]) == 2
    assert value(scrape(), "change_feed_events_total") == before + 2
    assert_problem(admin.get("/changes?limit=0"), 400, "limit")
    assert value(scrape(), "change_feed_events_total") == before + 2


def test_metrics_takes_no_query_parameters(anon):
    assert_problem(anon.get("/metrics?name=x"), 400, "name")


# ---------------------------------------------------------------------------
# Servers of its own
# ---------------------------------------------------------------------------

class OwnServer:
    """bin/crm-api on a port of the suite's, with extra environment."""

    def __init__(self, port, **env):
        if "DATABASE_URL" not in os.environ:
            pytest.skip("DATABASE_URL not set (run through scripts/test-api.sh)")
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = Path(BIN).resolve().parent / f"test-metrics-{port}.log"
        self.log = open(self.log_path, "wb")
        full_env = dict(os.environ, PORT=str(port), BIND="127.0.0.1", THREADS="2", LOG_LEVEL="info", **env)
        self.proc = subprocess.Popen([BIN, "serve"], stdout=self.log, stderr=subprocess.STDOUT, env=full_env)
        deadline = time.monotonic() + 30
        while True:
            try:
                if raw_request("GET", "/healthz", port) == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"server on {port} did not start; log: {self.log_path}")
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        text = self.log_path.read_text(errors="replace")
        assert not re.search(r"AddressSanitizer|LeakSanitizer|runtime error:|WARNING: ThreadSanitizer", text), \
            f"sanitizer report in {self.log_path}"
        assert self.proc.returncode == 0, f"exit status {self.proc.returncode}; log: {self.log_path}"


@pytest.fixture
def metrics_off_server():
    server = OwnServer(PORT + 1, METRICS="off")
    yield server
    server.stop()


@pytest.fixture
def tcp_server():
    """METRICS on, and PostgreSQL over TCP (the suite's server uses the unix
    socket), so its backends are the only crm-api ones with a client port."""
    pg_port = os.environ.get("PG_TEST_PORT")
    if not pg_port or shutil.which("psql") is None:
        pytest.skip("needs psql and PG_TEST_PORT (set by scripts/test-api.sh)")
    server = OwnServer(PORT + 2, METRICS="on", DB_POOL_SIZE="2",
                       DATABASE_URL=f"postgresql://crm@127.0.0.1:{pg_port}/crm")
    yield server
    server.stop()


def psql(sql):
    out = subprocess.run(["psql", os.environ["DATABASE_URL"], "-XqtA", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_metrics_off_removes_the_route(metrics_off_server, admin_token):
    # Only the GET is recorded for the conformance check (its 404 is
    # documented): with METRICS=off /metrics is no path at all (404 for every
    # method), which the document's /metrics template, written for the
    # default, cannot say for POST.
    for method in ("GET", "HEAD", "POST"):
        client = Client(None, metrics_off_server.base, record=method == "GET")
        r = client.request(method, "/metrics")
        assert r.status == 404, (method, r)
        if method != "HEAD":
            assert_problem(r, 404)
    assert client.get("/healthz").status == 200
    assert Client(admin_token, metrics_off_server.base).get("/accounts?limit=1").status == 200


def test_a_bad_metrics_setting_stops_the_start():
    out = subprocess.run([BIN, "serve"], capture_output=True, text=True, timeout=30,
                         env=dict(os.environ, METRICS="yes", PORT=str(PORT + 1)))
    assert out.returncode != 0
    assert 'METRICS="yes" must be on or off' in out.stderr


def test_pool_states_follow_the_connections(tcp_server, admin_token):
    # Connections are opened on first use: none yet (only /healthz was asked).
    families = scrape(tcp_server.base)
    pool = {l["state"]: v for _, l, v in families["db_pool_connections"]["samples"]}
    assert pool == {"busy": 0, "idle": 0, "closed": 2}
    assert value(families, "db_errors_total") == 0
    assert Client(admin_token, tcp_server.base).get("/accounts?limit=1").status == 200
    pool = {l["state"]: v for _, l, v in scrape(tcp_server.base)["db_pool_connections"]["samples"]}
    assert pool == {"busy": 0, "idle": 1, "closed": 1}


def test_broken_database_connections_are_counted(tcp_server, admin_token):
    client = Client(admin_token, tcp_server.base)
    assert client.get("/accounts?limit=1").status == 200
    before = value(scrape(tcp_server.base), "db_errors_total")
    # End the TCP server's backends (the suite's own server is on the socket)
    # and wait until they are gone.
    pids = psql("SELECT string_agg(pid::text, ',') FROM pg_stat_activity "
                "WHERE application_name = 'crm-api' AND client_port > 0")
    assert pids, "the TCP server has no backend"
    psql(f"SELECT pg_terminate_backend(pid) FROM unnest('{{{pids}}}'::int[]) AS pid")
    deadline = time.monotonic() + 10
    while psql(f"SELECT count(*) FROM pg_stat_activity WHERE pid = ANY('{{{pids}}}'::int[])") != "0":
        assert time.monotonic() < deadline, "terminated backends still there after 10 s"
        time.sleep(0.1)
    # The pooled connection is found broken, made again, and the request answered.
    assert client.get("/accounts?limit=1").status == 200
    assert value(scrape(tcp_server.base), "db_errors_total") >= before + 1


def test_process_figures_are_the_process_own(tcp_server):
    pid = tcp_server.proc.pid
    families = scrape(tcp_server.base)
    rss = value(families, "process_resident_memory_bytes")
    with open(f"/proc/{pid}/status") as f:
        vm_rss = int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1)) * 1024
    assert abs(rss - vm_rss) <= max(vm_rss // 4, 1 << 20), (rss, vm_rss)
    fds = value(families, "process_open_fds")
    # The scrape's own connection was open while it was counted.
    assert abs(fds - len(os.listdir(f"/proc/{pid}/fd"))) <= 2, fds
    held = [socket.create_connection(("127.0.0.1", tcp_server.port), timeout=10) for _ in range(6)]
    try:
        # libmicrohttpd accepts them when its threads get to it: a loaded
        # machine may take a moment.
        deadline = time.monotonic() + 5
        while (more := value(scrape(tcp_server.base), "process_open_fds")) < fds + 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert more >= fds + 6, (fds, more)
    finally:
        for s in held:
            s.close()
