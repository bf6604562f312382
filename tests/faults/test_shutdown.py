"""SIGTERM while keep-alive clients are busy (SPEC §6 and §10, shutdown).

On SIGTERM /readyz answers 503 at once; no new connection is accepted; every
request already received is answered in full (a streamed report included)
and its connection closed; the process exits 0 within SHUTDOWN_TIMEOUT.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

import faultlib

pytestmark = pytest.mark.shutdown

SHUTDOWN_TIMEOUT = 5
LIST = "/accounts?limit=50"
FORECAST = "/reports/forecast?period=next_12_months&group_by=month&split_by=owner"
LOAD_BEFORE_SIGNAL_S = 2.0


class Record:
    __slots__ = ("client", "path", "started", "sent", "ended", "status", "error", "complete")

    def __init__(self, client, path):
        self.client, self.path = client, path
        self.started = time.monotonic()
        self.sent = self.ended = self.status = self.error = None
        self.complete = False


def client_loop(i, port, token, path, records, state):
    """Loops on one keep-alive connection; stops at its first failure after
    the signal, or when the scenario is over."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SHUTDOWN_TIMEOUT + 3)
    headers = {"Authorization": f"Bearer {token}"}
    while not state["stop"].is_set():
        rec = Record(i, path)
        with state["lock"]:
            records.append(rec)
            state["inflight"][i] = rec
        try:
            conn.request("GET", path, headers=headers)
            rec.sent = time.monotonic()
            resp = conn.getresponse()
            rec.status = resp.status
            body = resp.read()
            json.loads(body)  # a truncated or garbled body does not parse
            rec.complete = True
        except Exception as e:  # noqa: BLE001 - classified below
            rec.error = f"{type(e).__name__}: {e}"
        rec.ended = time.monotonic()
        with state["lock"]:
            state["inflight"][i] = None
        signalled = state["signal_at"] is not None
        if rec.error is not None:
            conn.close()
            if signalled:
                return
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SHUTDOWN_TIMEOUT + 3)
    conn.close()


def classify(records, t_sig):
    """Splits the requests by whether they were fully sent before the signal."""
    out = {"before_ok": 0, "before_failed": [], "after_ok": 0, "after_refused": 0, "after_bad": [],
           "after_non2xx": 0}
    for r in records:
        if r.ended is None:
            continue  # the scenario ended while it was being sent; counted by nothing
        before = (r.sent is not None and r.sent < t_sig) or (r.error is not None and r.ended < t_sig)
        good = r.complete and r.status is not None and 200 <= r.status < 300
        if before:
            if good:
                out["before_ok"] += 1
            else:
                out["before_failed"].append(f"{r.path} status={r.status} {r.error or ''}".strip())
        elif good:
            out["after_ok"] += 1
        elif r.complete:
            out["after_non2xx"] += 1  # a complete answer, e.g. 503: allowed
        elif r.error and r.error.split(":")[0] in ("ConnectionRefusedError", "ConnectionResetError",
                                                   "RemoteDisconnected", "BrokenPipeError",
                                                   "ConnectionAbortedError"):
            out["after_refused"] += 1  # refused or closed without an answer: allowed
        else:
            out["after_bad"].append(f"{r.path} status={r.status} {r.error}")
    return out


def new_connection_probe(port, result):
    """A connection opened after the signal must be refused or reset."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
    except ConnectionRefusedError:
        result["new_connection"] = "refused"
        return
    except OSError as e:
        result["new_connection"] = f"connect failed: {type(e).__name__}"
        return
    try:
        s.settimeout(SHUTDOWN_TIMEOUT + 2)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data = s.recv(200)
        first_line = data.split(b"\r\n")[0].decode(errors="replace")
        result["new_connection"] = f"ANSWERED {first_line}" if data else "closed without an answer"
    except ConnectionResetError:
        result["new_connection"] = "reset"
    except socket.timeout:
        result["new_connection"] = "NO ANSWER (timed out)"
    except OSError as e:
        result["new_connection"] = f"{type(e).__name__}"
    finally:
        s.close()


READY_CONNECTIONS = 6


def open_ready_connections(port):
    """Keep-alive connections that have each had a /readyz 200 before the signal."""
    conns = []
    for _ in range(READY_CONNECTIONS):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=SHUTDOWN_TIMEOUT + 2)
        c.request("GET", "/readyz")
        r = c.getresponse()
        r.read()
        assert r.status == 200 and not r.will_close, (r.status, r.getheaders())
        conns.append(c)
    return conns


def ask_ready(conns, t_sig, within_s=0.02):
    """Asks /readyz after the signal on the connections opened before it,
    each used once, at once and then every ~2 ms while the answers are not
    503 (the server may not have taken the signal yet), for up to within_s.
    Returns ([(ms after the signal, answer)], whether a 503 came)."""
    answers = []
    for conn in conns:
        sent_ms = (time.monotonic() - t_sig) * 1000
        try:
            conn.request("GET", "/readyz")
            r = conn.getresponse()
            json.loads(r.read())
            answer = r.status
        except Exception as e:  # noqa: BLE001
            answer = type(e).__name__
        answers.append((sent_ms, answer))
        if answer == 503 or time.monotonic() - t_sig > within_s:
            break
        time.sleep(0.002)
    for conn in conns:
        conn.close()
    return answers, any(a == 503 for _, a in answers)


@pytest.mark.deadline(45)
@pytest.mark.parametrize("run", [1, 2, 3])
def test_sigterm_under_load(run, shared_pg, shared_token, seeded, servers, figures):
    server = servers(shared_pg.url, THREADS=2, SHUTDOWN_TIMEOUT=SHUTDOWN_TIMEOUT, CONNECTION_TIMEOUT=15,
                     LOG_LEVEL="info")
    port, token = server.port, shared_token
    # Connections for /readyz, kept alive from before the signal.
    ready = open_ready_connections(port)

    records = []
    state = {"stop": threading.Event(), "lock": threading.Lock(), "inflight": {}, "signal_at": None}
    paths = [LIST] * 6 + [FORECAST] * 2
    threads = faultlib.run_threads([(client_loop, (i, port, token, p, records, state)) for i, p in enumerate(paths)])
    time.sleep(LOAD_BEFORE_SIGNAL_S)

    # Signal while a forecast is in flight (sent, not answered yet), if one
    # comes within a second.
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        with state["lock"]:
            busy = [rec for rec in state["inflight"].values() if rec is not None and rec.sent is not None]
        if any(rec.path == FORECAST for rec in busy):
            break
        time.sleep(0.0005)
    with state["lock"]:
        t_sig = time.monotonic()
        os.kill(server.pid, signal.SIGTERM)
        state["signal_at"] = t_sig
        inflight = [rec.path for rec in state["inflight"].values() if rec is not None and rec.sent is not None]
    probe = {}
    ready_answers, ready_503 = ask_ready(ready, t_sig)
    time.sleep(max(0.0, 0.05 - (time.monotonic() - t_sig)))
    probe_thread = faultlib.run_threads([(new_connection_probe, (port, probe))])

    try:
        server.proc.wait(SHUTDOWN_TIMEOUT + 1 - (time.monotonic() - t_sig))
        exit_s = time.monotonic() - t_sig
        exit_code = server.proc.returncode
    except subprocess.TimeoutExpired:
        exit_s, exit_code = None, None
        server.kill()
    state["stop"].set()
    stuck = faultlib.join_all(threads + probe_thread, 5)
    with state["lock"]:
        c = classify(list(records), t_sig)

    figures(f"run {run}: {len(records)} requests; in flight at SIGTERM: {len(inflight)} "
            f"({sum(p == FORECAST for p in inflight)} forecasts)")
    figures(f"run {run}: sent before the signal: {c['before_ok']} ok, {len(c['before_failed'])} failed"
            + (f" {c['before_failed'][:4]}" if c["before_failed"] else ""))
    figures(f"run {run}: after the signal: {c['after_ok']} ok, {c['after_non2xx']} complete non-2xx, "
            f"{c['after_refused']} refused/closed, {len(c['after_bad'])} incomplete"
            + (f" {c['after_bad'][:4]}" if c["after_bad"] else ""))
    figures(f"run {run}: /readyz on connections kept alive from before SIGTERM: "
            f"{', '.join(f'{a} at {ms:.1f} ms' for ms, a in ready_answers)}; new connection: {probe.get('new_connection')}")
    figures(f"run {run}: exit status {exit_code} after "
            + (f"{exit_s:.2f} s" if exit_s is not None else f"more than {SHUTDOWN_TIMEOUT + 1} s (killed)")
            + (f"; {len(stuck)} client threads stuck" if stuck else ""))

    assert not c["before_failed"], f"{len(c['before_failed'])} requests sent before SIGTERM failed: " \
                                   f"{c['before_failed'][:5]}"
    assert not c["after_bad"], f"incomplete answers after SIGTERM: {c['after_bad'][:5]}"
    assert exit_code == 0 and exit_s is not None, \
        f"exit status {exit_code}, exit after {exit_s} s (limit SHUTDOWN_TIMEOUT + 1 = {SHUTDOWN_TIMEOUT + 1} s)"
    assert ready_503, f"/readyz right after SIGTERM (ms after it, answer): {ready_answers} (want a 503 within 20 ms)"
    assert probe.get("new_connection") in ("refused", "reset", "closed without an answer"), \
        f"a new connection after SIGTERM: {probe.get('new_connection')}"
    assert not stuck, f"{len(stuck)} client threads never finished"
