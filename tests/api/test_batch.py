"""POST /batch (SPEC §9): up to 200 writes run in order in one transaction,
all or nothing; the first failing operation's own status and problem with
operation_index and its fields named operations[i].…; "$N.id" references
to earlier results in paths and body values; If-Match per operation; one
Idempotency-Key for the whole batch; the admin's routes stay the admin's;
history written per operation as the single requests would."""
import json
import os
import subprocess
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import assert_problem, make_account, make_user, unique

MIB = 1048576


def psql(sql):
    out = subprocess.run(["psql", os.environ["DATABASE_URL"], "-XqtA", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def count(table, where="true"):
    return int(psql(f"SELECT count(*) FROM {table} WHERE {where}"))


def batch(client, operations, **kw):
    return client.post("/batch", {"operations": operations}, **kw)


def create_account_op(**fields):
    return {"method": "POST", "path": "/accounts", "body": {"name": unique("Account"), **fields}}


@pytest.fixture(scope="module")
def product(admin):
    r = admin.post("/lookups/product", {"label": unique("Product"), "unit_price": "12.50"})
    assert r.status == 201, r
    return r.json


def old_opportunity(admin):
    """An opportunity past the history grace window (imported 3 hours old)."""
    account = make_account(admin)
    created = (datetime.now(timezone.utc) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    r = admin.post("/opportunities", {"account_id": account["id"], "created_at": created})
    assert r.status == 201, r
    return r.json


def failure(r, status, index, field=None):
    doc = assert_problem(r, status, field)
    assert doc["operation_index"] == index, doc
    return doc


# ---------------------------------------------------------------------------
# success: results and references
# ---------------------------------------------------------------------------
def test_references_in_paths_and_bodies(admin, product):
    r = batch(admin, [
        create_account_op(),
        {"method": "POST", "path": "/opportunities", "body": {"account_id": "$0.id", "next_step": "call"}},
        {"method": "POST", "path": "/opportunities/$1.id/lines", "body": {"product_id": product["id"], "quantity": 2}},
        {"method": "PATCH", "path": "/opportunities/$1.id", "body": {"competitor": "Globex"}, "if_match": '"2"'},
    ])
    assert r.status == 200, r
    assert r.content_type.startswith("application/json")
    account, opp, line, patched = r.json["results"]
    assert [x["status"] for x in r.json["results"]] == [201, 201, 201, 200]
    assert account["headers"] == {"Location": f"/accounts/{account['body']['id']}", "ETag": '"1"'}
    assert opp["body"]["account_id"] == account["body"]["id"]
    assert line["body"]["opportunity_id"] == opp["body"]["id"]
    assert line["headers"]["Location"] == f"/opportunities/{opp['body']['id']}/lines/{line['body']['id']}"
    assert patched["headers"] == {"ETag": '"3"'} and patched["body"]["value"] == "25.00"
    got = admin.get(f"/opportunities/{opp['body']['id']}")
    assert got.json["competitor"] == "Globex" and got.json["value"] == "25.00" and got.json["version"] == 3


def test_a_lookup_item_and_lines_inside_a_create_refer_to_earlier_results(admin):
    r = batch(admin, [
        {"method": "POST", "path": "/lookups/product", "body": {"label": unique("Product"), "unit_price": "3.00"}},
        create_account_op(),
        {"method": "POST", "path": "/opportunities",
         "body": {"account_id": "$1.id", "lines": [{"product_id": "$0.id", "quantity": 3}]}},
        {"method": "DELETE", "path": "/opportunities/$2.id"},
    ])
    assert r.status == 200, r
    product, _, opp, deleted = r.json["results"]
    assert opp["body"]["lines"][0]["product_id"] == product["body"]["id"]
    assert opp["body"]["value"] == "9.00"
    assert deleted == {"status": 204, "headers": {}, "body": None}
    assert admin.get(f"/opportunities/{opp['body']['id']}").status == 404


def test_upsert_then_create_on_it(admin):
    external_id = unique("crm")
    ops = [
        {"method": "PUT", "path": f"/accounts/by-external-id/{external_id}", "body": {"name": "Upserted"}},
        {"method": "POST", "path": "/opportunities", "body": {"account_id": "$0.id"}},
    ]
    first = batch(admin, ops)
    assert first.status == 200, first
    assert [x["status"] for x in first.json["results"]] == [201, 201]
    again = batch(admin, ops)
    assert [x["status"] for x in again.json["results"]] == [200, 201]
    assert again.json["results"][0]["body"]["id"] == first.json["results"][0]["body"]["id"]


def test_put_lines_of_an_opportunity(admin, product):
    r = batch(admin, [
        create_account_op(),
        {"method": "POST", "path": "/opportunities", "body": {"account_id": "$0.id"}},
        {"method": "PUT", "path": "/opportunities/$1.id/lines",
         "body": [{"product_id": product["id"]}, {"product_id": product["id"], "quantity": 0.5}]},
    ])
    assert r.status == 200, r
    lines = r.json["results"][2]
    assert lines["status"] == 200 and len(lines["body"]) == 2 and lines["headers"]["ETag"]


# ---------------------------------------------------------------------------
# all or nothing
# ---------------------------------------------------------------------------
def test_199_good_operations_and_a_bad_200th_change_nothing(admin):
    old = old_opportunity(admin)
    accounts_before = count("accounts")
    history_before = count("opportunity_history", f"opportunity_id = {old['id']}")
    events_before = count("change_events")
    since = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    feed_end = admin.get(f"/changes?since={since}").json["next_cursor"]
    ops = []
    for i in range(199):
        if i % 2:
            ops.append({"method": "PATCH", "path": f"/opportunities/{old['id']}", "body": {"next_step": f"step {i}"}})
        else:
            ops.append(create_account_op())
    ops.append({"method": "POST", "path": "/accounts", "body": {"name": "", "colour": "red"}})
    r = batch(admin, ops)
    doc = failure(r, 422, 199, "operations[199].body.name")
    assert {e["field"] for e in doc["errors"]} == {"operations[199].body.name", "operations[199].body.colour"}
    assert count("accounts") == accounts_before
    assert count("opportunity_history", f"opportunity_id = {old['id']}") == history_before
    got = admin.get(f"/opportunities/{old['id']}").json
    assert got["version"] == old["version"] and got["next_step"] is None
    # No feed event: none written, and a reader at the end of the feed sees
    # only the next write's.
    assert count("change_events") == events_before
    marker = make_account(admin)
    listed = admin.get(f"/changes?cursor={feed_end}").json["data"]
    assert [(e["type"], e["resource_id"]) for e in listed] == [("account.created", marker["id"])]


def test_two_hundred_good_operations_write_history_per_operation(admin):
    old = old_opportunity(admin)
    ops = [{"method": "PATCH", "path": f"/opportunities/{old['id']}", "body": {"next_step": f"step {i}"}}
           for i in range(200)]
    r = batch(admin, ops)
    assert r.status == 200, r
    assert r.json["results"][-1]["body"]["version"] == old["version"] + 200
    entries = psql(f"SELECT count(*), count(DISTINCT change_id) FROM opportunity_history "
                   f"WHERE opportunity_id = {old['id']} AND field = 'next_step'")
    assert entries == "200|200"


def test_a_conflict_inside_the_batch_is_the_second_operations_409(admin):
    external_id = unique("dup")
    r = batch(admin, [create_account_op(external_id=external_id), create_account_op(external_id=external_id)])
    doc = failure(r, 409, 1, "operations[1].body.external_id")
    assert doc["type"] == "/problems/conflict"
    assert count("accounts", f"external_id = '{external_id}'") == 0


def test_an_operation_on_a_missing_record_is_its_404(admin):
    before = count("accounts")
    r = batch(admin, [create_account_op(), {"method": "PATCH", "path": "/accounts/999999999", "body": {"name": "x"}}])
    failure(r, 404, 1)
    assert count("accounts") == before


def test_if_match_per_operation(admin):
    a, b = make_account(admin), make_account(admin)
    r = batch(admin, [
        {"method": "PATCH", "path": f"/accounts/{a['id']}", "body": {"phone": "1"}, "if_match": '"1"'},
        {"method": "PATCH", "path": f"/accounts/{b['id']}", "body": {"phone": "2"}, "if_match": '"7"'},
    ])
    failure(r, 412, 1)
    assert admin.get(f"/accounts/{a['id']}").json["version"] == 1
    ok = batch(admin, [
        {"method": "PATCH", "path": f"/accounts/{a['id']}", "body": {"phone": "1"}, "if_match": '"1"'},
        {"method": "DELETE", "path": f"/accounts/{b['id']}", "if_match": '"3", "1"'},
    ])
    assert ok.status == 200, ok
    assert admin.get(f"/accounts/{b['id']}").status == 404


# ---------------------------------------------------------------------------
# references that cannot be used
# ---------------------------------------------------------------------------
def test_references_to_later_operations_are_422(admin):
    r = batch(admin, [
        {"method": "POST", "path": "/opportunities", "body": {"account_id": "$1.id"}},
        create_account_op(),
        {"method": "PATCH", "path": "/accounts/$2.id", "body": {"name": "self"}},
    ])
    doc = failure(r, 422, 0, "operations[0].body.account_id")
    assert "operations[2].path" in {e["field"] for e in doc["errors"]}


def test_a_reference_to_a_result_without_an_id_is_422_and_nothing_is_kept(admin):
    account = make_account(admin)
    before = count("accounts")
    r = batch(admin, [
        create_account_op(),
        {"method": "DELETE", "path": f"/accounts/{account['id']}"},
        {"method": "PATCH", "path": "/accounts/$1.id", "body": {"name": "x"}},
    ])
    doc = failure(r, 422, 2, "operations[2].path")
    assert "operation 1" in doc["errors"][0]["message"]
    assert count("accounts") == before
    assert admin.get(f"/accounts/{account['id']}").status == 200


def test_strings_that_only_look_like_references_are_values(admin):
    r = batch(admin, [create_account_op(notes="$0.idea"), create_account_op(notes="$1.id ")])
    assert r.status == 200, r
    assert r.json["results"][0]["body"]["notes"] == "$0.idea"


# ---------------------------------------------------------------------------
# the batch's own shape
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 201])
def test_zero_or_more_than_200_operations_are_422(admin, n):
    r = batch(admin, [create_account_op() for _ in range(n)])
    assert_problem(r, 422, "operations")


def test_operations_must_be_an_array_and_nothing_else_is_taken(admin):
    assert_problem(admin.post("/batch", {"operations": {}}), 422, "operations")
    assert_problem(admin.post("/batch", {"operations": [create_account_op()], "atomic": True}), 422, "atomic")
    assert_problem(admin.post("/batch", [create_account_op()]), 400)


def test_body_over_1mib_is_413(admin):
    op = create_account_op(notes="x" * 9000)
    r = batch(admin, [op] * 120)  # each note is valid; the whole is over 1 MiB
    assert_problem(r, 413)


def test_unknown_paths_and_methods_name_the_operation(admin):
    before = count("accounts")
    r = batch(admin, [
        create_account_op(),
        {"method": "GET", "path": "/accounts"},
        {"method": "POST", "path": "/no-such-thing", "body": {}},
        {"method": "POST", "path": "/users", "body": {}},
        {"method": "PUT", "path": "/accounts/1", "body": {}},
        {"method": "DELETE", "path": "/opportunities/1/history"},
        {"method": "POST", "path": "/accounts?x=1", "body": {}},
        {"method": "POST", "path": "/accounts"},
        {"method": "DELETE", "path": "/accounts/1", "body": {}},
        {"method": "POST", "path": "/accounts", "body": {}, "headers": {}},
        "POST /accounts",
    ])
    doc = failure(r, 422, 1)
    fields = {e["field"] for e in doc["errors"]}
    assert fields == {"operations[1].method", "operations[2].path", "operations[3].path", "operations[4].method",
                      "operations[5].path", "operations[6].path", "operations[7].body", "operations[8].body",
                      "operations[9].headers", "operations[10]"}
    assert count("accounts") == before


# ---------------------------------------------------------------------------
# who may write what
# ---------------------------------------------------------------------------
def test_a_member_cannot_write_lookup_items_inside_a_batch(admin):
    _, member = make_user(admin, "member")
    before = count("accounts")
    r = batch(member, [create_account_op(),
                       {"method": "POST", "path": "/lookups/source", "body": {"label": unique("Source")}}])
    doc = failure(r, 403, 1)
    assert doc["type"] == "/problems/forbidden"
    assert count("accounts") == before
    # invalid fields do not hide the role, as for the single request
    r = batch(member, [{"method": "POST", "path": "/lookups/source", "body": {"label": ""}}])
    failure(r, 403, 0)
    mine = batch(member, [create_account_op()])
    assert mine.status == 200, mine


def test_an_admin_writes_lookup_items_inside_a_batch(admin):
    label = unique("Source")
    r = batch(admin, [
        {"method": "POST", "path": "/lookups/source", "body": {"label": label}},
        {"method": "PATCH", "path": "/lookups/source/$0.id", "body": {"active": False}},
        create_account_op(),
    ])
    assert r.status == 200, r
    assert r.json["results"][1]["body"]["active"] is False


def test_without_a_token_is_401(anon):
    assert_problem(anon.post("/batch", {"operations": [create_account_op()]}), 401)


# ---------------------------------------------------------------------------
# Idempotency-Key
# ---------------------------------------------------------------------------
def test_an_idempotency_key_replays_the_whole_batch(admin):
    key = f"key-{uuid.uuid4()}"
    name = unique("Keyed")
    ops = [create_account_op(), {"method": "PATCH", "path": "/accounts/$0.id", "body": {"name": name}}]
    first = batch(admin, ops, headers={"Idempotency-Key": key})
    assert first.status == 200, first
    again = batch(admin, ops, headers={"Idempotency-Key": key})
    assert again.status == 200 and again.headers.get("idempotent-replayed") == "true"
    assert json.loads(again.body) == json.loads(first.body)
    assert count("accounts", f"name = '{name}'") == 1
    other = batch(admin, ops[:1], headers={"Idempotency-Key": key})
    assert_problem(other, 422, "Idempotency-Key")


def test_a_failed_keyed_batch_leaves_the_key_unused(admin):
    key = f"key-{uuid.uuid4()}"
    external_id = unique("dup")
    ops = [create_account_op(external_id=external_id), create_account_op(external_id=external_id)]
    failure(batch(admin, ops, headers={"Idempotency-Key": key}), 409, 1)
    ok = batch(admin, ops[:1], headers={"Idempotency-Key": key})
    assert ok.status == 200, ok


# ---------------------------------------------------------------------------
# a deadlock inside the batch's transaction
# ---------------------------------------------------------------------------
def test_a_deadlock_reruns_the_whole_batch(admin):
    """The batch locks x, then waits for y, which another transaction holds;
    that transaction then waits for x. PostgreSQL breaks the deadlock in the
    batch (the first to wait); the batch rolls back and runs again, after
    the other transaction committed, and both changes are kept."""
    x, y = make_account(admin), make_account(admin)
    holder = subprocess.Popen(["psql", os.environ["DATABASE_URL"], "-XqtA", "-v", "ON_ERROR_STOP=1"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        holder.stdin.write(f"BEGIN; SELECT id FROM accounts WHERE id = {y['id']} FOR UPDATE;\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == str(y["id"])
        result = {}
        name = unique("Rerun")
        ops = [{"method": "PATCH", "path": f"/accounts/{x['id']}", "body": {"name": name}},
               {"method": "PATCH", "path": f"/accounts/{y['id']}", "body": {"name": name}}]
        runner = threading.Thread(target=lambda: result.update(r=batch(admin, ops)))
        runner.start()
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'crm-api'"
        deadline = time.monotonic() + 10
        while psql(waiting) != "1":
            assert time.monotonic() < deadline, "the batch never waited for the lock"
            time.sleep(0.02)
        holder.stdin.write(f"UPDATE accounts SET phone = 'holder' WHERE id = {x['id']}; COMMIT;\n")
        holder.stdin.close()
        assert holder.wait(timeout=30) == 0
        runner.join(30)
    finally:
        if holder.poll() is None:
            holder.kill()
    r = result["r"]
    assert r.status == 200, r
    got_x = admin.get(f"/accounts/{x['id']}").json
    assert got_x["name"] == name and got_x["phone"] == "holder"
    assert admin.get(f"/accounts/{y['id']}").json["name"] == name


# ---------------------------------------------------------------------------
# the same problem as the single request
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("method,path,body", [
    ("POST", "/opportunities", {"account_id": 999999999, "probability": 101, "colour": "red"}),
    ("POST", "/accounts", {"name": "x" * 201, "owner_id": 999999999}),
    ("PUT", "/opportunities/by-external-id/" + "e" * 201, {"account_id": 1}),
    ("POST", "/lookups/opportunity-status", {"label": "", "probability": -1}),
])
def test_an_operation_fails_as_its_single_request_does(admin, method, path, body):
    single = admin.request(method, path, body=body)
    doc = failure(batch(admin, [create_account_op(), {"method": method, "path": path, "body": body}]),
                  single.status, 1)
    expected = single.json
    assert (doc["type"], doc["title"], doc["detail"]) == (expected["type"], expected["title"], expected["detail"])

    def named(field):
        return "operations[1].path" if field == "external_id" and "by-external-id" in path \
            else f"operations[1].body.{field}"
    assert sorted((e["field"], e["message"]) for e in doc["errors"]) == \
        sorted((named(e["field"]), e["message"]) for e in expected["errors"])
