"""Lookup tables (SPEC 2.5, 5, 7): GET /lookups, items at /lookups/{table}
and /lookups/{table}/{id}: seeded defaults, create/get/list/patch/delete for
each of the five tables, extras, label rules, the single default, inactive
items, references, admin-only writes, 404s.

The database is shared by the whole run, so every test makes its own items
(unique labels) and checks seeded items by presence, not list equality.
Tests that make an item the default of a table restore "no default" by
deleting their items at the end."""
import base64
import re
import threading
import uuid

import pytest

from conftest import Client, assert_problem, make_account, make_user, unique

JSON = "application/json; charset=utf-8"
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

EXTRAS = {
    "opportunity-status": ["probability"],
    "opportunity-forecast": ["include_in_forecast"],
    "opportunity-loss-reason": [],
    "product": ["unit_price"],
    "source": [],
}
TABLES = list(EXTRAS)
# Value of the extra on an item created without it.
EXTRA_DEFAULTS = {"probability": None, "include_in_forecast": True, "unit_price": None}
# A valid value to send for each extra, and what the server answers with.
EXTRA_SAMPLES = {"probability": (40, 40), "include_in_forecast": (False, False), "unit_price": ("99.9", "99.90")}
COMMON_KEYS = {"id", "label", "position", "active", "is_default", "created_at", "updated_at", "version"}
# Tables with no seeded default: tests that move a default use these, so the
# seeded defaults (statuses, forecast categories) stay as the other tests expect.
NO_SEED_DEFAULT = ["opportunity-loss-reason", "product", "source"]


# ---------------------------------------------------------------------------
# helpers private to this file
# ---------------------------------------------------------------------------

def label(prefix="Item"):
    return unique(prefix)


def create(client, table, **fields):
    body = {"label": label()}
    body.update(fields)
    r = client.post(f"/lookups/{table}", body)
    assert r.status == 201, r
    return r.json


def get_item(client, table, item_id):
    r = client.get(f"/lookups/{table}/{item_id}")
    assert r.status == 200, r
    return r.json


def delete_quietly(admin, table, item_id):
    """Best-effort clean-up (the item may already be gone)."""
    admin.delete(f"/lookups/{table}/{item_id}")


def walk(client, table, limit=2, query=""):
    """Follows next_cursor from the first page to the end; returns every item and the page count."""
    items, pages, cursor = [], 0, None
    while True:
        path = f"/lookups/{table}?limit={limit}{query}"
        if cursor:
            path += f"&cursor={cursor}"
        r = client.get(path)
        assert r.status == 200, r
        assert r.content_type == JSON
        doc = r.json
        assert set(doc) == {"data", "next_cursor"}
        assert len(doc["data"]) <= limit
        items += doc["data"]
        pages += 1
        cursor = doc["next_cursor"]
        if cursor is None:
            return items, pages
        assert isinstance(cursor, str) and cursor
        assert len(doc["data"]) == limit
        assert pages < 1000


def everything(client, table, query=""):
    r = client.get(f"/lookups/{table}?limit=500{query}")
    assert r.status == 200, r
    assert r.json["next_cursor"] is None
    return r.json["data"]


def by_label(items):
    return {i["label"]: i for i in items}


def order_key(item):
    return (item["position"], item["id"])


def cursor_of(text):
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def assert_item_shape(item, table):
    assert set(item) == COMMON_KEYS | set(EXTRAS[table]), item
    assert isinstance(item["id"], int) and item["id"] > 0
    assert isinstance(item["label"], str)
    assert isinstance(item["position"], int)
    assert isinstance(item["active"], bool)
    assert isinstance(item["is_default"], bool)
    assert isinstance(item["version"], int) and item["version"] >= 1
    assert TS.match(item["created_at"]), item
    assert TS.match(item["updated_at"]), item


def new_position(item, k=0):
    """A valid position the item does not have (so a patch to it is a change)."""
    p = 300000 + k
    return p if p != item["position"] else p + 50


def other_table(table):
    return "source" if table != "source" else "opportunity-loss-reason"


# ---------------------------------------------------------------------------
# GET /lookups
# ---------------------------------------------------------------------------

def test_tables_are_listed_with_urls_and_extra_fields(admin):
    r = admin.get("/lookups")
    assert r.status == 200
    assert r.content_type == JSON
    assert r.json == {
        "data": [
            {"name": "opportunity-status", "items_url": "/lookups/opportunity-status", "extra_fields": ["probability"]},
            {"name": "opportunity-forecast", "items_url": "/lookups/opportunity-forecast",
             "extra_fields": ["include_in_forecast"]},
            {"name": "opportunity-loss-reason", "items_url": "/lookups/opportunity-loss-reason", "extra_fields": []},
            {"name": "product", "items_url": "/lookups/product", "extra_fields": ["unit_price"]},
            {"name": "source", "items_url": "/lookups/source", "extra_fields": []},
        ],
        "next_cursor": None,
    }


def test_tables_readable_by_member(member_client):
    r = member_client.get("/lookups")
    assert r.status == 200
    assert [t["name"] for t in r.json["data"]] == TABLES


def test_tables_need_a_token(anon):
    r = anon.get("/lookups")
    assert_problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert_problem(Client("crm_" + "A" * 43).get("/lookups"), 401)
    assert_problem(anon.get("/lookups/source"), 401)
    assert_problem(anon.get("/lookups/source/1"), 401)


def test_tables_refuse_query_parameters(admin):
    assert_problem(admin.get("/lookups?limit=2"), 400, "limit")


def test_items_url_of_each_table_lists_it(admin):
    for t in admin.get("/lookups").json["data"]:
        r = admin.get(t["items_url"])
        assert r.status == 200, t
        for item in r.json["data"]:
            assert_item_shape(item, t["name"])


# ---------------------------------------------------------------------------
# Seeded defaults
# ---------------------------------------------------------------------------

def test_seeded_statuses(admin):
    items = everything(admin, "opportunity-status")
    seeded = [("New", 10, True), ("Qualified", 25, False), ("Proposal", 50, False),
              ("Negotiation", 75, False), ("Won", 100, False), ("Lost", 0, False)]
    labels = by_label(items)
    for name, probability, is_default in seeded:
        item = labels[name]
        assert item["probability"] == probability, item
        assert item["is_default"] is is_default, item
        assert item["active"] is True
    # In that order, by position.
    positions = [labels[name]["position"] for name, _, _ in seeded]
    assert positions == sorted(positions) and len(set(positions)) == 6
    seen = [i["label"] for i in items if i["label"] in {s[0] for s in seeded}]
    assert seen == [s[0] for s in seeded]
    assert [i for i in items if i["is_default"]] == [labels["New"]]


def test_seeded_forecast_categories(admin):
    items = everything(admin, "opportunity-forecast")
    labels = by_label(items)
    seeded = [("Pipeline", True, True), ("Best case", False, True), ("Commit", False, True), ("Omitted", False, False)]
    for name, is_default, included in seeded:
        item = labels[name]
        assert item["is_default"] is is_default, item
        assert item["include_in_forecast"] is included, item
        assert item["active"] is True
    seen = [i["label"] for i in items if i["label"] in {s[0] for s in seeded}]
    assert seen == [s[0] for s in seeded]
    assert [i for i in items if i["is_default"]] == [labels["Pipeline"]]


@pytest.mark.parametrize("table,seeded", [
    ("opportunity-loss-reason", ["Price", "Competitor", "No budget", "No decision"]),
    ("source", ["Website", "Referral", "Trade show", "Cold call"]),
])
def test_seeded_loss_reasons_and_sources(admin, table, seeded):
    items = everything(admin, table)
    labels = by_label(items)
    for name in seeded:
        assert labels[name]["active"] is True, labels[name]
        assert_item_shape(labels[name], table)
    assert [i["label"] for i in items if i["label"] in seeded] == seeded


def test_no_products_are_seeded(admin):
    # Any product present was created through the API by a test after start-up.
    seed_time = by_label(everything(admin, "opportunity-status"))["New"]["created_at"]
    assert [p for p in everything(admin, "product") if p["created_at"] <= seed_time] == []


# ---------------------------------------------------------------------------
# Create
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("table", TABLES)
def test_create_minimal_item(admin, table):
    name = label("Create")
    r = admin.post(f"/lookups/{table}", {"label": name})
    assert r.status == 201, r
    assert r.content_type == JSON
    item = r.json
    assert_item_shape(item, table)
    assert r.headers["location"] == f"/lookups/{table}/{item['id']}"
    assert r.headers["etag"] == '"1"'
    assert item["label"] == name
    assert item["active"] is True
    assert item["is_default"] is False
    assert item["version"] == 1
    assert item["created_at"] == item["updated_at"]
    for extra in EXTRAS[table]:
        assert item[extra] == EXTRA_DEFAULTS[extra]
    # The Location serves the same item.
    g = admin.get(r.headers["location"])
    assert g.status == 200
    assert g.json == item


@pytest.mark.parametrize("table", TABLES)
def test_create_full_item(admin, table):
    body = {"label": label("Full"), "position": 777, "active": False, "is_default": False}
    expected = dict(body)
    for extra in EXTRAS[table]:
        body[extra], expected[extra] = EXTRA_SAMPLES[extra]
    r = admin.post(f"/lookups/{table}", body)
    assert r.status == 201, r
    item = r.json
    for key, value in expected.items():
        assert item[key] == value, key
    assert_item_shape(item, table)


@pytest.mark.parametrize("table", TABLES)
def test_create_default_position_is_after_the_last(admin, table):
    last = max((i["position"] for i in everything(admin, table)), default=0)
    item = create(admin, table)
    assert item["position"] == last + 1


@pytest.mark.parametrize("table", TABLES)
def test_create_without_label_is_422(admin, table):
    assert_problem(admin.post(f"/lookups/{table}", {"position": 3}), 422, "label")
    assert_problem(admin.post(f"/lookups/{table}", {"label": None}), 422, "label")
    assert_problem(admin.post(f"/lookups/{table}", {"label": 5}), 422, "label")


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("length,ok", [(0, False), (1, True), (100, True), (101, False)])
def test_label_length(admin, table, length, ok):
    text = (uuid.uuid4().hex * 4)[:length]
    r = admin.post(f"/lookups/{table}", {"label": text})
    if ok:
        assert r.status == 201, r
        assert r.json["label"] == text
        delete_quietly(admin, table, r.json["id"])
    else:
        doc = assert_problem(r, 422, "label")
        assert doc["type"] == "/problems/validation"


def test_label_length_counts_characters_not_bytes(admin):
    text = "é" * 99 + uuid.uuid4().hex[:1]
    r = admin.post("/lookups/source", {"label": text})
    assert r.status == 201, r
    assert r.json["label"] == text
    assert_problem(admin.post("/lookups/source", {"label": "é" * 101}), 422, "label")


@pytest.mark.parametrize("table", TABLES)
def test_create_refuses_extra_of_another_table(admin, table):
    foreign = {"probability": 50, "include_in_forecast": True, "unit_price": "1.00"}
    for field, value in foreign.items():
        if field in EXTRAS[table]:
            continue
        r = admin.post(f"/lookups/{table}", {"label": label(), field: value})
        doc = assert_problem(r, 422, field)
        assert doc["errors"] == [{"field": field, "message": "is not a field of this resource"}]


@pytest.mark.parametrize("table", TABLES)
def test_create_refuses_read_only_and_unknown_fields(admin, table):
    r = admin.post(f"/lookups/{table}", {"label": label(), "id": 5, "version": 2, "created_at": "2026-01-01T00:00:00Z",
                                         "updated_at": "2026-01-01T00:00:00Z", "colour": "red"})
    doc = assert_problem(r, 422)
    assert sorted(e["field"] for e in doc["errors"]) == ["colour", "created_at", "id", "updated_at", "version"]


def test_create_lists_every_invalid_field(admin):
    r = admin.post("/lookups/opportunity-status", {"label": "", "position": "1", "active": "yes",
                                                   "is_default": 1, "probability": 101})
    doc = assert_problem(r, 422)
    assert sorted(e["field"] for e in doc["errors"]) == ["active", "is_default", "label", "position", "probability"]
    assert all(e["message"] for e in doc["errors"])


@pytest.mark.parametrize("value,ok", [(-1000000, True), (1000000, True), (0, True), (-1000001, False),
                                      (1000001, False), ("3", False), (1.5, False), (None, False)])
def test_position_range(admin, value, ok):
    r = admin.post("/lookups/opportunity-loss-reason", {"label": label(), "position": value})
    if ok:
        assert r.status == 201, r
        assert r.json["position"] == value
        delete_quietly(admin, "opportunity-loss-reason", r.json["id"])
    else:
        assert_problem(r, 422, "position")


@pytest.mark.parametrize("value,ok", [(0, True), (100, True), (55, True), (None, True), (-1, False), (101, False),
                                      ("50", False), (50.5, False), (True, False)])
def test_status_probability(admin, value, ok):
    r = admin.post("/lookups/opportunity-status", {"label": label(), "probability": value})
    if ok:
        assert r.status == 201, r
        assert r.json["probability"] == value
    else:
        assert_problem(r, 422, "probability")


@pytest.mark.parametrize("value,ok", [(True, True), (False, True), (None, False), ("true", False), (1, False)])
def test_forecast_include_in_forecast(admin, value, ok):
    r = admin.post("/lookups/opportunity-forecast", {"label": label(), "include_in_forecast": value})
    if ok:
        assert r.status == 201, r
        assert r.json["include_in_forecast"] is value
    else:
        assert_problem(r, 422, "include_in_forecast")


@pytest.mark.parametrize("value,expected", [
    ("12.5", "12.50"), (12.5, "12.50"), (12, "12.00"), ("12", "12.00"), ("12.50", "12.50"), (0.1, "0.10"),
    ("0", "0.00"), (0, "0.00"), ("1000000000.00", "1000000000.00"), (1000000000, "1000000000.00"),
    (999999999.99, "999999999.99"), (None, None),
])
def test_product_unit_price_accepted(admin, value, expected):
    r = admin.post("/lookups/product", {"label": label("Product"), "unit_price": value})
    assert r.status == 201, r
    assert r.json["unit_price"] == expected
    assert get_item(admin, "product", r.json["id"])["unit_price"] == expected


@pytest.mark.parametrize("value", ["12.345", 12.345, -1, "-1", "1000000000.01", 1000000000.01, "abc", True, "",
                                   " 12", "1e3", [12], {"amount": 12}])
def test_product_unit_price_refused(admin, value):
    r = admin.post("/lookups/product", {"label": label("Product"), "unit_price": value})
    doc = assert_problem(r, 422, "unit_price")
    assert [e["field"] for e in doc["errors"]] == ["unit_price"]


def test_create_body_must_be_json_object(admin):
    assert_problem(admin.post("/lookups/source", ["label"]), 400)
    assert_problem(admin.post("/lookups/source", raw=b'{"label": '), 400)
    assert_problem(admin.post("/lookups/source", raw=b'{"label": "a"}', content_type="text/plain"), 415)


# ---------------------------------------------------------------------------
# Get
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("table", TABLES)
def test_get_item(admin, member_client, table):
    item = create(admin, table)
    for client in (admin, member_client):
        r = client.get(f"/lookups/{table}/{item['id']}")
        assert r.status == 200
        assert r.content_type == JSON
        assert r.headers["etag"] == '"1"'
        assert r.json == item


def test_get_if_none_match(admin):
    item = create(admin, "source")
    r = admin.get(f"/lookups/source/{item['id']}", headers={"If-None-Match": '"1"'})
    assert r.status == 304
    assert r.body == b""
    assert r.headers["etag"] == '"1"'
    r = admin.get(f"/lookups/source/{item['id']}", headers={"If-None-Match": '"2"'})
    assert r.status == 200
    assert r.json == item


# ---------------------------------------------------------------------------
# List, paging, active filter
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("table", TABLES)
def test_list_pages_in_position_order(admin, table):
    # At least five items of ours, two of them sharing a position.
    mine = [create(admin, table, position=p) for p in (50, 5, 20, 20, -5)]
    everything_at_once = everything(admin, table)
    assert everything_at_once == sorted(everything_at_once, key=order_key)
    paged, pages = walk(admin, table, limit=2)
    assert paged == everything_at_once
    assert pages == -(-len(paged) // 2)  # a full last page already says next_cursor: null
    ids = [i["id"] for i in paged]
    assert len(ids) == len(set(ids))
    assert {i["id"] for i in mine} <= set(ids)
    ours = [i["id"] for i in paged if i["id"] in {m["id"] for m in mine}]
    # -5, 5, 20 (created first), 20 (created second), 50
    assert ours == [mine[4]["id"], mine[1]["id"], mine[2]["id"], mine[3]["id"], mine[0]["id"]]
    for item in paged:
        assert_item_shape(item, table)


def test_list_with_limit_one_walks_every_item(admin):
    create(admin, "opportunity-loss-reason")
    all_items = everything(admin, "opportunity-loss-reason")
    paged, pages = walk(admin, "opportunity-loss-reason", limit=1)
    assert paged == all_items
    assert pages == len(all_items)


def test_list_last_page_has_null_cursor(admin):
    all_items = everything(admin, "opportunity-status")
    r = admin.get(f"/lookups/opportunity-status?limit={len(all_items)}")
    assert r.status == 200
    assert r.json == {"data": all_items, "next_cursor": None}
    r = admin.get(f"/lookups/opportunity-status?limit={len(all_items) - 1}")
    assert r.json["data"] == all_items[:-1]
    last = admin.get(f"/lookups/opportunity-status?limit=5&cursor={r.json['next_cursor']}")
    assert last.json == {"data": all_items[-1:], "next_cursor": None}


def test_list_default_limit_is_50(admin):
    while len(everything(admin, "product")) < 51:
        create(admin, "product")
    r = admin.get("/lookups/product")
    assert r.status == 200
    assert len(r.json["data"]) == 50
    assert r.json["next_cursor"]


def test_cursor_survives_deletion_of_the_item_it_points_at(admin):
    a = create(admin, "product", position=-777777)
    b = create(admin, "product", position=-777777)
    c = create(admin, "product", position=-777777)
    # Walk one item at a time up to a.
    cursor = None
    while True:
        r = admin.get("/lookups/product?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status == 200
        cursor = r.json["next_cursor"]
        if r.json["data"][0]["id"] == a["id"]:
            break
        assert cursor
    assert admin.delete(f"/lookups/product/{a['id']}").status == 204
    r = admin.get(f"/lookups/product?limit=2&cursor={cursor}")
    assert r.status == 200
    assert [i["id"] for i in r.json["data"]] == [b["id"], c["id"]]


@pytest.mark.parametrize("table", TABLES)
def test_list_active_filter(admin, table):
    on = create(admin, table)
    off = create(admin, table, active=False)
    active, _ = walk(admin, table, limit=3, query="&active=true")
    inactive, _ = walk(admin, table, limit=3, query="&active=false")
    assert all(i["active"] is True for i in active)
    assert all(i["active"] is False for i in inactive)
    assert on in active and on not in inactive
    assert off in inactive and off not in active
    assert active == sorted(active, key=order_key)
    assert inactive == sorted(inactive, key=order_key)
    assert sorted(i["id"] for i in active + inactive) == sorted(i["id"] for i in everything(admin, table))


def test_list_is_readable_by_member(admin, member_client):
    item = create(admin, "source")
    r = member_client.get("/lookups/source?limit=500")
    assert r.status == 200
    assert item in r.json["data"]


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=abc", "limit"), ("limit=", "limit"),
    ("active=yes", "active"), ("active=1", "active"), ("sort=label", "sort"), ("include_deleted=true", "include_deleted"),
    ("cursor=!!!", "cursor"), ("cursor=", "cursor"), ("q=x", "q"),
])
def test_list_bad_query_is_400(admin, query, field):
    assert_problem(admin.get(f"/lookups/source?{query}"), 400, field)


def test_list_limit_bounds_accepted(admin):
    assert admin.get("/lookups/source?limit=1").status == 200
    assert admin.get("/lookups/source?limit=500").status == 200


@pytest.mark.parametrize("raw", [
    "lookups|", "lookups|abc", "lookups|1", "lookups|,1", "lookups|1,", "lookups|1,x", "lookups|--1,1",
    "lookups|-,5", "lookups|9999999999,1", "lookups|1,9999999999999999999", "lookups|1,0", "lookups|1,-3",
    "accounts|5", "users|5", "lookups5",
])
def test_list_forged_cursor_is_400(admin, raw):
    doc = assert_problem(admin.get(f"/lookups/source?limit=2&cursor={cursor_of(raw)}"), 400, "cursor")
    assert doc["type"] == "/problems/bad-request"


def test_list_cursor_belongs_to_its_table(admin):
    cursor = admin.get("/lookups/opportunity-status?limit=1").json["next_cursor"]
    assert cursor
    assert admin.get(f"/lookups/opportunity-status?limit=1&cursor={cursor}").status == 200
    assert_problem(admin.get(f"/lookups/source?limit=1&cursor={cursor}"), 400, "cursor")


def test_list_refuses_repeated_parameter(admin):
    assert_problem(admin.get("/lookups/source?limit=2&limit=3"), 400, "limit")


# ---------------------------------------------------------------------------
# Patch
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("table", TABLES)
def test_patch_fields_and_version(admin, table):
    item = create(admin, table)
    body = {"label": label("Renamed"), "position": new_position(item), "active": False}
    for extra in EXTRAS[table]:
        body[extra] = EXTRA_SAMPLES[extra][0]
    r = admin.patch(f"/lookups/{table}/{item['id']}", body)
    assert r.status == 200, r
    assert r.content_type == JSON
    assert r.headers["etag"] == '"2"'
    patched = r.json
    assert patched["id"] == item["id"]
    assert patched["label"] == body["label"]
    assert patched["position"] == body["position"]
    assert patched["active"] is False
    assert patched["is_default"] is False
    for extra in EXTRAS[table]:
        assert patched[extra] == EXTRA_SAMPLES[extra][1]
    assert patched["version"] == 2
    assert patched["created_at"] == item["created_at"]
    assert patched["updated_at"] > item["updated_at"]
    assert get_item(admin, table, item["id"]) == patched
    # Back to active, one field at a time.
    r = admin.patch(f"/lookups/{table}/{item['id']}", {"active": True})
    assert r.status == 200
    assert r.json["active"] is True
    assert r.json["label"] == body["label"]
    assert r.json["version"] == 3


@pytest.mark.parametrize("table", TABLES)
def test_patch_without_change_keeps_version(admin, table):
    item = create(admin, table)
    r = admin.patch(f"/lookups/{table}/{item['id']}", {})
    assert r.status == 200
    assert r.json == item
    assert r.headers["etag"] == '"1"'
    r = admin.patch(f"/lookups/{table}/{item['id']}", {"label": item["label"], "active": True})
    assert r.status == 200
    assert r.json["version"] == 1


def test_patch_with_merge_patch_content_type(admin):
    item = create(admin, "source")
    pos = new_position(item)
    r = admin.patch(f"/lookups/source/{item['id']}", {"position": pos}, content_type="application/merge-patch+json")
    assert r.status == 200
    assert r.json["position"] == pos


def test_patch_null_clears_nullable_extras(admin):
    status = create(admin, "opportunity-status", probability=30)
    r = admin.patch(f"/lookups/opportunity-status/{status['id']}", {"probability": None})
    assert r.status == 200
    assert r.json["probability"] is None
    product = create(admin, "product", unit_price="5")
    assert product["unit_price"] == "5.00"
    r = admin.patch(f"/lookups/product/{product['id']}", {"unit_price": None})
    assert r.status == 200
    assert r.json["unit_price"] is None
    r = admin.patch(f"/lookups/product/{product['id']}", {"unit_price": 7})
    assert r.json["unit_price"] == "7.00"


@pytest.mark.parametrize("table", TABLES)
def test_patch_refuses_null_for_non_nullable_fields(admin, table):
    item = create(admin, table)
    fields = ["label", "position", "active", "is_default"] + (
        ["include_in_forecast"] if table == "opportunity-forecast" else [])
    for field in fields:
        assert_problem(admin.patch(f"/lookups/{table}/{item['id']}", {field: None}), 422, field)
    assert get_item(admin, table, item["id"]) == item


@pytest.mark.parametrize("table", TABLES)
def test_patch_validation(admin, table):
    item = create(admin, table)
    path = f"/lookups/{table}/{item['id']}"
    assert_problem(admin.patch(path, {"label": ""}), 422, "label")
    assert_problem(admin.patch(path, {"label": "x" * 101}), 422, "label")
    assert_problem(admin.patch(path, {"position": 1000001}), 422, "position")
    assert_problem(admin.patch(path, {"id": 1}), 422, "id")
    assert_problem(admin.patch(path, {"version": 9}), 422, "version")
    foreign = next(f for f in ("probability", "include_in_forecast", "unit_price") if f not in EXTRAS[table])
    doc = assert_problem(admin.patch(path, {foreign: None}), 422, foreign)
    assert doc["errors"][0]["message"] == "is not a field of this resource"
    if table == "product":
        for bad in ("12.345", -1, "1000000000.01", "abc", True):
            assert_problem(admin.patch(path, {"unit_price": bad}), 422, "unit_price")
    if table == "opportunity-status":
        assert_problem(admin.patch(path, {"probability": 101}), 422, "probability")
    assert get_item(admin, table, item["id"]) == item


def test_patch_body_must_be_object(admin):
    item = create(admin, "source")
    assert_problem(admin.patch(f"/lookups/source/{item['id']}", ["x"]), 400)
    assert_problem(admin.patch(f"/lookups/source/{item['id']}", raw=b"{", content_type="application/json"), 400)
    assert_problem(admin.patch(f"/lookups/source/{item['id']}", raw=b"{}", content_type="text/plain"), 415)


@pytest.mark.parametrize("table", TABLES)
def test_patch_if_match(admin, table):
    item = create(admin, table)
    path = f"/lookups/{table}/{item['id']}"
    r = admin.patch(path, {"position": new_position(item, 1)}, headers={"If-Match": '"1"'})
    assert r.status == 200
    assert r.json["version"] == 2
    stale = admin.patch(path, {"position": new_position(item, 2)}, headers={"If-Match": '"1"'})
    doc = assert_problem(stale, 412)
    assert doc["type"] == "/problems/precondition-failed"
    assert get_item(admin, table, item["id"])["position"] == new_position(item, 1)
    r = admin.patch(path, {"position": new_position(item, 3)}, headers={"If-Match": '"2"'})
    assert r.status == 200
    assert r.headers["etag"] == '"3"'


def test_patch_if_match_is_strong_and_star_matches(admin):
    item = create(admin, "source")
    path = f"/lookups/source/{item['id']}"
    assert_problem(admin.patch(path, {"position": 1}, headers={"If-Match": 'W/"1"'}), 412)
    assert_problem(admin.patch(path, {"position": 1}, headers={"If-Match": '"nope"'}), 412)
    assert_problem(admin.patch(path, {"position": 1}, headers={"If-Match": '"2147483648"'}), 412)
    assert_problem(admin.delete(path, headers={"If-Match": '"9223372036854775807"'}), 412)
    r = admin.patch(path, {"position": new_position(item)}, headers={"If-Match": "*"})
    assert r.status == 200 and r.json["version"] == 2


def test_if_match_list_matches_any_tag(admin):
    item = create(admin, "source")
    path = f"/lookups/source/{item['id']}"
    r = admin.get(path, headers={"If-None-Match": '"7", "1"'})
    assert r.status == 304
    r = admin.patch(path, {"position": new_position(item)}, headers={"If-Match": '"7", "1"'})
    assert r.status == 200 and r.json["version"] == 2


def test_patch_of_missing_item_is_404(admin):
    item = create(admin, "source")
    assert admin.delete(f"/lookups/source/{item['id']}").status == 204
    assert_problem(admin.patch(f"/lookups/source/{item['id']}", {"position": 1}), 404)


# ---------------------------------------------------------------------------
# Labels: unique per table ignoring case
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("table", TABLES)
def test_label_unique_ignoring_case(admin, table):
    base = unique("Hot")
    first = create(admin, table, label=base)
    for clash in (base, base.lower(), base.upper()):
        r = admin.post(f"/lookups/{table}", {"label": clash})
        doc = assert_problem(r, 409, "label")
        assert doc["type"] == "/problems/conflict"
    # The same label in another table is fine.
    other = create(admin, other_table(table), label=base.lower())
    assert other["label"] == base.lower()
    # Renaming another item onto the label clashes too; renaming the item itself by case is fine.
    second = create(admin, table)
    assert_problem(admin.patch(f"/lookups/{table}/{second['id']}", {"label": base.upper()}), 409, "label")
    assert get_item(admin, table, second["id"]) == second
    r = admin.patch(f"/lookups/{table}/{first['id']}", {"label": base.upper()})
    assert r.status == 200
    assert r.json["label"] == base.upper()


def test_label_unique_ignoring_case_beyond_ascii(admin):
    suffix = uuid.uuid4().hex[:8]
    create(admin, "source", label=f"Ärger-É-{suffix}")
    assert_problem(admin.post("/lookups/source", {"label": f"ärger-é-{suffix}"}), 409, "label")


def test_inactive_item_still_holds_its_label(admin):
    item = create(admin, "source", active=False)
    assert_problem(admin.post("/lookups/source", {"label": item["label"].upper()}), 409, "label")


def test_deleted_item_frees_its_label(admin):
    item = create(admin, "source")
    assert admin.delete(f"/lookups/source/{item['id']}").status == 204
    again = create(admin, "source", label=item["label"])
    assert again["id"] != item["id"]


# ---------------------------------------------------------------------------
# At most one default per table
# ---------------------------------------------------------------------------

def defaults(admin, table):
    return [i for i in everything(admin, table) if i["is_default"]]


@pytest.mark.parametrize("table", NO_SEED_DEFAULT)
def test_default_moves_on_patch(admin, table):
    a = create(admin, table)
    b = create(admin, table)
    try:
        r = admin.patch(f"/lookups/{table}/{a['id']}", {"is_default": True})
        assert r.status == 200
        assert r.json["is_default"] is True
        assert defaults(admin, table) == [r.json]
        r = admin.patch(f"/lookups/{table}/{b['id']}", {"is_default": True})
        assert r.status == 200
        assert r.json["is_default"] is True
        old = get_item(admin, table, a["id"])
        assert old["is_default"] is False
        assert old["version"] == 3  # the old default changed
        assert defaults(admin, table) == [r.json]
        # Setting it again changes nothing.
        again = admin.patch(f"/lookups/{table}/{b['id']}", {"is_default": True})
        assert again.json == r.json
        # Clearing it leaves the table without a default.
        r = admin.patch(f"/lookups/{table}/{b['id']}", {"is_default": False})
        assert r.json["is_default"] is False
        assert defaults(admin, table) == []
    finally:
        delete_quietly(admin, table, a["id"])
        delete_quietly(admin, table, b["id"])


@pytest.mark.parametrize("table", NO_SEED_DEFAULT)
def test_default_moves_on_create(admin, table):
    a = create(admin, table)
    b = None
    try:
        assert admin.patch(f"/lookups/{table}/{a['id']}", {"is_default": True}).status == 200
        b = create(admin, table, is_default=True)
        assert b["is_default"] is True
        assert get_item(admin, table, a["id"])["is_default"] is False
        assert defaults(admin, table) == [b]
    finally:
        delete_quietly(admin, table, a["id"])
        if b:
            delete_quietly(admin, table, b["id"])


def test_default_moves_in_seeded_table_and_back(admin):
    table = "opportunity-status"
    seeded = defaults(admin, table)
    assert [d["label"] for d in seeded] == ["New"]
    item = create(admin, table, probability=5)
    try:
        r = admin.patch(f"/lookups/{table}/{item['id']}", {"is_default": True})
        assert r.status == 200
        assert defaults(admin, table) == [r.json]
        assert get_item(admin, table, seeded[0]["id"])["is_default"] is False
    finally:
        r = admin.patch(f"/lookups/{table}/{seeded[0]['id']}", {"is_default": True})
        assert r.status == 200
        delete_quietly(admin, table, item["id"])
    assert [d["label"] for d in defaults(admin, table)] == ["New"]


@pytest.mark.parametrize("table", NO_SEED_DEFAULT)
def test_inactive_item_cannot_be_default(admin, table):
    a = create(admin, table)
    off = create(admin, table, active=False)
    try:
        assert admin.patch(f"/lookups/{table}/{a['id']}", {"is_default": True}).status == 200
        doc = assert_problem(admin.patch(f"/lookups/{table}/{off['id']}", {"is_default": True}), 422, "is_default")
        assert doc["type"] == "/problems/validation"
        assert get_item(admin, table, off["id"]) == off
        assert get_item(admin, table, a["id"])["is_default"] is True  # the default did not move
        # Nor on create, nor both at once on an active item.
        assert_problem(admin.post(f"/lookups/{table}", {"label": label(), "active": False, "is_default": True}),
                       422, "is_default")
        assert_problem(admin.patch(f"/lookups/{table}/{a['id']}", {"active": False, "is_default": True}),
                       422, "is_default")
        assert get_item(admin, table, a["id"])["is_default"] is True
        # Activating and defaulting in one patch is fine.
        r = admin.patch(f"/lookups/{table}/{off['id']}", {"active": True, "is_default": True})
        assert r.status == 200
        assert r.json["active"] is True and r.json["is_default"] is True
        assert get_item(admin, table, a["id"])["is_default"] is False
    finally:
        delete_quietly(admin, table, a["id"])
        delete_quietly(admin, table, off["id"])


@pytest.mark.parametrize("table", NO_SEED_DEFAULT)
def test_deactivating_the_default_clears_it(admin, table):
    a = create(admin, table)
    try:
        assert admin.patch(f"/lookups/{table}/{a['id']}", {"is_default": True}).status == 200
        r = admin.patch(f"/lookups/{table}/{a['id']}", {"active": False})
        assert r.status == 200
        assert r.json["active"] is False
        assert r.json["is_default"] is False
        assert r.json["version"] == 3
        assert defaults(admin, table) == []
    finally:
        delete_quietly(admin, table, a["id"])


def test_deleting_the_default_leaves_no_default(admin):
    a = create(admin, "product")
    assert admin.patch(f"/lookups/product/{a['id']}", {"is_default": True}).status == 200
    assert admin.delete(f"/lookups/product/{a['id']}").status == 204
    assert defaults(admin, "product") == []


# ---------------------------------------------------------------------------
# Inactive items on references (accounts.source_id)
# ---------------------------------------------------------------------------

def test_inactive_source_cannot_be_chosen_but_stays(admin, member):
    _, member_client = member
    source = create(admin, "source")
    kept = make_account(admin, source_id=source["id"])
    r = admin.patch(f"/lookups/source/{source['id']}", {"active": False})
    assert r.status == 200 and r.json["active"] is False

    for client in (admin, member_client):
        doc = assert_problem(client.post("/accounts", {"name": unique("Account"), "source_id": source["id"]}),
                             422, "source_id")
        assert doc["type"] == "/problems/validation"
    other = make_account(admin)
    assert_problem(admin.patch(f"/accounts/{other['id']}", {"source_id": source["id"]}), 422, "source_id")
    assert admin.get(f"/accounts/{other['id']}").json["source_id"] is None

    # The account that already had it keeps it, through unrelated edits too.
    assert admin.get(f"/accounts/{kept['id']}").json["source_id"] == source["id"]
    r = admin.patch(f"/accounts/{kept['id']}", {"name": unique("Renamed")})
    assert r.status == 200
    assert r.json["source_id"] == source["id"]
    r = admin.patch(f"/accounts/{kept['id']}", {"source_id": source["id"]})
    assert r.status == 200
    assert r.json["source_id"] == source["id"]

    # Active again: choosable again.
    assert admin.patch(f"/lookups/source/{source['id']}", {"active": True}).status == 200
    assert make_account(admin, source_id=source["id"])["source_id"] == source["id"]


def test_account_source_must_be_a_source_item(admin):
    status = create(admin, "opportunity-status")
    assert_problem(admin.post("/accounts", {"name": unique("Account"), "source_id": status["id"]}), 422, "source_id")


# ---------------------------------------------------------------------------
# Delete
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("table", TABLES)
def test_delete_unreferenced_item(admin, table):
    item = create(admin, table)
    r = admin.delete(f"/lookups/{table}/{item['id']}")
    assert r.status == 204
    assert r.body == b""
    assert_problem(admin.get(f"/lookups/{table}/{item['id']}"), 404)
    assert_problem(admin.delete(f"/lookups/{table}/{item['id']}"), 404)
    assert item["id"] not in [i["id"] for i in everything(admin, table)]


@pytest.mark.parametrize("count", [1, 3])
def test_delete_referenced_source_is_409_with_count(admin, count):
    source = create(admin, "source")
    for _ in range(count):
        make_account(admin, source_id=source["id"])
    r = admin.delete(f"/lookups/source/{source['id']}")
    doc = assert_problem(r, 409)
    assert doc["type"] == "/problems/conflict"
    assert doc["reference_count"] == count
    assert str(count) in doc["detail"]
    assert get_item(admin, "source", source["id"]) == source
    # Deactivating instead works.
    assert admin.patch(f"/lookups/source/{source['id']}", {"active": False}).status == 200


def test_delete_after_references_are_moved(admin):
    source = create(admin, "source")
    account = make_account(admin, source_id=source["id"])
    assert_problem(admin.delete(f"/lookups/source/{source['id']}"), 409)
    assert admin.patch(f"/accounts/{account['id']}", {"source_id": None}).status == 200
    assert admin.delete(f"/lookups/source/{source['id']}").status == 204
    assert_problem(admin.get(f"/lookups/source/{source['id']}"), 404)


def test_delete_if_match(admin):
    item = create(admin, "opportunity-loss-reason")
    path = f"/lookups/opportunity-loss-reason/{item['id']}"
    assert admin.patch(path, {"position": new_position(item)}).status == 200
    assert_problem(admin.delete(path, headers={"If-Match": '"1"'}), 412)
    assert get_item(admin, "opportunity-loss-reason", item["id"])["version"] == 2
    assert admin.delete(path, headers={"If-Match": '"2"'}).status == 204


def test_delete_takes_no_body(admin):
    item = create(admin, "source")
    assert_problem(admin.delete(f"/lookups/source/{item['id']}", body={"x": 1}), 400)
    assert get_item(admin, "source", item["id"]) == item


# ---------------------------------------------------------------------------
# Admin-only writes
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("table", TABLES)
def test_member_cannot_write(admin, member_client, table):
    item = create(admin, table)
    body = {"label": label("Member")}
    doc = assert_problem(member_client.post(f"/lookups/{table}", body), 403)
    assert doc["type"] == "/problems/forbidden"
    assert_problem(member_client.patch(f"/lookups/{table}/{item['id']}", {"position": 3}), 403)
    assert_problem(member_client.delete(f"/lookups/{table}/{item['id']}"), 403)
    # Nothing changed; the member can read it.
    r = member_client.get(f"/lookups/{table}/{item['id']}")
    assert r.status == 200 and r.json == item
    assert body["label"] not in by_label(everything(admin, table))


def test_member_cannot_delete_missing_item_either(admin, member_client):
    # 403, not 404: the role is checked before the item is looked up.
    assert_problem(member_client.delete("/lookups/source/999999999"), 403)
    assert_problem(member_client.patch("/lookups/source/999999999", {"position": 1}), 403)


def test_member_invalid_write_is_still_403(admin, member_client):
    # The role is checked whatever else is wrong with the request.
    item = create(admin, "source")
    assert_problem(member_client.post("/lookups/source", {"label": ""}), 403)
    assert_problem(member_client.patch(f"/lookups/source/{item['id']}", {"label": ""}), 403)


def test_unknown_token_invalid_write_is_401(anon):
    stranger = Client("crm_" + "A" * 43)
    assert_problem(stranger.post("/lookups/source", {"label": ""}), 401)


def test_deactivated_admin_cannot_write(admin):
    user, client = make_user(admin, "admin")
    assert create(client, "source")["label"]
    assert admin.patch(f"/users/{user['id']}", {"active": False}).status == 200
    assert_problem(client.post("/lookups/source", {"label": label()}), 401)


# ---------------------------------------------------------------------------
# 404s and 405s
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/lookups/nope"), ("POST", "/lookups/nope"), ("GET", "/lookups/nope/1"), ("PATCH", "/lookups/nope/1"),
    ("DELETE", "/lookups/nope/1"), ("GET", "/lookups/Source"), ("GET", "/lookups/sources"),
    ("GET", "/lookups/opportunity_status"), ("GET", "/lookups/%73ource-x"), ("GET", "/lookups/%00"),
    ("GET", "/lookups/%FF"), ("GET", "/lookups/" + "s" * 5000), ("GET", "/lookups/source/1/extra"),
])
def test_unknown_table_is_404(admin, method, path):
    body = {"label": label()} if method in ("POST", "PATCH") else None
    doc = assert_problem(admin.request(method, path, body=body), 404)
    assert doc["type"] == "/problems/not-found"


@pytest.mark.parametrize("item_id", ["abc", "0", "-1", "1.5", "01", "99999999999999999999", "%20"])
def test_non_numeric_item_id_is_404(admin, item_id):
    assert_problem(admin.get(f"/lookups/source/{item_id}"), 404)
    assert_problem(admin.patch(f"/lookups/source/{item_id}", {"position": 1}), 404)
    assert_problem(admin.delete(f"/lookups/source/{item_id}"), 404)


def test_unknown_item_id_is_404(admin):
    assert_problem(admin.get("/lookups/source/9223372036854775807"), 404)
    assert_problem(admin.patch("/lookups/source/9223372036854775807", {"position": 1}), 404)
    assert_problem(admin.delete("/lookups/source/9223372036854775807"), 404)


@pytest.mark.parametrize("table", TABLES)
def test_item_of_another_table_is_404(admin, table):
    item = create(admin, other_table(table))
    path = f"/lookups/{table}/{item['id']}"
    assert_problem(admin.get(path), 404)
    assert_problem(admin.patch(path, {"position": 1}), 404)
    assert_problem(admin.delete(path), 404)
    assert get_item(admin, other_table(table), item["id"]) == item


def test_seeded_status_is_not_a_source(admin):
    new = by_label(everything(admin, "opportunity-status"))["New"]
    assert_problem(admin.get(f"/lookups/source/{new['id']}"), 404)


@pytest.mark.parametrize("method,path,allow", [
    ("PUT", "/lookups/source/1", "GET, PATCH, DELETE"), ("PUT", "/lookups/source", "GET, POST"),
    ("DELETE", "/lookups/source", "GET, POST"), ("POST", "/lookups", "GET"),
])
def test_wrong_method_is_405(admin, method, path, allow):
    r = admin.request(method, path, body={"label": "x"} if method in ("PUT", "POST") else None)
    assert_problem(r, 405)
    assert r.headers["allow"] == allow


def test_trailing_slash_is_not_found(admin):
    doc = assert_problem(admin.get("/lookups/source/"), 404)
    assert "/lookups/source." in doc["detail"]


# ---------------------------------------------------------------------------
# Concurrency
# ---------------------------------------------------------------------------

def run_together(calls):
    """Runs the callables at once (each on its own connection); returns their results in order."""
    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(k):
        barrier.wait()
        results[k] = calls[k]()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_default_changes_all_succeed(admin):
    # Every "make this the default" is valid; racing ones must not collide (409).
    for _ in range(8):
        items = [create(admin, "product") for _ in range(4)]
        try:
            patches = run_together([
                (lambda i=i: admin.patch(f"/lookups/product/{i['id']}", {"is_default": True})) for i in items])
            assert [r.status for r in patches] == [200] * 4, patches
            creates = run_together([
                (lambda: admin.post("/lookups/product", {"label": label(), "is_default": True})) for _ in range(4)])
            assert [r.status for r in creates] == [201] * 4, creates
            items += [r.json for r in creates]
            assert len(defaults(admin, "product")) == 1
        finally:
            for i in items:
                delete_quietly(admin, "product", i["id"])
        assert defaults(admin, "product") == []


def test_concurrent_same_label_creates_one(admin):
    name = unique("Race")
    results = run_together([(lambda n=n: admin.post("/lookups/source", {"label": n}))
                            for n in (name, name.upper(), name.lower(), name)])
    assert sorted(r.status for r in results) == [201, 409, 409, 409], results
    for r in results:
        if r.status == 409:
            assert_problem(r, 409, "label")
