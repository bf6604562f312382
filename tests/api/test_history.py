"""Opportunity history (SPEC §3): the grace window, one entry per changed
field, labels as they were, line snapshots, append-only, kept after delete,
and every writing endpoint logged. The window's boundary is tested without
sleeping: created_at is moved in the database, or imported by an admin."""
import os
import subprocess
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import assert_problem, make_account, make_user, unique


def psql(sql):
    out = subprocess.run(["psql", os.environ["DATABASE_URL"], "-XqtA", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True)
    return out


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture(scope="module")
def product(admin):
    r = admin.post("/lookups/product", {"label": unique("Product"), "unit_price": "10.00"})
    assert r.status == 201, r
    return r.json


def new_opportunity(client, hours_old=None, **fields):
    account = make_account(client)
    body = {"account_id": account["id"], **fields}
    if hours_old is not None:
        body["created_at"] = iso(datetime.now(timezone.utc) - timedelta(hours=hours_old))
    r = client.post("/opportunities", body)
    assert r.status == 201, r
    return r.json


def history(client, opp_id, **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    r = client.get(f"/opportunities/{opp_id}/history" + (f"?{qs}" if qs else ""))
    assert r.status == 200, r
    assert r.content_type.startswith("application/json")
    return r.json


def entries(client, opp_id):
    """All entries, oldest first, following every cursor."""
    out, cursor = [], None
    while True:
        page = history(client, opp_id, limit=500, **({"cursor": cursor} if cursor else {}))
        out.extend(page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            return list(reversed(out))


def test_changes_inside_the_window_are_not_recorded(admin):
    opp = new_opportunity(admin)
    assert admin.patch(f"/opportunities/{opp['id']}", {"name": "renamed"}).status == 200
    assert entries(admin, opp["id"]) == []


def test_imported_created_at_decides_the_window(admin):
    young = new_opportunity(admin, hours_old=1)
    old = new_opportunity(admin, hours_old=3)
    for opp in (young, old):
        assert admin.patch(f"/opportunities/{opp['id']}", {"next_step": "call"}).status == 200
    assert entries(admin, young["id"]) == []
    [entry] = entries(admin, old["id"])
    assert entry["field"] == "next_step" and entry["old_value"] is None and entry["new_value"] == "call"


def move_and_change(opp_id, age_sql, user_id):
    """In one transaction (so now() is fixed): set the age exactly, then change a field."""
    r = psql(f"""BEGIN;
        SELECT set_config('app.user_id', '{user_id}', true);
        UPDATE opportunities SET created_at = now() - interval '{age_sql}' WHERE id = {opp_id};
        UPDATE opportunities SET competitor = 'Initech' WHERE id = {opp_id};
        COMMIT;""")
    assert r.returncode == 0, r.stderr


def test_boundary_exactly_at_the_grace_is_recorded(admin):
    me = admin.get("/users/me").json
    at = new_opportunity(admin)
    before = new_opportunity(admin)
    move_and_change(at["id"], "7200 seconds", me["id"])
    move_and_change(before["id"], "7199.999999 seconds", me["id"])
    [entry] = entries(admin, at["id"])
    assert entry["field"] == "competitor" and entry["new_value"] == "Initech"
    assert entry["changed_by"] == {"id": me["id"], "name": me["name"]}
    assert entries(admin, before["id"]) == []


def test_grace_follows_the_setting(admin):
    opp = new_opportunity(admin)
    try:
        assert admin.patch("/settings", {"history_grace_seconds": 0}).status == 200
        assert admin.patch(f"/opportunities/{opp['id']}", {"probability": 40}).status == 200
    finally:
        assert admin.patch("/settings", {"history_grace_seconds": 7200}).status == 200
    [entry] = entries(admin, opp["id"])
    assert (entry["field"], entry["old_value"], entry["new_value"]) == ("probability", 10, 40)


def test_each_field_gets_one_entry_grouped_by_request(admin):
    statuses = admin.get("/lookups/opportunity-status").json["data"]
    forecasts = admin.get("/lookups/opportunity-forecast").json["data"]
    sources = admin.get("/lookups/source").json["data"]
    reasons = admin.get("/lookups/opportunity-loss-reason").json["data"]
    owner, _ = make_user(admin, "member", name=unique("Owner"))
    other_account = make_account(admin)
    opp = new_opportunity(admin, hours_old=5)
    patch = {
        "account_id": other_account["id"], "name": "New name", "owner_id": owner["id"],
        "status_id": statuses[2]["id"], "close_date": "2031-03-04", "next_step": "Send quote",
        "forecast_id": forecasts[1]["id"], "probability": 60, "competitor": "Globex",
        "source_id": sources[1]["id"], "loss_reason_id": reasons[0]["id"], "description": "d",
        "win_loss_report": "w", "external_id": unique("ext"),
    }
    r = admin.patch(f"/opportunities/{opp['id']}", patch)
    assert r.status == 200, r
    got = entries(admin, opp["id"])
    by_field = {e["field"]: e for e in got}
    assert sorted(by_field) == sorted(patch)
    assert len(got) == len(patch)
    assert len({e["change_id"] for e in got}) == 1
    assert len({e["changed_at"] for e in got}) == 1
    assert by_field["close_date"]["old_value"] == opp["close_date"]
    assert by_field["close_date"]["new_value"] == "2031-03-04"
    assert by_field["probability"]["new_value"] == 60
    assert by_field["status_id"]["old_label"] == "New"
    assert by_field["status_id"]["new_label"] == statuses[2]["label"]
    assert by_field["forecast_id"]["new_label"] == forecasts[1]["label"]
    assert by_field["source_id"]["new_label"] == sources[1]["label"]
    assert by_field["loss_reason_id"]["old_label"] is None
    assert by_field["loss_reason_id"]["new_label"] == reasons[0]["label"]
    assert by_field["owner_id"]["new_label"] == owner["name"]
    assert by_field["account_id"]["new_label"] == other_account["name"]
    assert by_field["name"]["old_label"] is None
    for e in got:
        assert e["opportunity_id"] == opp["id"]
        assert e["changed_at"].endswith("Z")


def test_labels_survive_a_later_rename(admin):
    status = admin.post("/lookups/opportunity-status", {"label": unique("Stage"), "probability": 33}).json
    opp = new_opportunity(admin, hours_old=5)
    assert admin.patch(f"/opportunities/{opp['id']}", {"status_id": status["id"]}).status == 200
    renamed = admin.patch(f"/lookups/opportunity-status/{status['id']}", {"label": unique("Renamed")})
    assert renamed.status == 200
    entry = next(e for e in entries(admin, opp["id"]) if e["field"] == "status_id")
    assert entry["new_label"] == status["label"] != renamed.json["label"]
    # the status change moved probability along, in the same request
    prob = next(e for e in entries(admin, opp["id"]) if e["field"] == "probability")
    assert prob["new_value"] == 33 and prob["change_id"] == entry["change_id"]


def test_setting_a_field_to_its_value_records_nothing(admin):
    opp = new_opportunity(admin, hours_old=5, next_step="same")
    assert admin.patch(f"/opportunities/{opp['id']}", {"next_step": "same", "name": opp["name"]}).status == 200
    assert entries(admin, opp["id"]) == []


def test_line_changes_give_snapshots_and_one_value_entry(admin, product):
    opp = new_opportunity(admin, hours_old=5)
    oid = opp["id"]
    added = admin.post(f"/opportunities/{oid}/lines", {"product_id": product["id"], "quantity": 2})
    assert added.status == 201
    line = added.json
    changed = admin.patch(f"/opportunities/{oid}/lines/{line['id']}", {"quantity": 3})
    assert changed.status == 200
    assert admin.delete(f"/opportunities/{oid}/lines/{line['id']}").status == 204
    got = entries(admin, oid)
    assert [e["field"] for e in got] == ["lines", "value", "lines", "value", "lines", "value"]
    add, add_value, upd, upd_value, rem, rem_value = got
    assert add["old_value"] is None and add["new_value"]["id"] == line["id"]
    assert add["new_value"]["total"] == "20.00" and add["new_value"]["quantity"] == 2
    assert (add_value["old_value"], add_value["new_value"]) == ("0.00", "20.00")
    assert add_value["change_id"] == add["change_id"]
    assert upd["old_value"]["quantity"] == 2 and upd["new_value"]["quantity"] == 3
    assert (upd_value["old_value"], upd_value["new_value"]) == ("20.00", "30.00")
    assert rem["old_value"]["id"] == line["id"] and rem["new_value"] is None
    assert (rem_value["old_value"], rem_value["new_value"]) == ("30.00", "0.00")


def test_replacing_lines_folds_the_value_into_one_entry(admin, product):
    opp = new_opportunity(admin, hours_old=5, lines=[{"product_id": product["id"], "quantity": 1}])
    oid = opp["id"]
    r = admin.put(f"/opportunities/{oid}/lines",
                  [{"product_id": product["id"], "quantity": 2}, {"product_id": product["id"], "quantity": 5}])
    assert r.status == 200, r
    got = entries(admin, oid)
    assert len({e["change_id"] for e in got}) == 1
    assert sorted(e["field"] for e in got) == ["lines", "lines", "lines", "value"]
    [value] = [e for e in got if e["field"] == "value"]
    assert (value["old_value"], value["new_value"]) == ("10.00", "70.00")
    removed = [e for e in got if e["field"] == "lines" and e["new_value"] is None]
    assert len(removed) == 1 and removed[0]["old_value"]["quantity"] == 1


def test_creation_with_lines_records_nothing_even_when_imported(admin, product):
    opp = new_opportunity(admin, hours_old=48, lines=[{"product_id": product["id"]}])
    assert opp["value"] == "10.00"
    assert entries(admin, opp["id"]) == []


def test_history_outlives_a_deleted_opportunity(admin):
    opp = new_opportunity(admin, hours_old=5)
    assert admin.delete(f"/opportunities/{opp['id']}").status == 204
    assert admin.get(f"/opportunities/{opp['id']}").status == 404
    [entry] = entries(admin, opp["id"])
    assert entry["field"] == "deleted_at" and entry["old_value"] is None and entry["new_value"].endswith("Z")


def test_every_writing_endpoint_shows_up(admin, product):
    ext = unique("sync")
    account = make_account(admin)
    created = admin.put(f"/opportunities/by-external-id/{ext}", {
        "account_id": account["id"], "created_at": iso(datetime.now(timezone.utc) - timedelta(hours=9))})
    assert created.status == 201, created
    oid = created.json["id"]
    steps = [
        ("PATCH", f"/opportunities/{oid}", {"name": "patched"}),
        ("POST", f"/opportunities/{oid}/lines", {"product_id": product["id"]}),
        ("PUT", f"/opportunities/{oid}/lines", [{"product_id": product["id"], "quantity": 4}]),
        ("PUT", f"/opportunities/by-external-id/{ext}", {"account_id": account["id"], "next_step": "upserted"}),
        ("DELETE", f"/opportunities/{oid}", None),
    ]
    seen = set()
    for method, path, body in steps:
        r = admin.request(method, path, body=body)
        assert r.status in (200, 201, 204), (method, path, r)
        now = {e["change_id"] for e in entries(admin, oid)}
        new = now - seen
        assert len(new) == 1, (method, path, "should add exactly one change")
        seen = now
    fields = [e["field"] for e in entries(admin, oid)]
    assert "name" in fields and "next_step" in fields and "deleted_at" in fields and "lines" in fields


def test_paging_newest_first(admin):
    opp = new_opportunity(admin, hours_old=5)
    for i in range(5):
        assert admin.patch(f"/opportunities/{opp['id']}", {"next_step": f"step {i}"}).status == 200
    first = history(admin, opp["id"], limit=2)
    assert [e["new_value"] for e in first["data"]] == ["step 4", "step 3"]
    ids = [e["id"] for e in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        page = history(admin, opp["id"], limit=2, cursor=cursor)
        ids += [e["id"] for e in page["data"]]
        cursor = page["next_cursor"]
    assert ids == sorted(ids, reverse=True) and len(ids) == 5


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_writing_to_history_is_refused(admin, method):
    opp = new_opportunity(admin)
    r = admin.request(method, f"/opportunities/{opp['id']}/history", body={"field": "name"})
    assert_problem(r, 405)
    assert r.headers["allow"] == "GET"


def test_history_cannot_be_edited_in_the_database_either(admin):
    me = admin.get("/users/me").json
    opp = new_opportunity(admin)
    move_and_change(opp["id"], "3 hours", me["id"])
    for sql in (f"UPDATE opportunity_history SET new_value = '\"x\"' WHERE opportunity_id = {opp['id']}",
                f"DELETE FROM opportunity_history WHERE opportunity_id = {opp['id']}",
                "TRUNCATE opportunity_history"):
        r = psql(sql)
        assert r.returncode != 0 and "append-only" in r.stderr, sql
    assert len(entries(admin, opp["id"])) == 1


def test_unknown_opportunity_and_bad_cursor(admin):
    assert_problem(admin.get("/opportunities/999999999/history"), 404)
    opp = new_opportunity(admin)
    assert_problem(admin.get(f"/opportunities/{opp['id']}/history?cursor=nope"), 400, "cursor")
    assert_problem(admin.get(f"/opportunities/{opp['id']}/history?limit=0"), 400, "limit")


def test_members_read_history_too(admin, member_client):
    opp = new_opportunity(admin, hours_old=5)
    admin.patch(f"/opportunities/{opp['id']}", {"competitor": "x"})
    r = member_client.get(f"/opportunities/{opp['id']}/history")
    assert r.status == 200 and len(r.json["data"]) == 1
