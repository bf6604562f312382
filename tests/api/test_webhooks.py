"""Webhooks (SPEC §9): subscriptions (admins only), the secret shown once,
deliveries signed the Standard Webhooks way to a real receiver on
loopback, retries with backoff, a receiver that hangs, a server killed
between a commit and its delivery, the delivery log, manual retry, and a
subscription turned off after 3 days of failures.

Deliveries run on a private server with a database of its own, with
WEBHOOK_ALLOW_PRIVATE=on (the receiver is on loopback) and
WEBHOOK_RETRY_SCALE=0.01 (retry waits of 50 ms, 300 ms, 1.2 s...). The
URL policy is checked on the shared server, which keeps the default."""
import os
import re
import subprocess
import time

import pytest

from conftest import BIN, Client, assert_problem, unique
from private_server import PG_BIN, PrivateServer, private_database, psql
from webhook_receiver import Receiver, verify_signature

HOOK_ENV = {"WEBHOOK_ALLOW_PRIVATE": "on", "WEBHOOK_RETRY_SCALE": "0.01"}


class HookServer:
    """A private database, its admin, and a server on it that may deliver to loopback."""

    def __init__(self, url):
        self.database_url = url
        out = subprocess.run([BIN, "create-admin", "--name", "Hook Admin", "--email", f"{unique('h')}@example.com"],
                             check=True, capture_output=True, text=True,
                             env=dict(os.environ, DATABASE_URL=url, LOG_LEVEL="error"))
        self.token = out.stdout.strip()
        self.start()

    def start(self):
        self.server = PrivateServer(env=dict(HOOK_ENV, DATABASE_URL=self.database_url))
        self.admin = Client(self.token, base=self.server.base)

    def sql(self, statement):
        psql(self.database_url, statement)

    def query(self, statement):
        out = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                              "-d", self.database_url, "-f", "-"],
                             input=statement, check=True, capture_output=True, text=True, timeout=60)
        return out.stdout.strip()


@pytest.fixture(scope="module")
def hooks():
    with private_database() as (url, _):
        env = HookServer(url)
        try:
            yield env
        finally:
            assert env.server.stop() == 0
            assert env.server.sanitizer_reports() == []


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def subscribe(client, url, events=("account",), **extra):
    r = client.post("/webhooks", dict({"url": url, "events": list(events), "description": "tests"}, **extra))
    assert r.status == 201, r
    return r.json


def wait_until(check, timeout=20, every=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(every)


def deliveries(client, hook_id, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    r = client.get(f"/webhooks/{hook_id}/deliveries" + (f"?{query}" if query else ""))
    assert r.status == 200, r
    return r.json


# --- subscriptions -------------------------------------------------------------------------------------------


def test_subscription_crud_and_secret_shown_once(admin):
    r = admin.post("/webhooks", {"url": "https://example.com/hooks/crm", "events": ["opportunity", "account.created"],
                                 "description": "CRM sync"})
    assert r.status == 201, r
    hook = r.json
    assert r.headers["location"] == f"/webhooks/{hook['id']}"
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) >= 6 + 32
    assert hook["events"] == ["opportunity", "account.created"] and hook["active"] is True
    assert hook["disabled_reason"] is None
    got = admin.get(f"/webhooks/{hook['id']}")
    assert got.status == 200 and "secret" not in got.json and got.json["url"] == hook["url"]
    assert admin.get(f"/webhooks/{hook['id']}", headers={"If-None-Match": got.headers["etag"]}).status == 304
    listed = admin.get("/webhooks?limit=500")
    assert listed.status == 200 and hook["id"] in [h["id"] for h in listed.json["data"]]
    assert all("secret" not in h for h in listed.json["data"])
    patched = admin.patch(f"/webhooks/{hook['id']}", {"events": ["lookup_item.deleted"], "active": False},
                          headers={"If-Match": got.headers["etag"]})
    assert patched.status == 200, patched
    assert patched.json["events"] == ["lookup_item.deleted"] and patched.json["active"] is False
    assert patched.json["disabled_reason"]
    stale = admin.patch(f"/webhooks/{hook['id']}", {"description": None}, headers={"If-Match": got.headers["etag"]})
    assert_problem(stale, 412)
    assert_problem(admin.delete(f"/webhooks/{hook['id']}", headers={"If-Match": got.headers["etag"]}), 412)
    assert admin.delete(f"/webhooks/{hook['id']}", headers={"If-Match": patched.headers["etag"]}).status == 204
    assert_problem(admin.get(f"/webhooks/{hook['id']}"), 404)
    assert_problem(admin.patch(f"/webhooks/{hook['id']}", {"description": "x"}), 404)
    assert_problem(admin.delete(f"/webhooks/{hook['id']}"), 404)
    assert_problem(admin.post(f"/webhooks/{hook['id']}/ping"), 404)
    assert_problem(admin.get(f"/webhooks/{hook['id']}/deliveries"), 404)
    assert_problem(admin.post(f"/webhooks/{hook['id']}/deliveries/1/retry"), 404)


def test_members_are_forbidden(member_client):
    for method, path, body in [("GET", "/webhooks", None), ("POST", "/webhooks", {"url": "https://example.com/h",
                                                                                  "events": ["account"]}),
                               ("GET", "/webhooks/1", None), ("PATCH", "/webhooks/1", {"description": "x"}),
                               ("DELETE", "/webhooks/1", None), ("POST", "/webhooks/1/ping", None),
                               ("GET", "/webhooks/1/deliveries", None),
                               ("POST", "/webhooks/1/deliveries/1/retry", None)]:
        assert_problem(member_client.request(method, path, body=body), 403)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://[::1]/hook",
                                 "ftp://example.com/hook", "http:///hook", "http://", "https://192.168.1.10/",
                                 "http://169.254.169.254/latest/meta-data", "http://100.64.0.1/", "http://127.1/",
                                 "http://0.0.0.0/", "http://[fe80::1]/", "http://[fc00::1]/", "http://localhost/hook",
                                 "http://[::ffff:127.0.0.1]/", "http://user:pw@example.com/", "example.com/hook",
                                 "http://2130706433/"])
def test_private_and_bad_urls_are_refused(admin, url):
    assert_problem(admin.post("/webhooks", {"url": url, "events": ["account"]}), 422, "url")


def test_patching_to_a_private_url_is_refused(admin):
    hook = subscribe(admin, "https://example.com/h", events=["lookup_item.deleted"], active=False)
    assert_problem(admin.patch(f"/webhooks/{hook['id']}", {"url": "http://10.0.0.1/"}), 422, "url")
    assert admin.delete(f"/webhooks/{hook['id']}").status == 204


@pytest.mark.parametrize("body, field", [
    ({}, "url"), ({}, "events"), ({"url": 5, "events": ["account"]}, "url"),
    ({"url": "https://example.com/h", "events": "account"}, "events"),
    ({"url": "https://example.com/h", "events": []}, "events"),
    ({"url": "https://example.com/h", "events": ["account", "nope"]}, "events[1]"),
    ({"url": "https://example.com/h", "events": ["account.renamed"]}, "events[0]"),
    ({"url": "https://example.com/h", "events": [7]}, "events[0]"),
    ({"url": "https://example.com/h", "events": ["account"], "secret": "whsec_x"}, "secret"),
    ({"url": "https://example.com/h", "events": ["account"], "color": "red"}, "color"),
    ({"url": "https://example.com/h", "events": ["account"], "description": "x" * 501}, "description"),
    ({"url": "https://example.com/" + "a" * 2000, "events": ["account"]}, "url"),
])
def test_bad_bodies_name_the_field(admin, body, field):
    assert_problem(admin.post("/webhooks", body), 422, field)


def test_bad_patch_names_the_field(admin):
    hook = subscribe(admin, "https://example.com/h", events=["lookup_item.deleted"], active=False)
    assert_problem(admin.patch(f"/webhooks/{hook['id']}", {"events": ["x"]}), 422, "events[0]")
    assert_problem(admin.patch(f"/webhooks/{hook['id']}", {"events": None}), 422, "events")
    assert_problem(admin.patch(f"/webhooks/{hook['id']}", {"active": "yes"}), 422, "active")
    assert admin.delete(f"/webhooks/{hook['id']}").status == 204


# --- deliveries ----------------------------------------------------------------------------------------------


def test_ping_is_delivered_signed(hooks, receiver):
    hook = subscribe(hooks.admin, receiver.url)
    r = hooks.admin.post(f"/webhooks/{hook['id']}/ping")
    assert r.status == 202, r
    ping = r.json
    assert ping["event_type"] == "ping" and ping["status"] == "pending"
    (_, headers, body), = receiver.wait_for(1)
    assert headers["webhook-id"] == ping["event_id"]
    assert headers["content-type"] == "application/json"
    assert verify_signature(hook["secret"], headers, body)
    assert not verify_signature("whsec_" + "A" * 44, headers, body)
    event = receiver.events()[0]
    assert event["id"] == ping["event_id"] and event["type"] == "ping" and event["occurred_at"]
    assert event["data"] == {"webhook_id": hook["id"]}
    done = wait_until(lambda: [d for d in deliveries(hooks.admin, hook["id"])["data"] if d["status"] == "delivered"])
    assert done[0]["attempts"] == 1 and done[0]["last_status_code"] == 200 and done[0]["next_attempt_at"] is None
    metrics = Client(None, base=hooks.server.base).get("/metrics").body.decode()
    assert re.search(r'^webhook_deliveries_total\{result="delivered"\} [1-9]', metrics, re.M), metrics
    assert re.search(r"^webhook_backlog \d+$", metrics, re.M), metrics


def test_failing_receiver_gets_retries_with_the_same_id(hooks):
    receiver = Receiver(statuses=[500, 500, 500])
    try:
        hook = subscribe(hooks.admin, receiver.url)
        ping = hooks.admin.post(f"/webhooks/{hook['id']}/ping").json
        got = receiver.wait_for(4, timeout=30)
        assert {h["webhook-id"] for _, h, _ in got} == {ping["event_id"]}
        assert all(verify_signature(hook["secret"], h, b) for _, h, b in got)
        # The waits grow: 5 s, 30 s, 2 min scaled by 0.01.
        gaps = [b[0] - a[0] for a, b in zip(got, got[1:])]
        assert gaps[0] >= 0.04 and gaps[1] >= 0.25 and gaps[2] >= 1.0, gaps
        d = wait_until(lambda: [x for x in deliveries(hooks.admin, hook["id"])["data"] if x["status"] == "delivered"])
        assert d[0]["attempts"] == 4 and d[0]["last_status_code"] == 200 and d[0]["last_error"] is None
    finally:
        receiver.close()


def test_failed_attempt_shows_in_the_log_and_manual_retry_redelivers(hooks):
    receiver = Receiver(statuses=[503] * 4)
    try:
        hook = subscribe(hooks.admin, receiver.url)
        ping = hooks.admin.post(f"/webhooks/{hook['id']}/ping").json
        receiver.wait_for(4, timeout=30)
        # The 4th failure waits 15 min x 0.01 = 9 s: the log shows it waiting.
        d = wait_until(lambda: [x for x in deliveries(hooks.admin, hook["id"])["data"] if x["attempts"] == 4])[0]
        assert d["status"] == "pending" and d["last_status_code"] == 503 and d["last_error"] == "HTTP 503"
        assert d["next_attempt_at"] is not None
        r = hooks.admin.post(f"/webhooks/{hook['id']}/deliveries/{ping['id']}/retry")
        assert r.status == 202, r
        assert r.json["status"] == "pending"
        got = receiver.wait_for(5, timeout=5)
        assert got[4][1]["webhook-id"] == ping["event_id"]
        d = wait_until(lambda: [x for x in deliveries(hooks.admin, hook["id"])["data"] if x["status"] == "delivered"])
        assert d[0]["attempts"] == 5
        # A delivered one can be sent again too.
        assert hooks.admin.post(f"/webhooks/{hook['id']}/deliveries/{ping['id']}/retry").status == 202
        assert receiver.wait_for(6)[5][1]["webhook-id"] == ping["event_id"]
        assert_problem(hooks.admin.post(f"/webhooks/{hook['id']}/deliveries/999999999/retry"), 404)
    finally:
        receiver.close()


def test_deliveries_list_newest_first_in_pages(hooks, receiver):
    hook = subscribe(hooks.admin, receiver.url)
    ids = [hooks.admin.post(f"/webhooks/{hook['id']}/ping").json["id"] for _ in range(5)]
    receiver.wait_for(5)
    page = deliveries(hooks.admin, hook["id"], limit=2)
    assert [d["id"] for d in page["data"]] == ids[::-1][:2] and page["next_cursor"]
    rest = deliveries(hooks.admin, hook["id"], limit=10, cursor=page["next_cursor"])
    assert [d["id"] for d in rest["data"]] == ids[::-1][2:] and rest["next_cursor"] is None
    # Pings of one subscription go out in the order they were made.
    assert [e["id"] for e in receiver.events()] == [
        d["event_id"] for d in sorted(page["data"] + rest["data"], key=lambda d: d["id"])]
    assert_problem(hooks.admin.get(f"/webhooks/{hook['id']}/deliveries?limit=0"), 400)


def test_hanging_receiver_times_out_without_slowing_the_api(hooks):
    account = hooks.admin.post("/accounts", {"name": unique("Acct")}).json

    def p99(samples=150):
        times = []
        for _ in range(samples):
            t = time.monotonic()
            assert hooks.admin.get(f"/accounts/{account['id']}").status == 200
            times.append(time.monotonic() - t)
        times.sort()
        return times[int(len(times) * 0.99) - 1]

    before = p99()
    slow, fast = Receiver(), Receiver()
    slow.hang.set()
    try:
        hung = subscribe(hooks.admin, slow.url)
        other = subscribe(hooks.admin, fast.url)
        started = time.monotonic()
        hooks.admin.post(f"/webhooks/{hung['id']}/ping")
        slow.wait_for(1)
        during = p99()
        # Another subscription is served meanwhile.
        hooks.admin.post(f"/webhooks/{other['id']}/ping")
        fast.wait_for(1, timeout=5)
        assert time.monotonic() - started < 9
        d = wait_until(lambda: [x for x in deliveries(hooks.admin, hung["id"])["data"] if x["attempts"] >= 1],
                       timeout=20)[0]
        assert d["last_error"] == "timed out after 10 s" and d["last_status_code"] is None
        assert 9.5 <= time.monotonic() - started
        assert during < before * 5 + 0.05, (before, during)
    finally:
        slow.close()
        fast.close()


def test_delivery_survives_a_killed_server(hooks, receiver):
    """An open transaction holds the horizon back, so the account created
    meanwhile waits; the server is killed (SIGKILL) before its event can
    go out, and the next start delivers it."""
    hook = subscribe(hooks.admin, receiver.url, events=["account.created"])
    holder = subprocess.Popen([os.path.join(PG_BIN, "psql"), "-X", "-q", "-d", hooks.database_url],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        holder.stdin.write("BEGIN; SELECT pg_current_xact_id();\n")
        holder.stdin.flush()
        wait_until(lambda: hooks.query("SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL "
                                       "AND application_name = 'psql'") != "0")
        account = hooks.admin.post("/accounts", {"name": unique("Killed")}).json
        time.sleep(1.0)
        assert receiver.requests == []  # committed, but not readable yet
        hooks.server.proc.kill()
        hooks.server.proc.wait()
        hooks.server.stop()
    finally:
        holder.stdin.write("COMMIT;\n")
        holder.stdin.close()
        holder.wait(10)
    assert receiver.requests == []
    hooks.start()
    (_, headers, body), = receiver.wait_for(1)
    assert verify_signature(hook["secret"], headers, body)
    event = receiver.events()[0]
    assert event["type"] == "account.created" and event["data"]["id"] == account["id"]
    assert headers["webhook-id"] == event["id"]


def test_subscription_is_turned_off_after_three_days_of_failures(hooks):
    receiver = Receiver(statuses=[500] * 100)
    try:
        hook = subscribe(hooks.admin, receiver.url)
        ping = hooks.admin.post(f"/webhooks/{hook['id']}/ping").json
        receiver.wait_for(1)
        wait_until(lambda: deliveries(hooks.admin, hook["id"])["data"][0]["attempts"] >= 1)
        hooks.sql(f"UPDATE webhook_deliveries SET retry_from = now() - interval '3 days 1 minute', "
                  f"next_attempt_at = now() WHERE id = {ping['id']}")
        off = wait_until(lambda: (lambda h: h if not h["active"] else None)(
            hooks.admin.get(f"/webhooks/{hook['id']}").json))
        assert "failed for 3 days" in off["disabled_reason"] and off["disabled_at"]
        d = deliveries(hooks.admin, hook["id"])["data"][0]
        assert d["status"] == "failed" and d["next_attempt_at"] is None
        # Nothing more goes out while it is off; turning it on again resumes.
        count = len(receiver.requests)
        hooks.admin.post(f"/webhooks/{hook['id']}/ping")
        time.sleep(1)
        assert len(receiver.requests) == count
        receiver.statuses.clear()
        on = hooks.admin.patch(f"/webhooks/{hook['id']}", {"active": True})
        assert on.status == 200 and on.json["active"] and on.json["disabled_reason"] is None
        receiver.wait_for(count + 1)
    finally:
        receiver.close()


def test_feed_events_are_delivered_in_order_to_matching_subscriptions(hooks):
    every, created, other = Receiver(), Receiver(), Receiver()
    try:
        h_every = subscribe(hooks.admin, every.url, events=["account"])
        subscribe(hooks.admin, created.url, events=["account.created"])
        subscribe(hooks.admin, other.url, events=["lookup_item"])
        account = hooks.admin.post("/accounts", {"name": unique("Ordered")}).json
        for i in range(5):
            r = hooks.admin.patch(f"/accounts/{account['id']}", {"notes": f"step {i}"})
            assert r.status == 200, r
        assert hooks.admin.delete(f"/accounts/{account['id']}").status == 204
        got = every.wait_for(7)
        events = every.events()
        assert [e["type"] for e in events] == ["account.created"] + ["account.updated"] * 5 + ["account.deleted"]
        assert [e["data"]["version"] for e in events[:6]] == list(range(1, 7))
        assert all(set(e) == {"id", "type", "occurred_at", "data"} for e in events)
        assert all(h["webhook-id"] == e["id"] for (_, h, _), e in zip(got, events))
        assert all(verify_signature(h_every["secret"], h, b) for _, h, b in got)
        created.wait_for(1)
        time.sleep(0.5)
        assert [e["type"] for e in created.events()] == ["account.created"]
        assert other.requests == []
        # The feed shows the same events under the same ids.
        reader = Client(hooks.token, base=hooks.server.base, record=False)  # the feed's own tests record it
        feed = reader.get("/changes?types=account&limit=500").json["data"]
        mine = [e["id"] for e in feed if e["resource_id"] == account["id"]]
        assert mine == [e["id"] for e in events]
    finally:
        for r in (every, created, other):
            r.close()


def test_a_rolled_back_event_queues_nothing(hooks, receiver):
    subscribe(hooks.admin, receiver.url, events=["account"])
    # change_event_add is what every change-feed trigger calls to write an event.
    out = hooks.query(
        "BEGIN; SELECT change_event_add('account', 'created', 1, 1, '{}'); "
        "SELECT count(*) || ' ' || min(event_id) FROM webhook_deliveries "
        "WHERE xmin::text = pg_current_xact_id()::text; ROLLBACK;")
    queued, event_id = out.split()
    assert int(queued) >= 1  # queued inside the transaction (one per matching subscription)
    assert hooks.query(f"SELECT count(*) FROM webhook_deliveries WHERE event_id = '{event_id}'") == "0"
    time.sleep(0.5)
    assert receiver.requests == []


def test_throughput_script_runs_small():
    """bench/webhooks.sh (100,000 deliveries by default) on a small backlog."""
    from private_server import _free_port
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, BIN=os.path.abspath(BIN), PG_DIR=".pg-webhooks-small",
               PG_PORT=str(int(os.environ.get("PG_TEST_PORT", "5440")) + 1), API_PORT=str(_free_port()))
    env.pop("DATABASE_URL", None)
    out = subprocess.run(["bench/webhooks.sh", "300", "2"], cwd=repo, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "300 deliveries over 2 subscription(s)" in out.stdout and "(0 not delivered)" in out.stdout, out.stdout


def test_two_instances_send_each_delivery_once_in_order(hooks):
    """Two servers share the queue: each subscription's deliveries go out
    once each, in the order they were queued."""
    second = PrivateServer(env=dict(HOOK_ENV, DATABASE_URL=hooks.database_url))
    receivers = [Receiver() for _ in range(3)]
    try:
        clients = [hooks.admin, Client(hooks.token, base=second.base)]
        hook_ids = [subscribe(hooks.admin, r.url)["id"] for r in receivers]
        sent = {h: [] for h in hook_ids}
        for i in range(15):
            for h in hook_ids:
                r = clients[i % 2].post(f"/webhooks/{h}/ping")
                assert r.status == 202, r
                sent[h].append(r.json["event_id"])
        try:
            for h, receiver in zip(hook_ids, receivers):
                receiver.wait_for(15)
        except AssertionError:
            print("received:", [len(r.requests) for r in receivers], "sent:", [len(v) for v in sent.values()])
            print(hooks.query("SELECT locktype, relation::regclass, mode, granted, pid FROM pg_locks "
                              "WHERE NOT granted OR locktype = 'transactionid'"))
            print(hooks.query("SELECT pid, datname, application_name, state, backend_xid, xact_start, left(query, 100) "
                              "FROM pg_stat_activity WHERE backend_xid IS NOT NULL OR backend_xmin IS NOT NULL"))
            print(hooks.query("SELECT pg_current_snapshot(); SELECT id, active, leased_by, lease_until, now() "
                              "FROM webhook_subscriptions ORDER BY id"))
            print(hooks.query("SELECT id, subscription_id, status, position_major, next_attempt_at, attempts "
                              "FROM webhook_deliveries WHERE subscription_id >= " + str(hook_ids[0]) + " ORDER BY id"))
            raise
        time.sleep(1)
        for h, receiver in zip(hook_ids, receivers):
            assert [e["id"] for e in receiver.events()] == sent[h]
    finally:
        for r in receivers:
            r.close()
        assert second.stop() == 0
        assert second.sanitizer_reports() == []
