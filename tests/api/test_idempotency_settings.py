"""Idempotency-Key on POSTs (SPEC 5, 7) and /settings (SPEC 2.6).

Idempotency-Key: a retry with the same key and the same request (method,
target and body bytes) replays the first response (status, body, Location,
ETag, plus Idempotent-Replayed: true) and creates nothing; the same key with
another request is 422; only successful responses are recorded (the record
commits with the write), so a failed attempt leaves the key unused; keys are
per user; a racing retry gets 409."""
import os
import re
import shutil
import subprocess
import threading
import time
import uuid

import pytest

from conftest import Client, assert_problem, make_account, make_user, unique

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
DEFAULTS = {"default_close_days": 42, "history_grace_seconds": 7200, "currency": "GBP", "sales_grid_period": "month",
            "fiscal_year_start_month": 1}


# ---------------------------------------------------------------------------
# helpers private to this file
# ---------------------------------------------------------------------------
def new_key():
    return f"key-{uuid.uuid4()}"


def keyed(client, path, body, key, **kw):
    headers = dict(kw.pop("headers", {}), **{"Idempotency-Key": key})
    return client.post(path, body, headers=headers, **kw)


def all_pages(client, path):
    sep = "&" if "?" in path else "?"
    out, cursor = [], None
    while True:
        r = client.get(path + f"{sep}limit=500" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status == 200, r
        out += r.json["data"]
        cursor = r.json["next_cursor"]
        if cursor is None:
            return out


def make_product(admin, unit_price="10.00"):
    r = admin.post("/lookups/product", {"label": unique("Product"), "unit_price": unit_price})
    assert r.status == 201, r
    return r.json


def make_opportunity(client, **fields):
    body = {"account_id": make_account(client)["id"], "name": unique("Deal")}
    body.update(fields)
    r = client.post("/opportunities", body)
    assert r.status == 201, r
    return r.json


def assert_replay(first, again):
    """again replays first: same status, body, Location and ETag, marked as a replay."""
    assert again.status == first.status, again
    assert again.body == first.body
    assert again.content_type == "application/json; charset=utf-8"
    assert again.headers.get("location") == first.headers.get("location")
    assert again.headers.get("etag") == first.headers.get("etag")
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.headers["x-request-id"] != first.headers["x-request-id"]


class Target:
    """One keyed POST endpoint: how to build a body and count what it made."""

    def __init__(self, client, path, body, count, etag=True):
        self.client, self.path, self.body, self.count, self.etag = client, path, body, count, etag


def target_for(kind, admin):
    if kind == "accounts":
        name = unique("Account")
        return Target(admin, "/accounts", lambda v="": {"name": name, "notes": f"n{v}"},
                      lambda: len(all_pages(admin, f"/accounts?q={name}")))
    if kind == "opportunities":
        account = make_account(admin)
        product = make_product(admin, "12.50")
        name = unique("Deal")
        return Target(admin, "/opportunities",
                      lambda v="": {"account_id": account["id"], "name": name, "next_step": f"s{v}",
                                    "lines": [{"product_id": product["id"], "quantity": 2},
                                              {"product_id": product["id"], "unit_price": "0.05", "quantity": 1.5}]},
                      lambda: len(all_pages(admin, f"/opportunities?q={name}")))
    if kind == "lines":
        opp = make_opportunity(admin)
        product = make_product(admin, "3.00")
        text = unique("line")
        return Target(admin, f"/opportunities/{opp['id']}/lines",
                      lambda v="": {"product_id": product["id"], "description": text, "quantity": 2,
                                    "position": 10 + len(str(v))},
                      lambda: len([x for x in all_pages(admin, f"/opportunities/{opp['id']}/lines")
                                   if x["description"] == text]))
    if kind == "lookups":
        label = unique("Source")
        return Target(admin, "/lookups/source", lambda v="": {"label": label, "position": 5 + len(str(v))},
                      lambda: len([x for x in all_pages(admin, "/lookups/source") if x["label"] == label]))
    if kind == "users":
        email = f"{unique('idem')}@example.com"
        return Target(admin, "/users", lambda v="": {"name": f"Idem{v}", "email": email, "role": "member"},
                      lambda: len([x for x in all_pages(admin, "/users") if x["email"] == email]))
    if kind == "tokens":
        user, _ = make_user(admin)
        name = unique("token")
        return Target(admin, f"/users/{user['id']}/tokens", lambda v="": {"name": name + str(v)},
                      lambda: len([x for x in all_pages(admin, f"/users/{user['id']}/tokens")
                                   if x["name"].startswith(name)]), etag=False)
    raise AssertionError(kind)


KINDS = ["accounts", "opportunities", "lines", "lookups", "users", "tokens"]


# ---------------------------------------------------------------------------
# replay
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_same_key_and_body_replays_the_first_response(admin, kind):
    t = target_for(kind, admin)
    key = new_key()
    first = keyed(t.client, t.path, t.body(), key)
    assert first.status == 201, first
    assert first.headers["location"].startswith(t.path.rstrip("/") + "/") or kind == "tokens"
    assert ("etag" in first.headers) == t.etag
    assert t.count() == 1
    for _ in range(2):
        again = keyed(t.client, t.path, t.body(), key)
        if kind == "tokens":  # the replay leaves the secret out (see test_token_replay_...)
            assert again.status == 201 and again.headers.get("idempotent-replayed") == "true", again
            assert again.headers["location"] == first.headers["location"]
            assert again.json == {k: v for k, v in first.json.items() if k != "token"}
        else:
            assert_replay(first, again)
        assert t.count() == 1
    # without the key the same body is a new request (or a conflict for unique fields)
    plain = t.client.post(t.path, t.body())
    assert "idempotent-replayed" not in plain.headers
    if kind in ("lookups", "users"):
        assert_problem(plain, 409)
        assert t.count() == 1
    else:
        assert plain.status == 201, plain
        assert plain.json["id"] != first.json["id"]
        assert t.count() == 2


@pytest.mark.parametrize("kind", KINDS)
def test_same_key_with_another_body_is_422(admin, kind):
    t = target_for(kind, admin)
    key = new_key()
    first = keyed(t.client, t.path, t.body(), key)
    assert first.status == 201, first
    r = keyed(t.client, t.path, t.body("other"), key)
    assert_problem(r, 422, "Idempotency-Key")
    assert "idempotent-replayed" not in r.headers
    assert "location" not in r.headers
    assert t.count() == 1
    # the key still replays its own request afterwards
    again = keyed(t.client, t.path, t.body(), key)
    assert again.status == 201 and again.headers.get("idempotent-replayed") == "true"
    assert again.json["id"] == first.json["id"]


def test_same_json_written_differently_is_another_request(admin):
    """The key stands for the exact bytes sent: a re-serialised body is another request."""
    name = unique("Account")
    key = new_key()
    first = admin.post("/accounts", raw=f'{{"name":"{name}"}}', headers={"Idempotency-Key": key})
    assert first.status == 201, first
    r = admin.post("/accounts", raw=f'{{ "name" : "{name}" }}', headers={"Idempotency-Key": key})
    assert_problem(r, 422, "Idempotency-Key")
    assert len(all_pages(admin, f"/accounts?q={name}")) == 1


def test_same_key_on_another_endpoint_is_422(admin):
    key = new_key()
    body = {"label": unique("Both")}
    first = keyed(admin, "/lookups/source", body, key)
    assert first.status == 201, first
    r = keyed(admin, "/lookups/opportunity-loss-reason", body, key)
    assert_problem(r, 422, "Idempotency-Key")
    assert [x for x in all_pages(admin, "/lookups/opportunity-loss-reason") if x["label"] == body["label"]] == []


def test_replay_of_opportunity_with_lines_changes_nothing(admin):
    t = target_for("opportunities", admin)
    key = new_key()
    first = keyed(admin, t.path, t.body(), key)
    assert first.status == 201, first
    assert first.json["value"] == "25.08"  # 2 x 12.50 + 1.5 x 0.05 (0.075 -> 0.08)
    assert len(first.json["lines"]) == 2
    again = keyed(admin, t.path, t.body(), key)
    assert_replay(first, again)
    got = admin.get(first.headers["location"])
    assert got.status == 200 and got.json == first.json  # one opportunity, version 1, its two lines
    assert t.count() == 1


def test_replay_of_a_line_does_not_move_the_opportunity(admin):
    opp = make_opportunity(admin)
    product = make_product(admin, "3.00")
    key = new_key()
    path = f"/opportunities/{opp['id']}/lines"
    first = keyed(admin, path, {"product_id": product["id"], "quantity": 2}, key)
    assert first.status == 201, first
    assert first.headers["location"] == f"{path}/{first.json['id']}"
    before = admin.get(f"/opportunities/{opp['id']}").json
    assert before["value"] == "6.00" and before["version"] == 2
    again = keyed(admin, path, {"product_id": product["id"], "quantity": 2}, key)
    assert_replay(first, again)
    assert admin.get(f"/opportunities/{opp['id']}").json == before


def test_replay_answers_the_first_response_even_after_a_change(admin):
    name = unique("Account")
    key = new_key()
    first = keyed(admin, "/accounts", {"name": name}, key)
    assert first.status == 201, first
    r = admin.patch(first.headers["location"], {"notes": "changed since"})
    assert r.status == 200 and r.json["version"] == 2
    again = keyed(admin, "/accounts", {"name": name}, key)
    assert_replay(first, again)
    assert again.json["version"] == 1 and again.json["notes"] is None


def test_token_replay_shows_the_token_without_its_secret(admin):
    user, _ = make_user(admin)
    key = new_key()
    path = f"/users/{user['id']}/tokens"
    first = keyed(admin, path, {"name": "sync"}, key)
    assert first.status == 201, first
    secret = first.json["token"]
    assert re.match(r"^crm_[A-Za-z0-9_-]{43}$", secret)
    assert first.headers["location"] == f"/tokens/{first.json['id']}"
    again = keyed(admin, path, {"name": "sync"}, key)
    assert again.status == 201, again
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.headers.get("location") == first.headers["location"]
    assert "token" not in again.json
    assert secret.encode() not in again.body
    expected = dict(first.json)
    del expected["token"]
    assert again.json == expected
    tokens = all_pages(admin, path)
    assert [x["id"] for x in tokens if x["name"] == "sync"] == [first.json["id"]]
    # the one secret made works
    me = Client(secret).get("/users/me")
    assert me.status == 200 and me.json["id"] == user["id"]


def test_a_user_may_key_their_own_token(admin):
    user, client = make_user(admin)
    key = new_key()
    path = f"/users/{user['id']}/tokens"
    first = keyed(client, path, {"name": "mine"}, key)
    assert first.status == 201 and "token" in first.json
    again = keyed(client, path, {"name": "mine"}, key)
    assert again.status == 201 and again.headers.get("idempotent-replayed") == "true"
    assert "token" not in again.json and again.json["id"] == first.json["id"]


# ---------------------------------------------------------------------------
# failures are not recorded
# ---------------------------------------------------------------------------
def test_failed_validation_leaves_the_key_unused(admin):
    """A 422 is not recorded, so a corrected retry under the same key (a different
    body) is a new request and creates the account; then that one replays."""
    name = unique("Account")
    key = new_key()
    r = keyed(admin, "/accounts", {"name": ""}, key)
    assert_problem(r, 422, "name")
    r = keyed(admin, "/accounts", {"name": ""}, key)  # the failure is not replayed: it fails again
    assert_problem(r, 422, "name")
    assert "idempotent-replayed" not in r.headers
    first = keyed(admin, "/accounts", {"name": name}, key)
    assert first.status == 201, first
    assert "idempotent-replayed" not in first.headers
    again = keyed(admin, "/accounts", {"name": name}, key)
    assert_replay(first, again)
    assert len(all_pages(admin, f"/accounts?q={name}")) == 1
    # the bad body is now another request for a used key; it still fails on its own fields first
    r = keyed(admin, "/accounts", {"name": ""}, key)
    assert_problem(r, 422, "name")


def test_failure_found_by_the_database_leaves_the_key_unused(admin):
    """409 (duplicate external_id) and a 422 from the database roll the key back with the write."""
    taken = unique("ext")
    make_account(admin, external_id=taken)
    name = unique("Account")
    key = new_key()
    r = keyed(admin, "/accounts", {"name": name, "external_id": taken}, key)
    assert_problem(r, 409)
    r = keyed(admin, "/accounts", {"name": name, "external_id": taken}, key)
    assert_problem(r, 409)
    assert "idempotent-replayed" not in r.headers
    assert all_pages(admin, f"/accounts?q={name}") == []
    fresh = unique("ext")
    first = keyed(admin, "/accounts", {"name": name, "external_id": fresh}, key)
    assert first.status == 201, first
    assert_replay(first, keyed(admin, "/accounts", {"name": name, "external_id": fresh}, key))

    key = new_key()
    name = unique("Deal")
    r = keyed(admin, "/opportunities", {"account_id": 999999999, "name": name}, key)
    assert_problem(r, 422, "account_id")
    account = make_account(admin)
    first = keyed(admin, "/opportunities", {"account_id": account["id"], "name": name}, key)
    assert first.status == 201, first
    assert len(all_pages(admin, f"/opportunities?q={name}")) == 1


def test_failed_line_add_leaves_the_key_unused(admin):
    opp = make_opportunity(admin)
    free = make_product(admin, None)
    path = f"/opportunities/{opp['id']}/lines"
    key = new_key()
    r = keyed(admin, path, {"product_id": free["id"]}, key)  # the product has no price
    assert_problem(r, 422, "unit_price")
    r = keyed(admin, path, {"product_id": free["id"]}, key, headers={"If-Match": '"99"'})
    assert_problem(r, 412)
    first = keyed(admin, path, {"product_id": free["id"], "unit_price": "2"}, key)
    assert first.status == 201, first
    got = admin.get(f"/opportunities/{opp['id']}").json
    assert got["value"] == "2.00" and got["version"] == 2


def test_unauthenticated_keyed_request_uses_no_key(admin, anon):
    key = new_key()
    name = unique("Account")
    assert_problem(anon.post("/accounts", {"name": name}, headers={"Idempotency-Key": key}), 401)
    first = keyed(admin, "/accounts", {"name": name}, key)
    assert first.status == 201, first
    assert "idempotent-replayed" not in first.headers


# ---------------------------------------------------------------------------
# keys are per user
# ---------------------------------------------------------------------------
def test_keys_are_scoped_per_user(admin, member_client):
    name = unique("Account")
    key = new_key()
    a = keyed(admin, "/accounts", {"name": name}, key)
    assert a.status == 201, a
    b = keyed(member_client, "/accounts", {"name": name}, key)
    assert b.status == 201, b
    assert "idempotent-replayed" not in b.headers
    assert b.json["id"] != a.json["id"]
    assert b.json["owner_id"] != a.json["owner_id"]
    assert len(all_pages(admin, f"/accounts?q={name}")) == 2
    # each replays its own
    assert_replay(a, keyed(admin, "/accounts", {"name": name}, key))
    assert_replay(b, keyed(member_client, "/accounts", {"name": name}, key))
    # and another body under the other user's key is that user's own business
    c = keyed(member_client, "/accounts", {"name": name + "x"}, key)
    assert_problem(c, 422, "Idempotency-Key")


def test_two_tokens_of_one_user_share_keys(admin):
    user, c1 = make_user(admin)
    t2 = admin.post(f"/users/{user['id']}/tokens", {"name": "second"})
    assert t2.status == 201, t2
    c2 = Client(t2.json["token"])
    name = unique("Account")
    key = new_key()
    first = keyed(c1, "/accounts", {"name": name}, key)
    assert first.status == 201, first
    assert_replay(first, keyed(c2, "/accounts", {"name": name}, key))
    assert len(all_pages(admin, f"/accounts?q={name}")) == 1


# ---------------------------------------------------------------------------
# malformed keys
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("key", [
    "k" * 256,
    "clé".encode("utf-8"),
    "ключ-1".encode("utf-8"),
    b"tab\there",
    b"nul\x7fdel",
    "",
])
def test_malformed_key_is_400(admin, key):
    name = unique("Account")
    r = admin.post("/accounts", {"name": name}, headers={"Idempotency-Key": key})
    assert_problem(r, 400, "Idempotency-Key")
    assert all_pages(admin, f"/accounts?q={name}") == []


@pytest.mark.parametrize("key", ["k" * 255, "a", " spaced key ~!@#$%^&*()", "0123456789abcdef" * 15])
def test_well_formed_keys_work(admin, key):
    key = key[:-8] + uuid.uuid4().hex[:8] if len(key) > 8 else key + uuid.uuid4().hex[:8]
    name = unique("Account")
    first = keyed(admin, "/accounts", {"name": name}, key)
    assert first.status == 201, first
    assert_replay(first, keyed(admin, "/accounts", {"name": name}, key))


def test_malformed_key_is_checked_after_the_token(anon):
    assert_problem(anon.post("/accounts", {"name": "x"}, headers={"Idempotency-Key": "k" * 256}), 401)


# ---------------------------------------------------------------------------
# racing first uses
# ---------------------------------------------------------------------------
def run_together(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n
    errors = []

    def worker(i):
        try:
            barrier.wait(timeout=30)
            results[i] = fn(i)
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def check_race(results):
    """(201, 201 replayed of the same resource) or (201, 409); never two resources."""
    results = sorted(results, key=lambda r: (r.status, "idempotent-replayed" in r.headers))
    a, b = results
    assert a.status == 201 and "idempotent-replayed" not in a.headers, results
    if b.status == 409:
        doc = assert_problem(b, 409)
        assert "location" not in b.headers
        return "conflict", doc
    assert b.status == 201, results
    assert b.headers.get("idempotent-replayed") == "true", results
    assert b.body == a.body and b.headers["location"] == a.headers["location"]
    return "replayed", None


def test_concurrent_first_use_of_a_key_accounts(admin_token, admin):
    seen = []
    for _ in range(10):
        name = unique("Race")
        key = new_key()
        results = run_together(2, lambda i: Client(admin_token).post(
            "/accounts", {"name": name}, headers={"Idempotency-Key": key}))
        seen.append(check_race(results)[0])
        assert len(all_pages(admin, f"/accounts?q={name}")) == 1
        # afterwards the key replays
        again = keyed(admin, "/accounts", {"name": name}, key)
        assert again.status == 201 and again.headers.get("idempotent-replayed") == "true"
    print("race outcomes:", seen)


def test_concurrent_first_use_of_a_key_lines(admin_token, admin):
    product = make_product(admin, "1.25")
    for _ in range(6):
        opp = make_opportunity(admin)
        key = new_key()
        path = f"/opportunities/{opp['id']}/lines"
        results = run_together(2, lambda i: Client(admin_token).post(
            path, {"product_id": product["id"], "quantity": 3}, headers={"Idempotency-Key": key}))
        check_race(results)
        got = admin.get(f"/opportunities/{opp['id']}").json
        assert len(got["lines"]) == 1
        assert got["value"] == "3.75" and got["version"] == 2


def test_concurrent_first_use_of_a_key_opportunities(admin_token, admin):
    account = make_account(admin)
    product = make_product(admin, "2.00")
    for _ in range(6):
        name = unique("RaceDeal")
        key = new_key()
        body = {"account_id": account["id"], "name": name, "lines": [{"product_id": product["id"]}]}
        results = run_together(2, lambda i: Client(admin_token).post(
            "/opportunities", body, headers={"Idempotency-Key": key}))
        check_race(results)
        assert len(all_pages(admin, f"/opportunities?q={name}")) == 1


class HeldLock:
    """A psql session on the test database (scripts/test-api.sh passes PG_TEST_PORT) that
    runs some SQL in an open transaction, so that a keyed request blocks inside its
    transaction while it holds its key; ends with ROLLBACK."""

    def __init__(self, sql):
        port = os.environ.get("PG_TEST_PORT")
        if not port or shutil.which("psql") is None:
            pytest.skip("needs psql and PG_TEST_PORT (set by scripts/test-api.sh)")
        self.proc = subprocess.Popen(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", f"host=127.0.0.1 port={port} user=crm dbname=crm"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.proc.stdin.write(f"BEGIN;\n{sql};\n\\echo held\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        while line and line.strip() != "held":
            line = self.proc.stdout.readline()
        assert line.strip() == "held", "psql could not take the lock"

    def release(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("ROLLBACK;\n\\q\n")
            self.proc.stdin.flush()
            self.proc.communicate(timeout=30)


def waiting_requests():
    """How many API sessions wait on a lock (the blocked keyed request)."""
    port = os.environ["PG_TEST_PORT"]
    out = subprocess.run(
        ["psql", "-X", "-At", f"host=127.0.0.1 port={port} user=crm dbname=crm", "-c",
         "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'crm-api' AND wait_event_type = 'Lock'"],
        check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def race_while_blocked(lock_sql, send):
    """send() blocks behind lock_sql holding its key; the same request meanwhile gets 409;
    once the lock goes, the first finishes (201) and the key replays it."""
    held = HeldLock(lock_sql)
    box = {}
    try:
        t = threading.Thread(target=lambda: box.setdefault("first", send()))
        t.start()
        deadline = time.monotonic() + 10
        while waiting_requests() == 0:
            assert time.monotonic() < deadline, "the first request never blocked"
            time.sleep(0.02)
        second = send()
        doc = assert_problem(second, 409)
        assert "idempotent-replayed" not in second.headers and "location" not in second.headers
    finally:
        held.release()
        t.join(30)
    first = box["first"]
    assert first.status == 201, first
    third = send()
    assert_replay(first, third)
    return first, doc


def test_retry_while_the_first_is_in_progress_is_409_lines(admin_token, admin):
    opp = make_opportunity(admin)
    product = make_product(admin, "1.25")
    key = new_key()
    first, doc = race_while_blocked(
        f"SELECT 1 FROM opportunities WHERE id = {opp['id']} FOR UPDATE",
        lambda: Client(admin_token).post(f"/opportunities/{opp['id']}/lines", {"product_id": product["id"]},
                                         headers={"Idempotency-Key": key}))
    assert doc["type"] == "/problems/conflict"
    assert "Idempotency-Key" in doc["detail"]
    got = admin.get(f"/opportunities/{opp['id']}").json
    assert [line["id"] for line in got["lines"]] == [first.json["id"]]
    assert got["value"] == "1.25" and got["version"] == 2


def test_retry_while_the_first_is_in_progress_is_409_accounts(admin_token, admin):
    """The first insert waits on an uncommitted row with the same external_id."""
    ext = unique("ext")
    name = unique("Account")
    key = new_key()
    owner = admin.get("/users/me").json["id"]
    first, doc = race_while_blocked(
        f"INSERT INTO accounts (name, owner_id, external_id) VALUES ('held', {owner}, '{ext}')",
        lambda: Client(admin_token).post("/accounts", {"name": name, "external_id": ext},
                                         headers={"Idempotency-Key": key}))
    assert first.json["external_id"] == ext
    assert "Idempotency-Key" in doc["detail"]  # the key's lock, not the external_id's
    assert len(all_pages(admin, f"/accounts?q={name}")) == 1


def test_retry_while_the_first_is_in_progress_is_409_forecast_reports(admin_token, admin):
    """The new report's owner reference waits on its user row, locked elsewhere."""
    me = admin.get("/users/me").json["id"]
    name = unique("Report")
    key = new_key()
    first, doc = race_while_blocked(
        f"SELECT 1 FROM users WHERE id = {me} FOR UPDATE",
        lambda: Client(admin_token).post("/forecast-reports", {"name": name, "period": "this_year"},
                                         headers={"Idempotency-Key": key}))
    assert "Idempotency-Key" in doc["detail"]
    assert first.json["name"] == name and first.json["owner_id"] == me
    listed = [r for r in admin.get("/forecast-reports?limit=500").json["data"] if r["name"] == name]
    assert len(listed) == 1


def test_many_keys_at_once_all_succeed(admin_token, admin):
    """Different keys never block each other."""
    name = unique("Many")
    results = run_together(8, lambda i: Client(admin_token).post(
        "/accounts", {"name": f"{name}-{i}"}, headers={"Idempotency-Key": new_key()}))
    assert [r.status for r in results] == [201] * 8, results
    assert len(all_pages(admin, f"/accounts?q={name}")) == 8


# ---------------------------------------------------------------------------
# settings
# ---------------------------------------------------------------------------
def restore_settings(admin):
    r = admin.patch("/settings", DEFAULTS)
    assert r.status == 200, r
    assert {k: r.json[k] for k in DEFAULTS} == DEFAULTS


@pytest.fixture
def settings_restored(admin):
    try:
        yield
    finally:
        restore_settings(admin)


def test_settings_shape_and_defaults(member_client):
    r = member_client.get("/settings")
    assert r.status == 200, r
    assert r.content_type == "application/json; charset=utf-8"
    s = r.json
    assert set(s) == set(DEFAULTS) | {"updated_at", "version"}
    assert {k: s[k] for k in DEFAULTS} == DEFAULTS
    assert TS.match(s["updated_at"])
    assert isinstance(s["version"], int) and s["version"] >= 1
    assert r.headers["etag"] == f'"{s["version"]}"'
    r = member_client.get("/settings", headers={"If-None-Match": f'"{s["version"]}"'})
    assert r.status == 304 and r.body == b""


def test_settings_need_a_token(anon):
    assert_problem(anon.get("/settings"), 401)
    assert_problem(anon.patch("/settings", {"currency": "EUR"}), 401)


def test_settings_patch_is_admin_only(admin, member_client, settings_restored):
    before = admin.get("/settings").json
    r = member_client.patch("/settings", {"currency": "EUR"})
    assert_problem(r, 403)
    assert admin.get("/settings").json == before


@pytest.mark.parametrize("field, value, ok", [
    ("default_close_days", 0, False), ("default_close_days", 1, True), ("default_close_days", 3650, True),
    ("default_close_days", 3651, False), ("default_close_days", -1, False), ("default_close_days", 42.5, False),
    ("default_close_days", "42", False),
    ("history_grace_seconds", -1, False), ("history_grace_seconds", 0, True), ("history_grace_seconds", 86400, True),
    ("history_grace_seconds", 86401, False), ("history_grace_seconds", True, False),
    ("currency", "EUR", True), ("currency", "USD", True), ("currency", "JPY", True), ("currency", "eur", False),
    ("currency", "XYZ", False), ("currency", "EURO", False), ("currency", "EU", False), ("currency", "", False),
    ("currency", 978, False),
    ("sales_grid_period", "quarter", True), ("sales_grid_period", "month", True), ("sales_grid_period", "week", False),
    ("sales_grid_period", "Quarter", False), ("sales_grid_period", "", False),
    ("fiscal_year_start_month", 0, False), ("fiscal_year_start_month", 1, True), ("fiscal_year_start_month", 12, True),
    ("fiscal_year_start_month", 13, False), ("fiscal_year_start_month", 4, True),
    ("fiscal_year_start_month", "4", False),
])
def test_settings_field_ranges(admin, settings_restored, field, value, ok):
    # Start away from the value so an accepted change is a real change.
    before = admin.get("/settings").json
    r = admin.patch("/settings", {field: value})
    if ok:
        assert r.status == 200, r
        assert r.json[field] == value
        assert r.headers["etag"] == f'"{r.json["version"]}"'
        expected_version = before["version"] + (0 if before[field] == value else 1)
        assert r.json["version"] == expected_version
        after = admin.get("/settings").json
        assert after == r.json
        assert {k: after[k] for k in DEFAULTS if k != field} == {k: v for k, v in DEFAULTS.items() if k != field}
    else:
        assert_problem(r, 422, field)
        assert admin.get("/settings").json == before


@pytest.mark.parametrize("body, fields", [
    ({"colour": "blue"}, {"colour"}),
    ({"version": 9}, {"version"}),
    ({"updated_at": "2026-01-01T00:00:00Z"}, {"updated_at"}),
    ({"currency": None}, {"currency"}),
    ({"default_close_days": None}, {"default_close_days"}),
    ({"currency": "eur", "default_close_days": 0, "sales_grid_period": "week", "nope": 1},
     {"currency", "default_close_days", "sales_grid_period", "nope"}),
])
def test_settings_patch_invalid(admin, settings_restored, body, fields):
    before = admin.get("/settings").json
    r = admin.patch("/settings", body)
    doc = assert_problem(r, 422)
    assert {e["field"] for e in doc["errors"]} == fields
    assert admin.get("/settings").json == before


def test_settings_patch_bodies(admin, settings_restored):
    assert_problem(admin.patch("/settings", [1]), 400)
    assert_problem(admin.patch("/settings", raw=b"{"), 400)
    assert_problem(admin.patch("/settings", raw=b"{}", content_type="text/plain"), 415)
    r = admin.patch("/settings", {"currency": "EUR"}, content_type="application/merge-patch+json")
    assert r.status == 200 and r.json["currency"] == "EUR"
    assert_problem(admin.post("/settings", {"currency": "EUR"}), 405)


def test_settings_patch_several_fields_is_one_version(admin, settings_restored):
    before = admin.get("/settings").json
    r = admin.patch("/settings", {"default_close_days": 30, "history_grace_seconds": 60, "currency": "EUR",
                                  "sales_grid_period": "quarter", "fiscal_year_start_month": 4})
    assert r.status == 200, r
    assert r.json["version"] == before["version"] + 1
    assert r.json["updated_at"] > before["updated_at"]
    assert {k: r.json[k] for k in DEFAULTS} == {"default_close_days": 30, "history_grace_seconds": 60,
                                                "currency": "EUR", "sales_grid_period": "quarter",
                                                "fiscal_year_start_month": 4}


def test_settings_patch_with_the_same_values_changes_nothing(admin, settings_restored):
    restore_settings(admin)
    before = admin.get("/settings").json
    r = admin.patch("/settings", {"currency": "GBP", "default_close_days": 42})
    assert r.status == 200, r
    assert r.json == before
    r = admin.patch("/settings", {})
    assert r.status == 200 and r.json == before


def test_settings_if_match(admin, settings_restored):
    v = admin.get("/settings").json["version"]
    r = admin.patch("/settings", {"currency": "EUR"}, headers={"If-Match": f'"{v - 1 if v > 1 else v + 1}"'})
    assert_problem(r, 412)
    assert admin.get("/settings").json["currency"] == "GBP"
    r = admin.patch("/settings", {"currency": "EUR"}, headers={"If-Match": f'"{v}"'})
    assert r.status == 200, r
    assert r.json["version"] == v + 1
    assert r.headers["etag"] == f'"{v + 1}"'
    r = admin.patch("/settings", {"currency": "USD"}, headers={"If-Match": f'"{v}"'})
    assert_problem(r, 412)
    assert admin.get("/settings").json["currency"] == "EUR"


def test_default_close_days_sets_the_default_close_date(admin, settings_restored):
    import datetime

    for days in (1, 3650, 42):
        r = admin.patch("/settings", {"default_close_days": days})
        assert r.status == 200, r
        o = make_opportunity(admin)
        created = datetime.date.fromisoformat(o["created_at"][:10])
        assert o["close_date"] == (created + datetime.timedelta(days=days)).isoformat()


def test_settings_reads_are_for_everyone(admin, member_client, settings_restored):
    r = admin.patch("/settings", {"sales_grid_period": "quarter"})
    assert r.status == 200, r
    assert member_client.get("/settings").json["sales_grid_period"] == "quarter"
