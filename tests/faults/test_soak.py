"""Soak: 200,000 mixed requests (reads, writes, reports, bad input) from
keep-alive clients. No 5xx at all, every kind gets the status it should,
the server's memory does not grow and its descriptors come back.
"""
import json
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

import faultlib

pytestmark = pytest.mark.soak

WARMUP = int(os.environ.get("FAULTS_SOAK_WARMUP", "20000"))
REQUESTS = int(os.environ.get("FAULTS_SOAK_REQUESTS", "200000"))
CLIENTS = int(os.environ.get("FAULTS_SOAK_CLIENTS", "4"))
MAX_RSS_GROWTH = 0.05
LUA = os.path.join(os.path.dirname(__file__), "soak.lua")

EXPECTED = {
    "get_account": {200}, "list_accounts": {200}, "get_opportunity": {200}, "list_opportunities": {200},
    "lookups": {200}, "create_account": {201}, "patch_account": {200}, "patch_opportunity": {200},
    "forecast": {200}, "funnel": {200},
    "bad_json": {400}, "unknown_param": {400}, "bad_id": {404}, "oversized_limit": {400}, "bad_token": {401},
    "invalid_body": {422},
}


def run_wrk(port, env, requests, limit_s):
    """Runs soak.lua for `requests` requests; interrupts wrk once every thread
    has its share (wrk would wait for -d otherwise). Returns (the SOAK_JSON
    figures, wall seconds)."""
    cmd = ["wrk", f"-t{CLIENTS}", f"-c{CLIENTS}", f"-d{int(limit_s)}s", "--timeout", "5s", "-s", LUA,
           f"http://127.0.0.1:{port}"]
    env = dict(os.environ, SOAK_REQUESTS=str(requests), SOAK_THREADS=str(CLIENTS), **env)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    faultlib.record_pid(proc.pid)
    lines, done_threads = [], [0]

    def read():
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("SOAK_THREAD_DONE"):
                done_threads[0] += 1
                if done_threads[0] == CLIENTS:
                    proc.send_signal(signal.SIGINT)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc.wait(limit_s + 15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        raise AssertionError(f"wrk did not finish within {limit_s + 15} s")
    reader.join(5)
    wall = time.monotonic() - t0
    figures = [json.loads(line.split(" ", 1)[1]) for line in lines if line.startswith("SOAK_JSON ")]
    assert figures, "wrk printed no figures:\n" + "".join(lines[-30:])
    assert done_threads[0] == CLIENTS, \
        f"only {done_threads[0]} of {CLIENTS} clients made their share within {limit_s} s:\n" + "".join(lines[-30:])
    return figures[0], wall


def judge(result):
    """Splits the "kind status" counts into 5xx, other unexpected, by kind."""
    five, unexpected, by_kind = {}, {}, {}
    for key, n in result["counts"].items():
        kind, status = key.rsplit(" ", 1)
        status = int(status)
        by_kind[kind] = by_kind.get(kind, 0) + n
        if status >= 500:
            five[key] = n
        elif status not in EXPECTED[kind]:
            unexpected[key] = n
    return five, unexpected, by_kind


def settle_fds(server, target, timeout=5):
    return faultlib.wait_until(lambda: (server.fds() or 0) <= target and server.fds(), timeout) or server.fds()


@pytest.mark.deadline(330)
def test_soak_mixed_load(shared_pg, shared_token, seeded, servers, figures):
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed (scripts/deps.sh faults installs it)")
    server = servers(shared_pg.url, THREADS=os.environ.get("FAULTS_SOAK_THREADS", "2"), CONNECTION_TIMEOUT=15,
                     LOG_LEVEL="warning")
    fds_start = server.fds()
    env = {
        "SOAK_TOKEN": shared_token, "SOAK_TAG": faultlib.unique("soak"),
        "SOAK_ACCOUNTS": ",".join(map(str, seeded["account_ids"])),
        "SOAK_OPPORTUNITIES": ",".join(map(str, seeded["opportunity_ids"])),
        "SOAK_OWNERS": ",".join(map(str, seeded["owner_ids"])),
    }
    warm, warm_s = run_wrk(server.port, env, WARMUP, 60)
    time.sleep(0.5)
    fds_base = settle_fds(server, fds_start + 4)
    rss_base = server.rss_kb()
    main, main_s = run_wrk(server.port, env, REQUESTS - WARMUP, 240)
    alive = server.alive()
    fds_end = settle_fds(server, fds_base) if alive else None
    rss_end = server.rss_kb() if alive else None
    growth = (rss_end - rss_base) / rss_base if alive else None

    five, unexpected, by_kind = {}, {}, {}
    for part in (warm, main):
        f, u, k = judge(part)
        for src, dst in ((f, five), (u, unexpected), (k, by_kind)):
            for key, n in src.items():
                dst[key] = dst.get(key, 0) + n
    answered = sum(by_kind.values())
    errors = {k: warm[k] + main[k] for k in ("err_connect", "err_read", "err_write", "err_timeout")}
    figures(f"{answered} answers ({WARMUP} warm-up + {REQUESTS - WARMUP}) from {CLIENTS} keep-alive clients: "
            f"{main['requests'] / main_s:.0f} requests/s after the warm-up (p50 {main['p50_us'] / 1000:.1f} ms, "
            f"p99 {main['p99_us'] / 1000:.1f} ms, max {main['max_us'] / 1000:.0f} ms); {warm_s + main_s:.1f} s in all")
    figures(f"by kind: {dict(sorted(by_kind.items()))}")
    figures(f"5xx: {sum(five.values())} {five if five else ''}; unexpected statuses: {unexpected or 0}; "
            f"socket errors: {errors}")
    figures(f"server RSS: {rss_base} kB after the warm-up, {rss_end} kB at the end "
            f"({growth * 100:+.1f} %)" if growth is not None else "server died")
    figures(f"server descriptors: {fds_start} at start, {fds_base} after the warm-up, {fds_end} at the end")

    assert alive, "server died"
    assert not five, f"5xx answers: {five}"
    assert not unexpected, f"unexpected statuses: {unexpected}"
    assert answered == REQUESTS, f"{answered} answers for {REQUESTS} requests"
    assert not any(errors.values()), f"socket errors: {errors}"
    assert growth < MAX_RSS_GROWTH, f"RSS grew {growth * 100:.1f} % ({rss_base} -> {rss_end} kB)"
    assert fds_end <= fds_base, f"descriptors {fds_end} at the end, {fds_base} after the warm-up"
