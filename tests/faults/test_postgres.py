"""PostgreSQL restarted or killed under load (SPEC §5: 503 with Retry-After
while the database is unreachable; Idempotency-Key makes retries safe).

These scenarios have a cluster of their own, which they stop and kill.
"""
import http.client
import json
import os
import signal
import threading
import time
import uuid

import pytest

import faultlib

pytestmark = pytest.mark.postgres

VICTIM_PORT = int(os.environ.get("FAULTS_PG_PORT_VICTIM", "5444"))
REQUEST_TIMEOUT = 5
RECOVERY_S = 2.0


@pytest.fixture(scope="module")
def victim():
    cluster = faultlib.Cluster(".pg-faults-victim", VICTIM_PORT).create()
    cluster.token = faultlib.create_admin(cluster.url)
    yield cluster
    try:
        cluster.stop()
    except Exception as e:  # noqa: BLE001
        print(f"stopping {cluster.dir}: {e}")


def restart_after_kill(cluster, timeout=60):
    """Starts the cluster again; retried while the killed one's processes
    are still going away."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return cluster.start(timeout=max(5, deadline - time.monotonic()))
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def is_problem_503(status, headers, body):
    if status != 503 or headers is None:
        return False
    try:
        doc = json.loads(body)
    except ValueError:
        return False
    return (headers.get("retry-after", "").strip().isdigit()
            and headers.get("content-type", "").startswith("application/problem+json")
            and doc.get("status") == 503)


def reader(i, port, token, ids, out, stop):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    headers = {"Authorization": f"Bearer {token}"}
    n = i
    while not stop.is_set():
        path = f"/accounts/{ids[n % len(ids)]}"
        n += 1
        t0 = time.monotonic()
        status = hdrs = body = error = None
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            status, hdrs = resp.status, {k.lower(): v for k, v in resp.getheaders()}
        except Exception as e:  # noqa: BLE001
            error = f"{type(e).__name__}: {e}"
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        t1 = time.monotonic()
        out.append((t0, t1, status, is_problem_503(status, hdrs, body), error))
        if status == 503:
            time.sleep(0.05)  # a polite client would wait Retry-After; a short pause keeps the figures dense
    conn.close()


@pytest.mark.deadline(90)
def test_postgres_restart_under_reads(victim, servers, figures):
    server = servers(victim.url, THREADS=2, CONNECTION_TIMEOUT=15)
    api = faultlib.Api(server.port, victim.token)
    ids = [api.ok("POST", "/accounts", {"name": faultlib.unique("Reader")})["id"] for _ in range(20)]
    api.close()
    out, stop = [], threading.Event()
    threads = faultlib.run_threads([(reader, (i, server.port, victim.token, ids, out, stop)) for i in range(8)])
    time.sleep(2)
    t_stop = time.monotonic()
    victim.stop()
    t_down = time.monotonic()
    time.sleep(3)
    t_start = time.monotonic()
    victim.start()
    t_up = time.monotonic()
    time.sleep(RECOVERY_S + 2)
    stop.set()
    stuck = faultlib.join_all(threads, REQUEST_TIMEOUT + 2)

    rows = sorted(out)
    errors = [r for r in rows if r[4] is not None]
    bad_status = [r for r in rows if r[2] is not None and r[2] != 200 and not r[3]]
    s503 = [r for r in rows if r[3]]
    late = [r for r in rows if r[0] >= t_up + RECOVERY_S and r[2] != 200]
    # Recovery: from PostgreSQL up to the end of the last answer that was not a 200.
    not_ok_after_up = [r for r in rows if r[1] >= t_up and r[2] != 200]
    recovered_after = (max(r[1] for r in not_ok_after_up) - t_up) if not_ok_after_up else 0.0
    slowest = max((r[1] - r[0] for r in rows), default=0)
    figures(f"{len(rows)} reads by 8 threads; PostgreSQL stopped in {t_down - t_stop:.2f} s, down "
            f"{t_start - t_down:.2f} s, started in {t_up - t_start:.2f} s")
    if s503:
        figures(f"503 window: {len(s503)} answers 503 (Retry-After, problem+json) from "
                f"{s503[0][1] - t_stop:+.2f} s to {s503[-1][1] - t_stop:+.2f} s after the stop began "
                f"({s503[-1][1] - s503[0][1]:.2f} s long)")
    figures(f"all 200 again {recovered_after:.2f} s after PostgreSQL accepted connections; "
            f"slowest request {slowest:.2f} s")
    statuses = {}
    for r in rows:
        key = r[2] if r[2] is not None else r[4].split(":")[0]
        statuses[key] = statuses.get(key, 0) + 1
    figures(f"answers: {statuses}")

    assert not stuck, f"{len(stuck)} reader threads still waiting"
    assert not errors, f"{len(errors)} requests got no answer (timeout {REQUEST_TIMEOUT} s or reset): " \
                       f"{[e[4] for e in errors[:5]]}"
    assert not bad_status, f"answers other than 200 and a 503 problem with Retry-After: " \
                           f"{sorted({r[2] for r in bad_status})}"
    assert s503, "no 503 while PostgreSQL was down"
    assert not late, f"{len(late)} answers were not 200 more than {RECOVERY_S} s after PostgreSQL came back"


def writer(w, run_id, port, token, acked, stats, stop_new, give_up_at):
    """Logical writes, each retried with its key and body until acknowledged."""
    conn = None
    n = 0
    while not stop_new.is_set() and time.monotonic() < give_up_at:
        name = f"{run_id}-{w}-{n}"
        n += 1
        key = uuid.uuid4().hex
        body = json.dumps({"name": name}).encode()
        while time.monotonic() < give_up_at:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
            stats["attempts"] += 1
            try:
                conn.request("POST", "/accounts", body=body, headers={
                    "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except Exception as e:  # noqa: BLE001
                stats[type(e).__name__] = stats.get(type(e).__name__, 0) + 1
                conn.close()
                conn = None
                time.sleep(0.1)
                continue
            if 200 <= status < 300:
                acked.append(name)
                if resp.getheader("Idempotent-Replayed") == "true":
                    stats["replayed"] += 1
                break
            stats[status] = stats.get(status, 0) + 1
            time.sleep(0.1 if status in (409, 503) or status >= 500 else 0.5)
        else:
            stats["unacknowledged"] += 1
    if conn is not None:
        conn.close()


@pytest.mark.deadline(120)
def test_postgres_sigkill_under_idempotent_writes(victim, servers, figures):
    victim.start()  # running already unless the previous scenario left it down
    server = servers(victim.url, THREADS=2, CONNECTION_TIMEOUT=15)
    run_id = faultlib.unique("kill")
    acked, stop_new = [], threading.Event()
    stats = [{"attempts": 0, "replayed": 0, "unacknowledged": 0} for _ in range(4)]
    give_up_at = time.monotonic() + 90
    threads = faultlib.run_threads([(writer, (w, run_id, server.port, victim.token, acked, stats[w], stop_new,
                                              give_up_at)) for w in range(4)])
    time.sleep(2)
    acked_before = len(acked)
    pid = victim.postmaster_pid()
    t_kill = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    time.sleep(1)
    restart_after_kill(victim)
    t_up = time.monotonic()
    time.sleep(2)
    stop_new.set()
    stuck = faultlib.join_all(threads, give_up_at - time.monotonic() + REQUEST_TIMEOUT + 2)

    rows = victim.psql(f"select name, count(*) from accounts where name like '{run_id}-%' group by name")
    found = {name: int(count) for name, count in rows}
    lost = [n for n in acked if n not in found]
    duplicates = {n: c for n, c in found.items() if c > 1}
    unacked_present = [n for n in found if n not in set(acked)]
    total = {}
    for s in stats:
        for k, v in s.items():
            total[k] = total.get(k, 0) + v
    other_5xx = {k: v for k, v in total.items() if isinstance(k, int) and k >= 500 and k != 503}
    figures(f"postmaster {pid} SIGKILLed after {acked_before} acknowledged writes; PostgreSQL back "
            f"{t_up - t_kill:.2f} s later")
    figures(f"{len(acked)} writes acknowledged, {len(found)} distinct names in the table "
            f"({sum(found.values())} rows): {len(lost)} lost, {len(duplicates)} duplicated, "
            f"{len(unacked_present)} present without acknowledgement")
    figures(f"attempts and failures: {total}")

    assert not stuck, f"{len(stuck)} writers still busy"
    assert total["unacknowledged"] == 0, f"{total['unacknowledged']} writes never acknowledged"
    assert not lost, f"acknowledged but missing: {lost[:10]}"
    assert not duplicates, f"written more than once: {list(duplicates.items())[:10]}"
    assert not unacked_present, f"written but never acknowledged: {unacked_present[:10]}"
    assert not other_5xx, f"answers 5xx other than 503 while PostgreSQL was down or recovering: {other_5xx}"
