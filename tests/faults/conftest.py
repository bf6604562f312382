"""Fault suite fixtures (run by scripts/test-faults.sh).

- a PostgreSQL cluster shared by the scenarios that do not touch it;
- each scenario starts its own server (faultlib.Server) with its own env;
- every scenario has a hard deadline (marker `deadline(seconds)`), past which
  it fails, whatever it was waiting for;
- `figures` records the numbers a scenario measured; they are printed per
  scenario, with its duration, right before pytest's final summary (and
  appended to bin/faults/figures.txt as they come).
"""
import os
import resource
import signal
import time

import pytest

import faultlib

PG_PORT = int(os.environ.get("FAULTS_PG_PORT", "5442"))
DEFAULT_DEADLINE_S = 120

_figures = {}  # nodeid -> [lines]
_durations = {}  # nodeid -> seconds (setup + call + teardown)
_outcomes = {}  # nodeid -> passed / failed / skipped
_groups = {}  # nodeid -> flood / shutdown / postgres / soak
GROUPS = ("flood", "shutdown", "postgres", "soak")


def pytest_configure(config):
    for name, what in [("flood", "connection floods and slow clients"),
                       ("shutdown", "SIGTERM while clients are busy"),
                       ("postgres", "PostgreSQL restarted or killed under load"),
                       ("soak", "long mixed load: memory, descriptors, 5xx"),
                       ("deadline(seconds)", "hard time limit of the scenario")]:
        config.addinivalue_line("markers", f"{name}: {what}")
    # 1,100 client sockets in one process; the server started from here
    # inherits the limit too.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 8192 if hard == resource.RLIM_INFINITY else min(hard, 8192)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    os.makedirs(faultlib.RUN_DIR, exist_ok=True)


def pytest_collection_modifyitems(items):
    for item in items:
        _groups[item.nodeid] = next((g for g in GROUPS if item.get_closest_marker(g)), "other")


class ScenarioTimeout(Exception):
    pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    marker = item.get_closest_marker("deadline")
    seconds = marker.args[0] if marker else DEFAULT_DEADLINE_S

    def expired(signum, frame):
        raise ScenarioTimeout(f"scenario still running after its deadline of {seconds}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def pytest_runtest_logreport(report):
    _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration
    if report.failed:
        _outcomes[report.nodeid] = "FAILED" if report.when == "call" else "ERROR"
    elif report.when == "call":
        _outcomes[report.nodeid] = "SKIPPED" if report.skipped else "passed"
    elif report.skipped:
        _outcomes.setdefault(report.nodeid, "SKIPPED")


def pytest_terminal_summary(terminalreporter):
    if not _durations:
        return
    tr = terminalreporter
    tr.section("fault scenarios: figures and durations")
    total = 0.0
    for nodeid, seconds in _durations.items():
        total += seconds
        name = nodeid.split("::", 1)[-1]
        tr.write_line(f"{name}  [{_outcomes.get(nodeid, '?')}, {seconds:.1f} s]")
        for line in _figures.get(nodeid, []):
            tr.write_line(f"    {line}")
    per_group = {}
    for nodeid, seconds in _durations.items():
        group = _groups.get(nodeid, "other")
        per_group[group] = per_group.get(group, 0.0) + seconds
    tr.write_line("by part: " + ", ".join(f"{g} {s:.1f} s" for g, s in per_group.items())
                  + f"; {total:.1f} s in all (fixtures included)")


@pytest.fixture
def figures(request):
    """figures('flood: 1100 sockets, 1024 connected') records one line."""
    lines = _figures.setdefault(request.node.nodeid, [])
    path = os.path.join(faultlib.RUN_DIR, "figures.txt")

    def record(text):
        lines.append(text)
        with open(path, "a") as f:
            f.write(f"{request.node.name}: {text}\n")

    return record


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="session")
def shared_pg():
    """The cluster of the scenarios that leave PostgreSQL alone."""
    cluster = faultlib.Cluster(".pg-faults", PG_PORT).create()
    yield cluster
    try:
        cluster.stop()
    except Exception as e:  # noqa: BLE001 - teardown reports, never masks
        print(f"stopping {cluster.dir}: {e}")


@pytest.fixture(scope="session")
def shared_token(shared_pg):
    # create-admin migrates the new database first.
    return faultlib.create_admin(shared_pg.url)


@pytest.fixture
def servers(request):
    """servers(database_url, **env) starts a server; all are stopped after the
    test (SIGKILL when SIGTERM is not enough) and their log tail is shown on
    failure."""
    started = []

    def start(database_url, **env):
        s = faultlib.Server(database_url, request.node.name.replace("/", "_"), **env)
        started.append(s)
        return s.start()

    yield start
    for s in started:
        s.stop(timeout=5)
        tail = s.log_tail(15)
        if tail:
            request.node.add_report_section("teardown", f"server log {s.log_path} (tail)", tail)


@pytest.fixture
def deadline_left(request):
    """Seconds left before the scenario's deadline."""
    marker = request.node.get_closest_marker("deadline")
    end = time.monotonic() + (marker.args[0] if marker else DEFAULT_DEADLINE_S)
    return lambda: end - time.monotonic()


@pytest.fixture(scope="session")
def seeded(shared_pg, shared_token):
    """Owners, accounts and opportunities in the shared database."""
    server = faultlib.Server(shared_pg.url, "seed").start()
    try:
        t0 = time.monotonic()
        data = faultlib.seed(server.port, shared_token)
        data["seconds"] = time.monotonic() - t0
        return data
    finally:
        server.stop()
