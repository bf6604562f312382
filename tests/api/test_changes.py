"""The change feed (SPEC §9, GET /changes): every committed change of
accounts, opportunities (lines included) and lookup items, oldest first,
exactly once even when transactions commit out of order, each resource's
events in version order; types and since filters; opaque cursors bound to
the feed; 410 past the retention."""
import base64
import os
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from conftest import BIN, Client, assert_problem, make_account, make_user, unique
from private_server import PrivateServer, private_database, psql as psql_at


def now_iso(delta=timedelta(0)):
    return (datetime.now(timezone.utc) + delta).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def head(client):
    """A cursor at the end of the feed as it is now."""
    r = client.get(f"/changes?since={quote(now_iso(timedelta(seconds=1)))}&limit=500")
    assert r.status == 200, r
    return r.json["next_cursor"]


def follow(client, cursor, query="", limit=500):
    """Reads from cursor to the end of the feed: (events, next cursor)."""
    events = []
    while True:
        r = client.get(f"/changes?cursor={cursor}&limit={limit}{query}")
        assert r.status == 200, r
        page = r.json
        assert page["next_cursor"], page
        events += page["data"]
        cursor = page["next_cursor"]
        if len(page["data"]) < limit:
            return events, cursor


COLLECTIONS = {"account": "accounts", "opportunity": "opportunities"}


def of(events, resource_type, resource_id):
    return [e for e in events if e["type"].startswith(resource_type + ".") and e["resource_id"] == resource_id]


@pytest.fixture(scope="module")
def product(admin):
    r = admin.post("/lookups/product", {"label": unique("Product"), "unit_price": "10.00"})
    assert r.status == 201, r
    return r.json


def test_an_account_gives_one_event_per_version_with_its_state(admin):
    cursor = head(admin)
    account = make_account(admin, website="https://a.example")
    patched = admin.patch(f"/accounts/{account['id']}", {"phone": "+1 555 0100"}).json
    deleted = admin.delete(f"/accounts/{account['id']}")
    assert deleted.status == 204
    events, _ = follow(admin, cursor)
    mine = of(events, "account", account["id"])
    assert [(e["type"], e["version"]) for e in mine] == [
        ("account.created", 1), ("account.updated", 2), ("account.deleted", 3)]
    assert mine[0]["data"] == account
    assert mine[1]["data"] == patched
    assert mine[2]["data"]["deleted_at"] is not None
    me = admin.get("/users/me").json
    for e in mine:
        assert set(e) == {"id", "type", "resource_id", "version", "occurred_at", "changed_by", "data"}
        assert e["changed_by"] == {"id": me["id"], "name": me["name"]}
        assert e["id"].startswith("evt_")
    assert len({e["id"] for e in mine}) == 3


def test_an_opportunity_event_carries_its_lines_as_get_shows_them(admin, product):
    """Within the first two hours (no history yet) edits still reach the feed;
    a line change is an opportunity.updated with the new lines."""
    cursor = head(admin)
    account = make_account(admin)
    r = admin.post("/opportunities", {"account_id": account["id"], "lines": [{"product_id": product["id"]}]})
    assert r.status == 201, r
    created = r.json
    opp_id = created["id"]
    line = admin.post(f"/opportunities/{opp_id}/lines", {"product_id": product["id"], "quantity": 2})
    assert line.status == 201, line
    after_line = admin.get(f"/opportunities/{opp_id}").json
    renamed = admin.patch(f"/opportunities/{opp_id}", {"name": "Renamed"}).json
    assert admin.get(f"/opportunities/{opp_id}/history").json["data"] == []  # the grace window
    events, _ = follow(admin, cursor)
    mine = of(events, "opportunity", opp_id)
    assert [(e["type"], e["version"]) for e in mine] == [
        ("opportunity.created", 1), ("opportunity.updated", 2), ("opportunity.updated", 3)]
    assert mine[0]["data"] == created and len(created["lines"]) == 1
    assert mine[1]["data"] == after_line and len(after_line["lines"]) == 2
    assert mine[2]["data"] == renamed
    deleted = admin.delete(f"/opportunities/{opp_id}")
    assert deleted.status == 204
    more, _ = follow(admin, cursor)
    last = of(more, "opportunity", opp_id)[-1]
    assert last["type"] == "opportunity.deleted" and last["version"] == 4
    assert last["data"]["deleted_at"] is not None and len(last["data"]["lines"]) == 2


def test_a_request_of_several_writes_is_one_event_at_its_final_version(admin, product):
    """An upsert that changes fields and replaces the lines moves the version
    once: one event, carrying the final lines."""
    cursor = head(admin)
    account = make_account(admin)
    ext = unique("ext")
    first = admin.put(f"/opportunities/by-external-id/{ext}", {"account_id": account["id"]})
    assert first.status == 201, first
    r = admin.put(f"/opportunities/by-external-id/{ext}", {
        "account_id": account["id"], "name": "Two lines",
        "lines": [{"product_id": product["id"]}, {"product_id": product["id"], "quantity": 3}]})
    assert r.status == 200, r
    events, _ = follow(admin, cursor)
    mine = of(events, "opportunity", first.json["id"])
    assert [(e["type"], e["version"]) for e in mine] == [("opportunity.created", 1), ("opportunity.updated", 2)]
    assert mine[1]["data"] == r.json and len(mine[1]["data"]["lines"]) == 2


def test_an_event_at_commit_shows_writes_made_after_the_last_answer(admin, product):
    """A write keeps its answer for the commit's event, which takes it while
    the deal's row is unchanged: in a batch that patches two deals and then
    adds a line to the second (kept, then changed) each event must still
    show its deal as GET does after the commit."""
    cursor = head(admin)
    account = make_account(admin)
    a = admin.post("/opportunities", {"account_id": account["id"]}).json
    b = admin.post("/opportunities", {"account_id": account["id"]}).json
    r = admin.post("/batch", {"operations": [
        {"method": "PATCH", "path": f"/opportunities/{b['id']}", "body": {"name": "B renamed"}},
        {"method": "PATCH", "path": f"/opportunities/{a['id']}", "body": {"name": "A renamed"}},
        {"method": "POST", "path": f"/opportunities/{a['id']}/lines", "body": {"product_id": product["id"]}},
    ]})
    assert r.status == 200, r
    events, _ = follow(admin, cursor)
    for deal in (a, b):
        mine = of(events, "opportunity", deal["id"])
        assert [e["type"] for e in mine] == ["opportunity.created", "opportunity.updated"], mine
        assert mine[-1]["data"] == admin.get(f"/opportunities/{deal['id']}").json
    assert len(of(events, "opportunity", a["id"])[-1]["data"]["lines"]) == 1
    assert of(events, "opportunity", b["id"])[-1]["data"]["name"] == "B renamed"


def test_lookup_items_name_their_table(admin):
    cursor = head(admin)
    item = admin.post("/lookups/source", {"label": unique("Source")}).json
    patched = admin.patch(f"/lookups/source/{item['id']}", {"label": unique("Renamed")}).json
    assert admin.delete(f"/lookups/source/{item['id']}").status == 204
    events, _ = follow(admin, cursor)
    mine = of(events, "lookup_item", item["id"])
    assert [(e["type"], e["version"]) for e in mine] == [
        ("lookup_item.created", 1), ("lookup_item.updated", 2), ("lookup_item.deleted", 2)]
    assert mine[0]["data"] == {**item, "table": "source"}
    assert mine[1]["data"] == {**patched, "table": "source"}
    assert mine[2]["data"] == {**patched, "table": "source"}


def test_types_filter_by_resource_and_by_event_type(admin, member_client):
    cursor = head(admin)
    account = make_account(admin)
    admin.patch(f"/accounts/{account['id']}", {"notes": "x"})
    item = admin.post("/lookups/source", {"label": unique("Source")}).json
    only_accounts, _ = follow(member_client, cursor, "&types=account")
    assert {e["type"] for e in only_accounts} == {"account.created", "account.updated"}
    created_and_items, _ = follow(member_client, cursor, "&types=account.created,lookup_item")
    assert [(e["type"], e["resource_id"]) for e in created_and_items] == [
        ("account.created", account["id"]), ("lookup_item.created", item["id"])]


def test_pages_follow_one_another_and_the_end_is_a_cursor_to_poll(admin):
    cursor = head(admin)
    accounts = [make_account(admin) for _ in range(5)]
    seen, pages = [], 0
    while True:
        r = admin.get(f"/changes?cursor={cursor}&limit=2&types=account")
        assert r.status == 200, r
        pages += 1
        assert isinstance(r.json["next_cursor"], str)
        seen += r.json["data"]
        cursor = r.json["next_cursor"]
        if not r.json["data"]:
            break
    assert [e["resource_id"] for e in seen] == [a["id"] for a in accounts]
    assert pages == 4  # 2 + 2 + 1, then an empty page
    again = admin.get(f"/changes?cursor={cursor}&limit=2")
    assert again.status == 200 and again.json["data"] == [] and again.json["next_cursor"]
    later = make_account(admin)
    events, _ = follow(admin, cursor, "&types=account")
    assert [e["resource_id"] for e in events] == [later["id"]]


def test_since_starts_at_a_time(admin):
    before = now_iso(timedelta(seconds=-0.5))
    account = make_account(admin)
    r = admin.get(f"/changes?since={quote(before)}&types=account.created&limit=500")
    assert r.status == 200, r
    assert account["id"] in [e["resource_id"] for e in r.json["data"]]
    r = admin.get(f"/changes?since={quote(now_iso(timedelta(seconds=5)))}")
    assert r.status == 200 and r.json["data"] == [] and r.json["next_cursor"]


def psql(sql):
    return subprocess.run(["psql", os.environ["DATABASE_URL"], "-XqtA", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, check=True).stdout


def test_a_rolled_back_change_never_appears(admin):
    account = make_account(admin)
    cursor = head(admin)
    psql(f"BEGIN; UPDATE accounts SET name = 'Never', version = version + 1 WHERE id = {int(account['id'])}; "
         "ROLLBACK;")
    r = admin.patch(f"/accounts/{account['id']}", {"name": ""})  # refused: nothing written
    assert r.status == 422
    events, _ = follow(admin, cursor)
    assert of(events, "account", account["id"]) == []


def test_a_transaction_that_commits_late_is_seen_once_and_never_skipped(admin):
    """A starts and writes; B starts, writes and commits; a reader pages the
    feed; then A commits. Continuing from its cursor the reader gets A's
    event (and B's) exactly once."""
    a_account, b_account = make_account(admin), make_account(admin)
    cursor = head(admin)
    a = subprocess.Popen(["psql", os.environ["DATABASE_URL"], "-XqtA", "-v", "ON_ERROR_STOP=1"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        a.stdin.write("BEGIN;\n"
                      f"UPDATE accounts SET name = 'Late', updated_at = now(), version = version + 1"
                      f" WHERE id = {int(a_account['id'])};\n"
                      "\\echo written\n")
        a.stdin.flush()
        assert a.stdout.readline().strip() == "written"
        b = admin.patch(f"/accounts/{b_account['id']}", {"name": "Early"})
        assert b.status == 200, b
        # While A is open, B's event (a younger transaction) is held back:
        # listing it now would let A's take a position behind the reader.
        seen, cursor = follow(admin, cursor)
        assert of(seen, "account", a_account["id"]) == []
        assert of(seen, "account", b_account["id"]) == []
        a.stdin.write("COMMIT;\n")
        a.stdin.close()
        assert a.wait(30) == 0, a.stderr.read()
    finally:
        if a.poll() is None:
            a.kill()
    events, cursor = follow(admin, cursor)
    seen += events
    late = of(seen, "account", a_account["id"])
    assert [(e["type"], e["version"], e["data"]["name"]) for e in late] == [("account.updated", 2, "Late")]
    assert late[0]["changed_by"] is None  # written outside the API
    assert [(e["version"], e["data"]["name"]) for e in of(seen, "account", b_account["id"])] == [(2, "Early")]
    again, _ = follow(admin, cursor)
    assert of(again, "account", a_account["id"]) == [] and of(again, "account", b_account["id"]) == []


def test_concurrent_writers_and_a_reader_following_the_cursor(admin, product):
    """20 writers for 10 s on a few shared accounts and deals (lines too)
    while one reader follows the cursor: every committed change is seen
    once, none twice, each resource's events in the order of its versions."""
    accounts = [make_account(admin) for _ in range(4)]
    opps = [admin.post("/opportunities", {"account_id": accounts[0]["id"]}).json for _ in range(4)]
    cursor = head(admin)
    committed = set()  # (resource type, id, version) of every 2xx write
    lock = threading.Lock()
    stop = threading.Event()
    errors = []

    def writer(n):
        i = 0
        while not stop.is_set():
            i += 1
            try:
                if (n + i) % 3 == 0:  # a line: the deal's version moves (the reply is the line's)
                    opp = opps[(n + i) % len(opps)]
                    r = admin.post(f"/opportunities/{opp['id']}/lines", {"product_id": product["id"]})
                    key = None
                elif (n + i) % 3 == 1:
                    opp = opps[(n + i) % len(opps)]
                    r = admin.patch(f"/opportunities/{opp['id']}", {"next_step": f"w{n}-{i}"})
                    key = ("opportunity", opp["id"])
                else:
                    acc = accounts[(n + i) % len(accounts)]
                    r = admin.patch(f"/accounts/{acc['id']}", {"notes": f"w{n}-{i}"})
                    key = ("account", acc["id"])
                if r.status not in (200, 201):
                    errors.append(r)
                elif key is not None:
                    with lock:
                        committed.add((*key, r.json["version"]))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

    seen = []
    reader_cursor = [cursor]

    def reader():
        while not stop.is_set():
            events, reader_cursor[0] = follow(admin, reader_cursor[0], limit=100)
            seen.extend(events)
            time.sleep(0.05)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(20)]
    rt = threading.Thread(target=reader)
    for t in threads:
        t.start()
    rt.start()
    time.sleep(10)
    stop.set()
    for t in threads:
        t.join()
    rt.join()
    assert not errors, errors[:3]
    events, _ = follow(admin, reader_cursor[0])
    seen += events
    ids = {a["id"] for a in accounts} | {o["id"] for o in opps}
    mine = [e for e in seen if e["resource_id"] in ids and not e["type"].startswith("lookup_item")]
    assert len({e["id"] for e in mine}) == len(mine), "an event was seen twice"
    got = [(e["type"].split(".")[0], e["resource_id"], e["version"]) for e in mine]
    assert len(set(got)) == len(got), "a version was seen twice"
    for resource_type, group in (("account", accounts), ("opportunity", opps)):
        for res in group:
            versions = [v for t, i, v in got if t == resource_type and i == res["id"]]
            # Versions 2 .. the current one, each once and in order: every
            # change committed after the reader's start was listed.
            current = admin.get(f"/{COLLECTIONS[resource_type]}/{res['id']}")
            assert versions == list(range(2, current.json["version"] + 1)), (resource_type, res["id"], versions)
    missing = committed - set(got)
    assert not missing, sorted(missing)[:10]
    assert len(committed) > 100


def cursor_of(kind, key):
    return base64.urlsafe_b64encode(f"{kind}|{key}".encode()).decode().rstrip("=")


@pytest.mark.parametrize("query, field", [
    ("cursor=not-a-cursor", "cursor"),
    ("cursor=" + cursor_of("changes", "12"), "cursor"),
    ("cursor=" + cursor_of("changes", "12,x"), "cursor"),
    ("cursor=" + cursor_of("changes", "-1,5"), "cursor"),
    ("cursor=" + cursor_of("changes", "99999999999999999999,1"), "cursor"),
    ("cursor=" + cursor_of("accounts", "12"), "cursor"),
    ("types=", "types"),
    ("types=accounts", "types"),
    ("types=opportunity.", "types"),
    ("types=opportunity,,account", "types"),
    ("types=opp", "types"),
    ("since=yesterday", "since"),
    ("since=2026-13-01T00:00:00Z", "since"),
    ("limit=0", "limit"),
    ("limit=501", "limit"),
    ("limit=ten", "limit"),
])
def test_bad_parameters_are_400_naming_them(member_client, query, field):
    doc = assert_problem(member_client.get(f"/changes?{query}"), 400, field)
    assert doc["type"] == "/problems/bad-request"


def test_a_cursor_of_another_list_is_refused(admin):
    make_account(admin)
    make_account(admin)
    other = admin.get("/accounts?limit=1").json["next_cursor"]
    assert other
    assert_problem(admin.get(f"/changes?cursor={other}"), 400, "cursor")
    feed = admin.get("/changes?limit=1").json["next_cursor"]
    assert_problem(admin.get(f"/accounts?cursor={feed}"), 400, "cursor")


def test_every_error_is_listed_at_once(admin):
    doc = assert_problem(admin.get("/changes?limit=0&types=x&since=x&cursor=x"), 400)
    assert {e["field"] for e in doc["errors"]} == {"limit", "types", "since", "cursor"}


def test_limit_bounds_are_inclusive(member_client):
    for limit in (1, 500):
        r = member_client.get(f"/changes?limit={limit}")
        assert r.status == 200, r
        assert len(r.json["data"]) <= limit and r.json["next_cursor"]


def test_a_token_is_needed(anon):
    r = anon.get("/changes")
    assert_problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_a_position_older_than_the_events_kept_is_410(admin):
    """On a database of its own: events are backdated past the retention,
    the server's clean-up (at start) deletes them, and a cursor or `since`
    from before is 410 (resync from the lists); the feed read afresh is
    fine, and a cursor past what was deleted too."""
    with private_database() as (url, _):
        env = dict(os.environ, DATABASE_URL=url, LOG_LEVEL="error")
        subprocess.run([BIN, "migrate"], env=env, check=True, capture_output=True, timeout=120)
        token = subprocess.run([BIN, "create-admin", "--name", "Root", "--email", "root@example.com"], env=env,
                               check=True, capture_output=True, text=True, timeout=120).stdout.strip()
        server = PrivateServer(env={"DATABASE_URL": url})
        try:
            client = Client(token, base=server.base)
            old = [make_account(client) for _ in range(3)]
            start = client.get("/changes?limit=1").json["next_cursor"]  # after the first event
            _, end = follow(client, start)
            psql_at(url, "UPDATE change_events SET occurred_at = now() - interval '31 days'")
        finally:
            assert server.stop() == 0
        server = PrivateServer(env={"DATABASE_URL": url, "CHANGES_RETENTION_DAYS": "30"})
        try:
            client = Client(token, base=server.base)
            deadline = time.monotonic() + 20
            while True:
                r = client.get(f"/changes?cursor={start}")
                if r.status == 410 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            doc = assert_problem(r, 410)
            assert doc["type"] == "/problems/gone" and "lists" in doc["detail"]
            assert_problem(client.get(f"/changes?since={quote(now_iso(timedelta(days=-40)))}"), 410)
            fresh = client.get("/changes")
            assert fresh.status == 200 and fresh.json["data"] == [], fresh
            new = make_account(client)
            events, _ = follow(client, end)  # nothing after this cursor was deleted
            assert [e["resource_id"] for e in events] == [new["id"]]
            assert all(a["id"] != new["id"] for a in old)
        finally:
            assert server.stop() == 0


def test_a_row_deleted_for_good_by_hand_gives_its_last_state(admin):
    """The API deletes accounts softly; SQL run by hand cannot skip the feed either."""
    account = make_account(admin)
    cursor = head(admin)
    psql(f"BEGIN; UPDATE accounts SET notes = 'gone', version = version + 1 WHERE id = {int(account['id'])}; "
         f"DELETE FROM accounts WHERE id = {int(account['id'])}; COMMIT;")
    events, _ = follow(admin, cursor)
    mine = of(events, "account", account["id"])
    assert [(e["type"], e["version"], e["data"]["notes"]) for e in mine] == [("account.deleted", 2, "gone")]
