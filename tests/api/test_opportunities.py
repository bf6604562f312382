"""Opportunities over real HTTP (SPEC §2.3, §5, §7): server defaults,
validation, derived figures, status/probability rules, created_at import,
merge patch, concurrency headers, soft delete, upsert by external id, and
every list filter and sort with keyset paging."""
import datetime
import threading
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote, urlencode

import pytest

from conftest import Client, assert_problem, make_account, make_user, unique

# ---------------------------------------------------------------------------
# Helpers private to this file
# ---------------------------------------------------------------------------

OPPORTUNITY_KEYS = {
    "id", "account_id", "name", "owner_id", "status_id", "close_date", "next_step", "forecast_id", "probability",
    "competitor", "source_id", "loss_reason_id", "description", "win_loss_report", "external_id", "value",
    "weighted_value", "outcome", "created_at", "created_by", "updated_at", "version", "deleted_at",
}
NULLABLE_TEXT = ["next_step", "competitor", "description", "win_loss_report", "external_id"]


def today_utc():
    return datetime.datetime.now(datetime.timezone.utc).date()


def lookup_all(client, table):
    items, path = [], f"/lookups/{table}?limit=500"
    while True:
        r = client.get(path)
        assert r.status == 200, r
        items += r.json["data"]
        if not r.json["next_cursor"]:
            return items
        path = f"/lookups/{table}?limit=500&cursor={r.json['next_cursor']}"


def lookup_by_label(client, table, label):
    matches = [i for i in lookup_all(client, table) if i["label"] == label]
    assert len(matches) == 1, (table, label)
    return matches[0]


def lookup_default(client, table):
    matches = [i for i in lookup_all(client, table) if i["is_default"]]
    assert len(matches) == 1, table
    return matches[0]


def make_lookup(admin, table, **fields):
    body = {"label": unique("L")}
    body.update(fields)
    r = admin.post(f"/lookups/{table}", body)
    assert r.status == 201, r
    return r.json


def make_opp(client, account, **fields):
    body = {"account_id": account["id"]}
    body.update(fields)
    r = client.post("/opportunities", body)
    assert r.status == 201, r
    return r.json


def get_opp(client, opp_id):
    r = client.get(f"/opportunities/{opp_id}")
    assert r.status == 200, r
    return r.json


def list_pages(client, path, params):
    """Follows next_cursor to the end; returns (rows, pages)."""
    rows, pages = [], 0
    query = dict(params)
    while True:
        r = client.get(f"{path}?{urlencode(query)}")
        assert r.status == 200, r
        assert r.content_type.startswith("application/json")
        doc = r.json
        assert set(doc) == {"data", "next_cursor"}
        pages += 1
        assert pages < 1000
        rows += doc["data"]
        if doc["next_cursor"] is None:
            return rows, pages
        assert isinstance(doc["next_cursor"], str) and doc["next_cursor"]
        query["cursor"] = doc["next_cursor"]


def ids_of(client, params, path="/opportunities"):
    rows, _ = list_pages(client, path, dict(params, limit=500))
    return [o["id"] for o in rows]


def money(text):
    return Decimal(text)


def cents(d):
    return d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # half away from zero for d >= 0


def error_fields(doc):
    return sorted(e["field"] for e in doc["errors"])


def etag(version):
    return f'"{version}"'


# ---------------------------------------------------------------------------
# Shared reference data (created once per run; never changes shared defaults)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def statuses(admin):
    return {i["label"]: i for i in lookup_all(admin, "opportunity-status")}


@pytest.fixture(scope="session")
def forecasts(admin):
    return {i["label"]: i for i in lookup_all(admin, "opportunity-forecast")}


@pytest.fixture(scope="session")
def sources(admin):
    return [i for i in lookup_all(admin, "source") if i["active"]]


@pytest.fixture(scope="session")
def loss_reasons(admin):
    return [i for i in lookup_all(admin, "opportunity-loss-reason") if i["active"]]


@pytest.fixture(scope="session")
def null_status(admin):
    """An active status with no probability; deactivated at the end of the run."""
    item = make_lookup(admin, "opportunity-status", probability=None, position=900)
    assert item["probability"] is None
    yield item
    admin.patch(f"/lookups/opportunity-status/{item['id']}", {"active": False})


@pytest.fixture(scope="session")
def product(admin):
    return make_lookup(admin, "product", unit_price="10.00")


@pytest.fixture(scope="session")
def refs(admin):
    """Things that must be refused as references: inactive items, an inactive user, a deleted account."""
    out = {
        "inactive_status": make_lookup(admin, "opportunity-status", active=False, probability=40)["id"],
        "inactive_forecast": make_lookup(admin, "opportunity-forecast", active=False, include_in_forecast=True)["id"],
        "inactive_source": make_lookup(admin, "source", active=False)["id"],
        "inactive_loss_reason": make_lookup(admin, "opportunity-loss-reason", active=False)["id"],
    }
    user, _ = make_user(admin, "member")
    r = admin.patch(f"/users/{user['id']}", {"active": False})
    assert r.status == 200, r
    out["inactive_user"] = user["id"]
    acc = make_account(admin)
    r = admin.delete(f"/accounts/{acc['id']}")
    assert r.status == 204, r
    out["deleted_account"] = acc["id"]
    out["forecast_item"] = lookup_all(admin, "opportunity-forecast")[0]["id"]
    out["status_item"] = lookup_all(admin, "opportunity-status")[0]["id"]
    out["source_item"] = lookup_all(admin, "source")[0]["id"]
    return out


NO_SUCH_ID = 999999999


# ---------------------------------------------------------------------------
# Create: server defaults
# ---------------------------------------------------------------------------


def test_create_fills_every_default(admin, member, statuses, forecasts, sources):
    user, client = member
    account = make_account(client, source_id=sources[0]["id"])
    before = today_utc()
    r = client.post("/opportunities", {"account_id": account["id"]})
    after = today_utc()
    assert r.status == 201, r
    assert r.content_type == "application/json; charset=utf-8"
    o = r.json
    assert r.headers["location"] == f"/opportunities/{o['id']}"
    assert r.headers["etag"] == '"1"'
    assert set(o) == OPPORTUNITY_KEYS | {"lines"}
    assert o["account_id"] == account["id"]
    assert o["name"] == account["name"]
    assert o["owner_id"] == user["id"]
    default_status = lookup_default(admin, "opportunity-status")
    assert default_status["label"] == "New" and default_status["probability"] == 10
    assert o["status_id"] == default_status["id"] == statuses["New"]["id"]
    assert o["probability"] == 10
    settings = client.get("/settings").json
    assert settings["default_close_days"] == 42
    assert o["close_date"] in {
        (before + datetime.timedelta(days=42)).isoformat(), (after + datetime.timedelta(days=42)).isoformat()}
    default_forecast = lookup_default(admin, "opportunity-forecast")
    assert default_forecast["label"] == "Pipeline"
    assert o["forecast_id"] == default_forecast["id"] == forecasts["Pipeline"]["id"]
    assert o["source_id"] == sources[0]["id"]
    assert o["value"] == "0.00"
    assert o["weighted_value"] == "0.00"
    assert o["outcome"] == "open"
    assert o["created_by"] == {"id": user["id"], "name": user["name"]}
    assert o["version"] == 1
    assert o["created_at"] == o["updated_at"]
    assert o["created_at"].endswith("Z") and len(o["created_at"]) == len("2026-11-27T08:00:00.123456Z")
    for f in ("next_step", "competitor", "loss_reason_id", "description", "win_loss_report", "external_id",
              "deleted_at"):
        assert o[f] is None, f
    assert o["lines"] == []
    g = client.get(f"/opportunities/{o['id']}")
    assert g.status == 200
    assert g.headers["etag"] == '"1"'
    assert g.json == o


def test_create_by_admin_defaults_owner_to_admin(admin):
    me = admin.get("/users/me").json
    o = make_opp(admin, make_account(admin))
    assert o["owner_id"] == me["id"]
    assert o["created_by"] == {"id": me["id"], "name": me["name"]}


def test_create_source_defaults_to_null_when_account_has_none(member_client):
    account = make_account(member_client, source_id=None)
    assert make_opp(member_client, account)["source_id"] is None


def test_create_explicit_source_overrides_account_source(member_client, sources):
    account = make_account(member_client, source_id=sources[0]["id"])
    assert make_opp(member_client, account, source_id=sources[1]["id"])["source_id"] == sources[1]["id"]
    assert make_opp(member_client, account, source_id=None)["source_id"] is None


def test_create_name_given_is_kept(member_client):
    account = make_account(member_client)
    assert make_opp(member_client, account, name="Renewal 2027")["name"] == "Renewal 2027"


def test_create_probability_follows_given_status(member_client, statuses):
    account = make_account(member_client)
    for label, prob, outcome in [("Qualified", 25, "open"), ("Proposal", 50, "open"), ("Negotiation", 75, "open"),
                                 ("Won", 100, "won"), ("Lost", 0, "lost")]:
        o = make_opp(member_client, account, status_id=statuses[label]["id"])
        assert (o["status_id"], o["probability"], o["outcome"]) == (statuses[label]["id"], prob, outcome), label


def test_create_status_without_probability_defaults_probability_to_10(member_client, null_status):
    o = make_opp(member_client, make_account(member_client), status_id=null_status["id"])
    assert o["status_id"] == null_status["id"]
    assert o["probability"] == 10
    assert o["outcome"] == "open"


def test_create_given_probability_wins_over_status(member_client, statuses, null_status):
    account = make_account(member_client)
    o = make_opp(member_client, account, status_id=statuses["Proposal"]["id"], probability=33)
    assert o["probability"] == 33
    o = make_opp(member_client, account, status_id=null_status["id"], probability=0)
    assert (o["probability"], o["outcome"]) == (0, "lost")
    o = make_opp(member_client, account, probability=100)
    assert (o["status_id"], o["probability"], o["outcome"]) == (statuses["New"]["id"], 100, "won")


def test_close_date_default_follows_settings(admin, member_client):
    account = make_account(member_client)
    original = admin.get("/settings").json["default_close_days"]
    try:
        r = admin.patch("/settings", {"default_close_days": 10})
        assert r.status == 200, r
        assert r.json["default_close_days"] == 10
        before = today_utc()
        o = make_opp(member_client, account)
        after = today_utc()
        assert o["close_date"] in {
            (before + datetime.timedelta(days=10)).isoformat(), (after + datetime.timedelta(days=10)).isoformat()}
        # A given close_date is kept as given.
        assert make_opp(member_client, account, close_date="2030-06-15")["close_date"] == "2030-06-15"
    finally:
        r = admin.patch("/settings", {"default_close_days": original})
        assert r.status == 200, r
    before = today_utc()
    o = make_opp(member_client, account)
    after = today_utc()
    assert o["close_date"] in {(before + datetime.timedelta(days=original)).isoformat(),
                               (after + datetime.timedelta(days=original)).isoformat()}


def test_member_cannot_change_settings(member_client):
    assert_problem(member_client.patch("/settings", {"default_close_days": 10}), 403)


def test_create_with_every_field_given(admin, member, statuses, forecasts, sources, loss_reasons):
    user, client = member
    account = make_account(client, source_id=sources[0]["id"])
    body = {
        "account_id": account["id"], "name": "Big one", "owner_id": user["id"],
        "status_id": statuses["Negotiation"]["id"], "close_date": "2028-02-29", "next_step": "Call CFO",
        "forecast_id": forecasts["Commit"]["id"], "probability": 80, "competitor": "Globex",
        "source_id": sources[1]["id"], "loss_reason_id": loss_reasons[0]["id"], "description": "Multi-year",
        "win_loss_report": "n/a", "external_id": unique("ext"),
    }
    r = client.post("/opportunities", body)
    assert r.status == 201, r
    o = r.json
    for k, v in body.items():
        assert o[k] == v, k
    assert (o["outcome"], o["value"], o["weighted_value"]) == ("open", "0.00", "0.00")


def test_get_embeds_lines_in_position_order(member_client, product):
    account = make_account(member_client)
    o = make_opp(member_client, account, lines=[
        {"product_id": product["id"], "quantity": 2, "position": 3, "description": "third"},
        {"product_id": product["id"], "unit_price": "1.50", "position": 1, "description": "first"},
        {"product_id": product["id"], "quantity": 1.5, "unit_price": 4, "position": 2, "description": "second"},
    ])
    assert o["value"] == "27.50"
    g = get_opp(member_client, o["id"])
    assert [line["description"] for line in g["lines"]] == ["first", "second", "third"]
    assert [line["total"] for line in g["lines"]] == ["1.50", "6.00", "20.00"]
    assert [line["quantity"] for line in g["lines"]] == [1, 1.5, 2]
    assert [line["unit_price"] for line in g["lines"]] == ["1.50", "4.00", "10.00"]
    assert all(line["opportunity_id"] == o["id"] for line in g["lines"])
    assert g["version"] == 1


# ---------------------------------------------------------------------------
# Create: validation
# ---------------------------------------------------------------------------

# (field named in the 422, body change; a callable gets the refs fixture)
BAD_CREATE = [
    ("account_id", {"account_id": None}),
    ("account_id", {"account_id": "1"}),
    ("account_id", {"account_id": 0}),
    ("account_id", {"account_id": NO_SUCH_ID}),
    ("account_id", lambda r: {"account_id": r["deleted_account"]}),
    ("name", {"name": ""}),
    ("name", {"name": "x" * 201}),
    ("name", {"name": None}),
    ("name", {"name": 5}),
    ("owner_id", {"owner_id": NO_SUCH_ID}),
    ("owner_id", {"owner_id": -3}),
    ("owner_id", {"owner_id": None}),
    ("owner_id", lambda r: {"owner_id": r["inactive_user"]}),
    ("status_id", {"status_id": NO_SUCH_ID}),
    ("status_id", {"status_id": None}),
    ("status_id", lambda r: {"status_id": r["forecast_item"]}),
    ("status_id", lambda r: {"status_id": r["inactive_status"]}),
    ("forecast_id", {"forecast_id": NO_SUCH_ID}),
    ("forecast_id", {"forecast_id": "7"}),
    ("forecast_id", lambda r: {"forecast_id": r["status_item"]}),
    ("forecast_id", lambda r: {"forecast_id": r["inactive_forecast"]}),
    ("source_id", {"source_id": NO_SUCH_ID}),
    ("source_id", lambda r: {"source_id": r["status_item"]}),
    ("source_id", lambda r: {"source_id": r["inactive_source"]}),
    ("loss_reason_id", {"loss_reason_id": NO_SUCH_ID}),
    ("loss_reason_id", lambda r: {"loss_reason_id": r["source_item"]}),
    ("loss_reason_id", lambda r: {"loss_reason_id": r["inactive_loss_reason"]}),
    ("close_date", {"close_date": "2026-02-30"}),
    ("close_date", {"close_date": "27-01-01"}),
    ("close_date", {"close_date": "2027-1-01"}),
    ("close_date", {"close_date": "2027-01-01T00:00:00Z"}),
    ("close_date", {"close_date": 20270101}),
    ("close_date", {"close_date": None}),
    ("next_step", {"next_step": "x" * 501}),
    ("next_step", {"next_step": 1}),
    ("probability", {"probability": -1}),
    ("probability", {"probability": 101}),
    ("probability", {"probability": "50"}),
    ("probability", {"probability": 50.5}),
    ("probability", {"probability": True}),
    ("probability", {"probability": None}),
    ("competitor", {"competitor": "x" * 201}),
    ("description", {"description": "x" * 10001}),
    ("win_loss_report", {"win_loss_report": "x" * 10001}),
    ("external_id", {"external_id": "x" * 201}),
    ("external_id", {"external_id": ""}),
    ("colour", {"colour": "red"}),
    ("value", {"value": "10.00"}),
    ("weighted_value", {"weighted_value": "1.00"}),
    ("outcome", {"outcome": "won"}),
    ("id", {"id": 5}),
    ("version", {"version": 1}),
    ("created_by", {"created_by": {"id": 1, "name": "x"}}),
    ("updated_at", {"updated_at": "2026-01-01T00:00:00Z"}),
    ("deleted_at", {"deleted_at": None}),
    ("created_at", {"created_at": "yesterday"}),
    ("lines", {"lines": {}}),
    ("lines[0].product_id", {"lines": [{"quantity": 1}]}),
]


@pytest.mark.parametrize("field,change", BAD_CREATE,
                         ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_CREATE)])
def test_create_refuses_bad_field(member_client, refs, field, change):
    account = make_account(member_client)
    body = {"account_id": account["id"]}
    body.update(change(refs) if callable(change) else change)
    doc = assert_problem(member_client.post("/opportunities", body), 422, field)
    assert doc["type"] == "/problems/validation"
    assert error_fields(doc) == [field], doc
    assert all(e["message"] for e in doc["errors"])
    assert ids_of(member_client, {"account_id": account["id"], "include_deleted": "true"}) == []


def test_create_requires_account_id(member_client):
    doc = assert_problem(member_client.post("/opportunities", {"name": "No account"}), 422, "account_id")
    assert error_fields(doc) == ["account_id"]


GOOD_CREATE = [
    {"name": "x"},
    {"name": "é" * 200},
    {"next_step": "s" * 500},
    {"next_step": ""},
    {"competitor": "c" * 200},
    {"description": "d" * 10000},
    {"win_loss_report": "w" * 10000},
    {"probability": 0},
    {"probability": 100},
    {"close_date": "2028-02-29"},
    {"close_date": "2000-01-01"},
    {"next_step": None, "competitor": None, "description": None, "win_loss_report": None, "external_id": None,
     "loss_reason_id": None, "source_id": None},
]


@pytest.mark.parametrize("change", GOOD_CREATE, ids=[",".join(c) for c in GOOD_CREATE])
def test_create_accepts_good_value(member_client, change):
    o = make_opp(member_client, make_account(member_client), **change)
    for k, v in change.items():
        assert o[k] == v, k


def test_create_accepts_external_id_of_200_chars(member_client):
    ext = unique("e") + "x" * (200 - len(unique("e")))
    assert len(ext) == 200
    assert make_opp(member_client, make_account(member_client), external_id=ext)["external_id"] == ext


def test_create_accepts_owner_other_active_user(admin, member_client):
    other, _ = make_user(admin, "member")
    assert make_opp(member_client, make_account(member_client), owner_id=other["id"])["owner_id"] == other["id"]


def test_create_lists_all_syntax_errors_at_once(member_client):
    account = make_account(member_client)
    body = {"account_id": account["id"], "name": "", "close_date": "2026-02-30", "next_step": "x" * 501,
            "probability": 50.5, "competitor": "x" * 201, "description": "x" * 10001, "win_loss_report": "x" * 10001,
            "external_id": "x" * 201, "colour": "red", "value": "1.00", "weighted_value": "1.00", "outcome": "won",
            "id": 1, "version": 2, "created_by": None, "owner_id": "me", "status_id": 0, "forecast_id": -1,
            "source_id": 1.5, "loss_reason_id": "x"}
    doc = assert_problem(member_client.post("/opportunities", body), 422)
    assert error_fields(doc) == sorted(set(body) - {"account_id"})


def test_create_lists_all_reference_errors_at_once(member_client, refs):
    body = {"account_id": refs["deleted_account"], "owner_id": refs["inactive_user"],
            "status_id": refs["inactive_status"], "forecast_id": NO_SUCH_ID, "source_id": refs["status_item"],
            "loss_reason_id": refs["inactive_loss_reason"]}
    doc = assert_problem(member_client.post("/opportunities", body), 422)
    assert error_fields(doc) == sorted(body)


def test_create_lists_syntax_and_reference_errors_together(member_client, refs):
    body = {"account_id": NO_SUCH_ID, "name": "", "status_id": refs["inactive_status"], "probability": 101,
            "owner_id": refs["inactive_user"], "colour": "red"}
    doc = assert_problem(member_client.post("/opportunities", body), 422)
    assert error_fields(doc) == sorted(body)


def test_create_lists_field_and_line_reference_errors_together(member_client, refs):
    account = make_account(member_client)
    body = {"account_id": account["id"], "status_id": NO_SUCH_ID, "loss_reason_id": refs["inactive_loss_reason"],
            "lines": [{"product_id": NO_SUCH_ID}, {"product_id": refs["status_item"]}]}
    doc = assert_problem(member_client.post("/opportunities", body), 422)
    assert error_fields(doc) == ["lines[0].product_id", "lines[1].product_id", "loss_reason_id", "status_id"]
    assert ids_of(member_client, {"account_id": account["id"]}) == []


def test_create_line_without_any_price_is_422(admin, member_client):
    no_price = make_lookup(admin, "product", unit_price=None)
    account = make_account(member_client)
    doc = assert_problem(member_client.post("/opportunities", {"account_id": account["id"],
                                                                "lines": [{"product_id": no_price["id"]}]}), 422)
    assert error_fields(doc) == ["lines[0].unit_price"]
    o = make_opp(member_client, account, probability=50,
                 lines=[{"product_id": no_price["id"], "unit_price": 7.25, "quantity": 2}])
    assert (o["value"], o["weighted_value"]) == ("14.50", "7.25")


def test_create_with_largest_lines_is_not_500(member_client, product):
    account = make_account(member_client)
    lines = [{"product_id": product["id"], "quantity": 1000000, "unit_price": "1000000000.00"}] * 1000
    r = member_client.post("/opportunities", {"account_id": account["id"], "lines": lines})
    assert r.status in (201, 422), r
    if r.status == 201:
        assert r.json["value"] == "1000000000000000000.00"
    else:
        assert_problem(r, 422, "lines")


def test_create_duplicate_external_id_is_409(member_client):
    account = make_account(member_client)
    ext = unique("dup")
    make_opp(member_client, account, external_id=ext)
    doc = assert_problem(member_client.post("/opportunities", {"account_id": account["id"], "external_id": ext}), 409)
    assert doc["type"] == "/problems/conflict"
    assert ids_of(member_client, {"external_id": ext}) != [] and len(ids_of(member_client, {"external_id": ext})) == 1


def test_create_body_must_be_json_object(member_client):
    assert_problem(member_client.post("/opportunities", [1]), 400)
    assert_problem(member_client.post("/opportunities", raw=b"{nope"), 400)
    assert_problem(member_client.post("/opportunities", raw=b"{}", content_type="text/plain"), 415)


def test_opportunities_require_a_token(anon):
    assert_problem(anon.get("/opportunities"), 401)
    assert_problem(anon.post("/opportunities", {"account_id": 1}), 401)


def test_get_unknown_or_malformed_id_is_404(member_client):
    for path in (f"/opportunities/{NO_SUCH_ID}", "/opportunities/0", "/opportunities/abc", "/opportunities/-1"):
        assert_problem(member_client.get(path), 404)


# ---------------------------------------------------------------------------
# Derived figures
# ---------------------------------------------------------------------------


def test_outcome_is_derived_from_probability(member_client):
    o = make_opp(member_client, make_account(member_client), probability=50)
    assert o["outcome"] == "open"
    for prob, outcome in [(0, "lost"), (1, "open"), (99, "open"), (100, "won"), (10, "open")]:
        r = member_client.patch(f"/opportunities/{o['id']}", {"probability": prob})
        assert r.status == 200, r
        assert (r.json["probability"], r.json["outcome"]) == (prob, outcome)


@pytest.mark.parametrize("lines,value", [
    ([("1", "10.05")], "10.05"),
    ([("1", "0.01")], "0.01"),
    ([("3", "3.33"), ("0.125", "0.99"), ("1.5", "0.05")], "10.19"),  # 9.99 + 0.12 (0.12375) + 0.08 (0.075)
    ([("1000000", "999999999.99")], "999999999990000.00"),
    ([("0.001", "0.01")], "0.00"),
])
def test_value_and_weighted_value_are_exact(member_client, product, lines, value):
    body = [{"product_id": product["id"], "quantity": float(q) if "." in q else int(q), "unit_price": p}
            for q, p in lines]
    o = make_opp(member_client, make_account(member_client), lines=body, probability=50)
    expected_value = sum((cents(Decimal(q) * Decimal(p)) for q, p in lines), Decimal("0"))
    assert money(value) == expected_value
    assert o["value"] == value
    for prob in (50, 33, 1, 99, 100, 0, 67):
        r = member_client.patch(f"/opportunities/{o['id']}", {"probability": prob})
        assert r.status == 200, r
        assert r.json["value"] == value
        assert r.json["weighted_value"] == f"{cents(expected_value * prob / 100):.2f}", prob


def test_weighted_value_rounds_half_away_from_zero(member_client, product):
    # 10.05 x 50% = 5.025 -> 5.03; 0.01 x 50% = 0.005 -> 0.01; 0.03 x 50% = 0.015 -> 0.02; 12.34 x 33% = 4.0722 -> 4.07
    account = make_account(member_client)
    for price, prob, weighted in [("10.05", 50, "5.03"), ("0.01", 50, "0.01"), ("0.03", 50, "0.02"),
                                  ("12.34", 33, "4.07"), ("0.07", 50, "0.04"), ("2.50", 1, "0.03")]:
        o = make_opp(member_client, account, probability=prob,
                     lines=[{"product_id": product["id"], "unit_price": price}])
        assert (o["value"], o["weighted_value"]) == (price, weighted), price
        assert get_opp(member_client, o["id"])["weighted_value"] == weighted


def test_status_change_recomputes_weighted_value(member_client, product, statuses):
    o = make_opp(member_client, make_account(member_client),
                 lines=[{"product_id": product["id"], "unit_price": "100.01"}])
    assert (o["probability"], o["weighted_value"]) == (10, "10.00")
    r = member_client.patch(f"/opportunities/{o['id']}", {"status_id": statuses["Negotiation"]["id"]})
    assert (r.json["probability"], r.json["weighted_value"]) == (75, "75.01")  # 75.0075 -> 75.01
    r = member_client.patch(f"/opportunities/{o['id']}", {"status_id": statuses["Won"]["id"]})
    assert (r.json["probability"], r.json["weighted_value"], r.json["outcome"]) == (100, "100.01", "won")


# ---------------------------------------------------------------------------
# Status and probability on change
# ---------------------------------------------------------------------------


def test_status_change_makes_probability_follow(member_client, statuses):
    o = make_opp(member_client, make_account(member_client))
    path = f"/opportunities/{o['id']}"
    r = member_client.patch(path, {"status_id": statuses["Proposal"]["id"]})
    assert r.status == 200, r
    assert (r.json["status_id"], r.json["probability"], r.json["outcome"]) == (statuses["Proposal"]["id"], 50, "open")
    r = member_client.patch(path, {"status_id": statuses["Won"]["id"]})
    assert (r.json["probability"], r.json["outcome"]) == (100, "won")
    r = member_client.patch(path, {"status_id": statuses["Lost"]["id"]})
    assert (r.json["probability"], r.json["outcome"]) == (0, "lost")
    r = member_client.patch(path, {"status_id": statuses["Qualified"]["id"]})
    assert (r.json["probability"], r.json["outcome"]) == (25, "open")


def test_status_change_with_probability_keeps_given_probability(member_client, statuses):
    o = make_opp(member_client, make_account(member_client))
    r = member_client.patch(f"/opportunities/{o['id']}", {"status_id": statuses["Won"]["id"], "probability": 90})
    assert r.status == 200, r
    assert (r.json["status_id"], r.json["probability"], r.json["outcome"]) == (statuses["Won"]["id"], 90, "open")
    r = member_client.patch(f"/opportunities/{o['id']}", {"probability": 60, "status_id": statuses["Lost"]["id"]})
    assert (r.json["probability"], r.json["outcome"]) == (60, "open")


def test_status_without_probability_leaves_probability(member_client, statuses, null_status):
    o = make_opp(member_client, make_account(member_client), status_id=statuses["Proposal"]["id"])
    r = member_client.patch(f"/opportunities/{o['id']}", {"probability": 44})
    assert r.json["probability"] == 44
    r = member_client.patch(f"/opportunities/{o['id']}", {"status_id": null_status["id"]})
    assert r.status == 200, r
    assert (r.json["status_id"], r.json["probability"]) == (null_status["id"], 44)


def test_same_status_again_keeps_manual_probability(member_client, statuses):
    o = make_opp(member_client, make_account(member_client), status_id=statuses["Proposal"]["id"], probability=33)
    r = member_client.patch(f"/opportunities/{o['id']}", {"status_id": statuses["Proposal"]["id"]})
    assert r.status == 200, r
    assert (r.json["probability"], r.json["version"]) == (33, 1)


def test_probability_change_alone_keeps_status(member_client, statuses):
    o = make_opp(member_client, make_account(member_client), status_id=statuses["Proposal"]["id"])
    r = member_client.patch(f"/opportunities/{o['id']}", {"probability": 100})
    assert (r.json["status_id"], r.json["probability"], r.json["outcome"]) == (statuses["Proposal"]["id"], 100, "won")


# ---------------------------------------------------------------------------
# created_at
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("given,echoed", [
    ("2020-01-02T03:04:05Z", "2020-01-02T03:04:05.000000Z"),
    ("2021-06-30T23:30:00.25+02:00", "2021-06-30T21:30:00.250000Z"),
    ("2019-12-31T22:00:00-05:00", "2020-01-01T03:00:00.000000Z"),
])
def test_admin_may_import_past_created_at(admin, given, echoed):
    me = admin.get("/users/me").json
    o = make_opp(admin, make_account(admin), created_at=given)
    assert o["created_at"] == echoed
    assert o["created_by"]["id"] == me["id"]
    assert o["updated_at"] > o["created_at"]
    assert get_opp(admin, o["id"])["created_at"] == echoed


def test_admin_created_at_before_year_1_is_422(admin):
    account = make_account(admin)
    r = admin.post("/opportunities", {"account_id": account["id"], "created_at": "0001-01-01T00:00:00+01:00"})
    assert_problem(r, 422, "created_at")


def test_admin_future_created_at_is_422(admin):
    account = make_account(admin)
    future = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = assert_problem(admin.post("/opportunities", {"account_id": account["id"], "created_at": future}), 422)
    assert error_fields(doc) == ["created_at"]
    assert ids_of(admin, {"account_id": account["id"]}) == []


def test_member_created_at_is_422(member_client):
    account = make_account(member_client)
    doc = assert_problem(
        member_client.post("/opportunities", {"account_id": account["id"], "created_at": "2020-01-01T00:00:00Z"}), 422)
    assert error_fields(doc) == ["created_at"]
    assert ids_of(member_client, {"account_id": account["id"]}) == []


def test_created_at_in_patch_is_read_only(admin, member_client):
    for client in (admin, member_client):
        o = make_opp(client, make_account(client))
        doc = assert_problem(client.patch(f"/opportunities/{o['id']}", {"created_at": "2020-01-01T00:00:00Z"}), 422)
        assert error_fields(doc) == ["created_at"]
        assert get_opp(client, o["id"])["created_at"] == o["created_at"]


def test_member_created_at_in_upsert_create_is_422(member_client):
    account = make_account(member_client)
    r = member_client.put(f"/opportunities/by-external-id/{unique('ext')}",
                          {"account_id": account["id"], "created_at": "2020-01-01T00:00:00Z"})
    doc = assert_problem(r, 422)
    assert error_fields(doc) == ["created_at"]


def test_member_created_at_in_upsert_replace_is_422(member_client):
    account = make_account(member_client)
    ext = unique("ext")
    r = member_client.put(f"/opportunities/by-external-id/{ext}", {"account_id": account["id"]})
    assert r.status == 201, r
    r = member_client.put(f"/opportunities/by-external-id/{ext}",
                          {"account_id": account["id"], "created_at": "2020-01-01T00:00:00Z"})
    doc = assert_problem(r, 422)
    assert error_fields(doc) == ["created_at"]


# ---------------------------------------------------------------------------
# PATCH
# ---------------------------------------------------------------------------


def test_patch_null_clears_every_nullable_field(member_client, sources, loss_reasons):
    account = make_account(member_client)
    full = {"next_step": "n", "competitor": "c", "source_id": sources[0]["id"], "loss_reason_id": loss_reasons[0]["id"],
            "description": "d", "win_loss_report": "w", "external_id": unique("ext")}
    o = make_opp(member_client, account, **full)
    for k, v in full.items():
        assert o[k] == v
    r = member_client.patch(f"/opportunities/{o['id']}", {k: None for k in full})
    assert r.status == 200, r
    assert r.headers["etag"] == '"2"'
    for k in full:
        assert r.json[k] is None, k
    assert r.json["version"] == 2
    assert get_opp(member_client, o["id"]) == r.json


@pytest.mark.parametrize("field", ["next_step", "competitor", "source_id", "loss_reason_id", "description",
                                   "win_loss_report", "external_id"])
def test_patch_null_clears_one_field(member_client, sources, loss_reasons, field):
    values = {"next_step": "n", "competitor": "c", "source_id": sources[0]["id"],
              "loss_reason_id": loss_reasons[0]["id"], "description": "d", "win_loss_report": "w",
              "external_id": unique("ext")}
    o = make_opp(member_client, make_account(member_client), **values)
    r = member_client.patch(f"/opportunities/{o['id']}", {field: None})
    assert r.status == 200, r
    assert r.json[field] is None
    for k, v in values.items():
        if k != field:
            assert r.json[k] == v, k


def test_patch_null_on_required_fields_is_422(member_client):
    o = make_opp(member_client, make_account(member_client))
    body = {"name": None, "status_id": None, "probability": None, "owner_id": None, "forecast_id": None,
            "close_date": None, "account_id": None}
    doc = assert_problem(member_client.patch(f"/opportunities/{o['id']}", body), 422)
    assert error_fields(doc) == sorted(body)
    g = get_opp(member_client, o["id"])
    assert g["version"] == 1
    for f in ("name", "status_id", "probability"):
        assert_problem(member_client.patch(f"/opportunities/{o['id']}", {f: None}), 422, f)


PATCH_BAD = [
    ("name", {"name": ""}), ("name", {"name": "x" * 201}), ("probability", {"probability": 101}),
    ("probability", {"probability": "50"}), ("close_date", {"close_date": "2026-02-30"}),
    ("next_step", {"next_step": "x" * 501}), ("competitor", {"competitor": "x" * 201}),
    ("description", {"description": "x" * 10001}), ("win_loss_report", {"win_loss_report": "x" * 10001}),
    ("external_id", {"external_id": "x" * 201}), ("status_id", {"status_id": NO_SUCH_ID}),
    ("status_id", lambda r: {"status_id": r["inactive_status"]}),
    ("forecast_id", lambda r: {"forecast_id": r["inactive_forecast"]}),
    ("source_id", lambda r: {"source_id": r["inactive_source"]}),
    ("loss_reason_id", lambda r: {"loss_reason_id": r["inactive_loss_reason"]}),
    ("owner_id", lambda r: {"owner_id": r["inactive_user"]}), ("owner_id", {"owner_id": NO_SUCH_ID}),
    ("account_id", lambda r: {"account_id": r["deleted_account"]}), ("account_id", {"account_id": NO_SUCH_ID}),
    ("value", {"value": "1.00"}), ("weighted_value", {"weighted_value": "1.00"}), ("outcome", {"outcome": "won"}),
    ("id", {"id": 1}), ("version", {"version": 9}), ("created_by", {"created_by": 1}),
    ("updated_at", {"updated_at": "2026-01-01T00:00:00Z"}), ("lines", {"lines": []}), ("colour", {"colour": "x"}),
]


@pytest.mark.parametrize("field,change", PATCH_BAD, ids=[f"{f}-{i}" for i, (f, _) in enumerate(PATCH_BAD)])
def test_patch_refuses_bad_field(member_client, refs, field, change):
    o = make_opp(member_client, make_account(member_client))
    doc = assert_problem(member_client.patch(f"/opportunities/{o['id']}", change(refs) if callable(change) else change),
                         422, field)
    assert error_fields(doc) == [field]
    assert get_opp(member_client, o["id"])["version"] == 1


def test_patch_sets_fields_and_moves_account(member_client, statuses, forecasts, sources, loss_reasons):
    a1, a2 = make_account(member_client), make_account(member_client)
    o = make_opp(member_client, a1)
    change = {"account_id": a2["id"], "name": "Moved", "close_date": "2029-12-31", "next_step": "x",
              "forecast_id": forecasts["Best case"]["id"], "competitor": "Initech", "source_id": sources[-1]["id"],
              "loss_reason_id": loss_reasons[-1]["id"], "description": "desc", "win_loss_report": "wl",
              "external_id": unique("ext")}
    r = member_client.patch(f"/opportunities/{o['id']}", change)
    assert r.status == 200, r
    for k, v in change.items():
        assert r.json[k] == v, k
    assert r.json["version"] == 2
    assert ids_of(member_client, {"account_id": a1["id"]}) == []
    assert ids_of(member_client, {"account_id": a2["id"]}) == [o["id"]]


def test_patch_version_moves_once_per_effective_change(member_client):
    o = make_opp(member_client, make_account(member_client))
    path = f"/opportunities/{o['id']}"
    r = member_client.patch(path, {"name": "One"})
    assert (r.status, r.json["version"], r.headers["etag"]) == (200, 2, '"2"')
    assert r.json["updated_at"] > o["updated_at"]
    r2 = member_client.patch(path, {"name": "One"})  # no-op
    assert (r2.status, r2.json["version"], r2.headers["etag"]) == (200, 2, '"2"')
    assert r2.json["updated_at"] == r.json["updated_at"]
    r3 = member_client.patch(path, {})
    assert (r3.status, r3.json["version"]) == (200, 2)
    r4 = member_client.patch(path, {"name": "Two", "next_step": "call", "probability": 30})
    assert (r4.status, r4.json["version"]) == (200, 3)
    r5 = member_client.patch(path, {"name": "Two", "next_step": "call", "probability": 30})
    assert r5.json["version"] == 3


def test_patch_accepts_merge_patch_media_type(member_client):
    o = make_opp(member_client, make_account(member_client))
    r = member_client.patch(f"/opportunities/{o['id']}", {"name": "Merge"}, content_type="application/merge-patch+json")
    assert r.status == 200, r
    assert r.json["name"] == "Merge"


def test_patch_if_match(member_client):
    o = make_opp(member_client, make_account(member_client))
    path = f"/opportunities/{o['id']}"
    r = member_client.patch(path, {"name": "v2"}, headers={"If-Match": '"1"'})
    assert (r.status, r.json["version"]) == (200, 2)
    doc = assert_problem(member_client.patch(path, {"name": "stale"}, headers={"If-Match": '"1"'}), 412)
    assert doc["type"] == "/problems/precondition-failed"
    assert get_opp(member_client, o["id"])["name"] == "v2"
    r = member_client.patch(path, {"name": "v3"}, headers={"If-Match": '"2"'})
    assert (r.status, r.json["name"], r.json["version"]) == (200, "v3", 3)
    r = member_client.patch(path, {"name": "any"}, headers={"If-Match": "*"})
    assert (r.status, r.json["version"]) == (200, 4)


def test_get_if_none_match(member_client):
    o = make_opp(member_client, make_account(member_client))
    path = f"/opportunities/{o['id']}"
    r = member_client.get(path, headers={"If-None-Match": '"1"'})
    assert r.status == 304
    assert r.body == b""
    assert r.headers["etag"] == '"1"'
    member_client.patch(path, {"name": "changed"})
    r = member_client.get(path, headers={"If-None-Match": '"1"'})
    assert (r.status, r.headers["etag"], r.json["name"]) == (200, '"2"', "changed")
    assert member_client.get(path, headers={"If-None-Match": '"2"'}).status == 304
    assert member_client.get(path, headers={"If-None-Match": 'W/"2"'}).status == 304  # weak comparison
    r = member_client.get(path, headers={"If-None-Match": "*"})
    assert (r.status, r.body, r.headers["etag"]) == (304, b"", '"2"')


def test_etag_lists_match_any_member(member_client):
    o = make_opp(member_client, make_account(member_client))
    path = f"/opportunities/{o['id']}"
    assert member_client.get(path, headers={"If-None-Match": '"7", "1"'}).status == 304
    r = member_client.patch(path, {"name": "listed"}, headers={"If-Match": '"7", "1"'})
    assert (r.status, r.json["version"]) == (200, 2)


def test_concurrent_patches_with_the_same_if_match_one_wins(member_client):
    o = make_opp(member_client, make_account(member_client))
    path = f"/opportunities/{o['id']}"
    n = 6
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        client = Client(member_client.token)
        barrier.wait()
        results[i] = client.patch(path, {"name": f"writer {i}"}, headers={"If-Match": '"1"'})

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in results) == [200] + [412] * (n - 1)
    winner = next(r for r in results if r.status == 200)
    g = get_opp(member_client, o["id"])
    assert (g["version"], g["name"]) == (2, winner.json["name"])


def test_patch_unknown_opportunity_is_404(member_client):
    assert_problem(member_client.patch(f"/opportunities/{NO_SUCH_ID}", {"name": "x"}), 404)


def test_patch_keeps_inactive_references_already_on_record(admin, member_client, refs, statuses):
    user, _ = make_user(admin, "member")
    status = make_lookup(admin, "opportunity-status", probability=35, position=901)
    o = make_opp(member_client, make_account(member_client), owner_id=user["id"], status_id=status["id"])
    try:
        assert admin.patch(f"/users/{user['id']}", {"active": False}).status == 200
        assert admin.patch(f"/lookups/opportunity-status/{status['id']}", {"active": False}).status == 200
        r = member_client.patch(f"/opportunities/{o['id']}",
                                {"name": "still fine", "owner_id": user["id"], "status_id": status["id"]})
        assert r.status == 200, r
        assert (r.json["owner_id"], r.json["status_id"], r.json["probability"]) == (user["id"], status["id"], 35)
        # Moving away and back to the inactive status is a new choice: refused.
        r = member_client.patch(f"/opportunities/{o['id']}", {"status_id": statuses["New"]["id"]})
        assert r.status == 200
        assert_problem(member_client.patch(f"/opportunities/{o['id']}", {"status_id": status["id"]}), 422, "status_id")
    finally:
        admin.patch(f"/lookups/opportunity-status/{status['id']}", {"active": False})


def test_patch_duplicate_external_id_is_409(member_client):
    account = make_account(member_client)
    ext = unique("ext")
    make_opp(member_client, account, external_id=ext)
    o = make_opp(member_client, account)
    assert_problem(member_client.patch(f"/opportunities/{o['id']}", {"external_id": ext}), 409)
    assert get_opp(member_client, o["id"])["external_id"] is None


# ---------------------------------------------------------------------------
# DELETE
# ---------------------------------------------------------------------------


def test_delete_then_404_everywhere_and_tombstone(member_client):
    account = make_account(member_client)
    keep = make_opp(member_client, account)
    o = make_opp(member_client, account, external_id=unique("ext"))
    path = f"/opportunities/{o['id']}"
    r = member_client.delete(path)
    assert r.status == 204
    assert r.body == b""
    assert_problem(member_client.get(path), 404)
    assert_problem(member_client.patch(path, {"name": "x"}), 404)
    assert_problem(member_client.delete(path), 404)
    assert ids_of(member_client, {"account_id": account["id"]}) == [keep["id"]]
    assert ids_of(member_client, {"account_id": account["id"], "include_deleted": "false"}) == [keep["id"]]
    rows, _ = list_pages(member_client, "/opportunities", {"account_id": account["id"], "include_deleted": "true"})
    assert [x["id"] for x in rows] == [keep["id"], o["id"]]
    tomb = rows[1]
    assert tomb["deleted_at"] is not None and tomb["deleted_at"].endswith("Z")
    assert tomb["deleted_at"] >= o["updated_at"]
    assert tomb["external_id"] == o["external_id"]
    assert rows[0]["deleted_at"] is None
    tombs = ids_of(member_client, {"external_id": o["external_id"], "include_deleted": "true"})
    assert tombs == [o["id"]]
    assert ids_of(member_client, {"external_id": o["external_id"]}) == []
    rows, _ = list_pages(member_client, f"/accounts/{account['id']}/opportunities", {"include_deleted": "true"})
    assert [x["id"] for x in rows] == [keep["id"], o["id"]]


def test_delete_if_match(member_client):
    o = make_opp(member_client, make_account(member_client))
    path = f"/opportunities/{o['id']}"
    member_client.patch(path, {"name": "v2"})
    assert_problem(member_client.delete(path, headers={"If-Match": '"1"'}), 412)
    assert get_opp(member_client, o["id"])["version"] == 2
    assert member_client.delete(path, headers={"If-Match": '"2"'}).status == 204


def test_account_with_live_opportunity_cannot_be_deleted(member_client):
    account = make_account(member_client)
    o = make_opp(member_client, account)
    doc = assert_problem(member_client.delete(f"/accounts/{account['id']}"), 409)
    assert doc["type"] == "/problems/conflict"
    assert member_client.get(f"/accounts/{account['id']}").status == 200
    assert member_client.delete(f"/opportunities/{o['id']}").status == 204
    assert member_client.delete(f"/accounts/{account['id']}").status == 204
    assert_problem(member_client.get(f"/accounts/{account['id']}"), 404)


def test_create_on_deleted_account_is_422(member_client):
    account = make_account(member_client)
    assert member_client.delete(f"/accounts/{account['id']}").status == 204
    doc = assert_problem(member_client.post("/opportunities", {"account_id": account["id"]}), 422)
    assert error_fields(doc) == ["account_id"]


# ---------------------------------------------------------------------------
# GET /accounts/{id}/opportunities
# ---------------------------------------------------------------------------


def test_account_opportunities_lists_only_that_account(member_client, statuses):
    a1, a2 = make_account(member_client), make_account(member_client)
    x1 = make_opp(member_client, a1)
    make_opp(member_client, a2)
    x2 = make_opp(member_client, a1, status_id=statuses["Won"]["id"])
    rows, _ = list_pages(member_client, f"/accounts/{a1['id']}/opportunities", {})
    assert [r["id"] for r in rows] == [x1["id"], x2["id"]]
    assert all(r["account_id"] == a1["id"] for r in rows)
    assert "lines" not in rows[0]
    assert ids_of(member_client, {"outcome": "won"}, f"/accounts/{a1['id']}/opportunities") == [x2["id"]]
    assert ids_of(member_client, {"sort": "-id"}, f"/accounts/{a1['id']}/opportunities") == [x2["id"], x1["id"]]
    empty = make_account(member_client)
    r = member_client.get(f"/accounts/{empty['id']}/opportunities")
    assert (r.status, r.json) == (200, {"data": [], "next_cursor": None})


def test_account_opportunities_unknown_or_deleted_account_is_404(member_client):
    assert_problem(member_client.get(f"/accounts/{NO_SUCH_ID}/opportunities"), 404)
    account = make_account(member_client)
    assert member_client.delete(f"/accounts/{account['id']}").status == 204
    assert_problem(member_client.get(f"/accounts/{account['id']}/opportunities"), 404)


def test_account_opportunities_refuses_account_id_parameter(member_client):
    account = make_account(member_client)
    assert_problem(member_client.get(f"/accounts/{account['id']}/opportunities?account_id=1"), 400, "account_id")


# ---------------------------------------------------------------------------
# PUT /opportunities/by-external-id/{external_id}
# ---------------------------------------------------------------------------


def test_upsert_creates_then_replaces(member, statuses):
    user, client = member
    account = make_account(client)
    ext = unique("ext")
    path = f"/opportunities/by-external-id/{ext}"
    r = client.put(path, {"account_id": account["id"], "name": "Synced"})
    assert r.status == 201, r
    o = r.json
    assert r.headers["location"] == f"/opportunities/{o['id']}"
    assert r.headers["etag"] == '"1"'
    assert (o["external_id"], o["name"], o["owner_id"], o["probability"], o["version"]) == (ext, "Synced", user["id"],
                                                                                           10, 1)
    assert o["lines"] == []
    r = client.put(path, {"account_id": account["id"], "name": "Synced 2"})
    assert r.status == 200, r
    assert (r.json["id"], r.json["name"], r.json["version"], r.headers["etag"]) == (o["id"], "Synced 2", 2, '"2"')
    assert "location" not in r.headers
    # The same body again changes nothing.
    r = client.put(path, {"account_id": account["id"], "name": "Synced 2"})
    assert (r.status, r.json["version"]) == (200, 2)
    assert get_opp(client, o["id"])["name"] == "Synced 2"
    assert ids_of(client, {"external_id": ext}) == [o["id"]]


def test_upsert_replace_semantics(admin, member_client, statuses, forecasts, sources, loss_reasons):
    other, _ = make_user(admin, "member")
    account = make_account(member_client, source_id=sources[0]["id"])
    ext = unique("ext")
    path = f"/opportunities/by-external-id/{ext}"
    full = {"account_id": account["id"], "name": "Full", "owner_id": other["id"],
            "status_id": statuses["Negotiation"]["id"], "close_date": "2031-03-03", "next_step": "n",
            "forecast_id": forecasts["Commit"]["id"], "probability": 70, "competitor": "c",
            "loss_reason_id": loss_reasons[0]["id"], "description": "d", "win_loss_report": "w"}
    r = member_client.put(path, full)
    assert r.status == 201, r
    for k, v in full.items():
        assert r.json[k] == v, k
    r = member_client.put(path, {"account_id": account["id"]})
    assert r.status == 200, r
    o = r.json
    for f in ("next_step", "competitor", "loss_reason_id", "description", "win_loss_report"):
        assert o[f] is None, f
    for f in ("name", "owner_id", "status_id", "close_date", "forecast_id", "probability"):
        assert o[f] == full[f], f
    assert o["external_id"] == ext
    assert o["version"] == 2


def test_upsert_status_change_makes_probability_follow(member_client, statuses):
    account = make_account(member_client)
    path = f"/opportunities/by-external-id/{unique('ext')}"
    assert member_client.put(path, {"account_id": account["id"], "probability": 33}).status == 201
    r = member_client.put(path, {"account_id": account["id"], "status_id": statuses["Proposal"]["id"]})
    assert (r.status, r.json["probability"]) == (200, 50)
    r = member_client.put(path, {"account_id": account["id"], "status_id": statuses["Won"]["id"], "probability": 95})
    assert (r.json["probability"], r.json["outcome"]) == (95, "open")


def test_upsert_lines_replace_the_set(member_client, product):
    account = make_account(member_client)
    path = f"/opportunities/by-external-id/{unique('ext')}"
    r = member_client.put(path, {"account_id": account["id"], "probability": 50, "lines": [
        {"product_id": product["id"], "unit_price": "1.00", "description": "a"},
        {"product_id": product["id"], "unit_price": "2.00", "description": "b"}]})
    assert r.status == 201, r
    assert (r.json["value"], r.json["weighted_value"], len(r.json["lines"])) == ("3.00", "1.50", 2)
    o_id = r.json["id"]
    r = member_client.put(path, {"account_id": account["id"], "probability": 50, "lines": [
        {"product_id": product["id"], "quantity": 3, "description": "c"}]})
    assert r.status == 200, r
    assert (r.json["value"], r.json["weighted_value"]) == ("30.00", "15.00")
    assert [(x["description"], x["total"]) for x in r.json["lines"]] == [("c", "30.00")]
    assert r.json["version"] == 2
    # Without lines: the set is kept.
    r = member_client.put(path, {"account_id": account["id"], "probability": 50})
    assert (r.status, r.json["value"], len(r.json["lines"]), r.json["version"]) == (200, "30.00", 1, 2)
    # An empty array empties it.
    r = member_client.put(path, {"account_id": account["id"], "probability": 50, "lines": []})
    assert (r.status, r.json["value"], r.json["lines"], r.json["version"]) == (200, "0.00", [], 3)
    assert get_opp(member_client, o_id)["lines"] == []


def test_upsert_if_match(member_client):
    account = make_account(member_client)
    ext = unique("ext")
    path = f"/opportunities/by-external-id/{ext}"
    assert_problem(member_client.put(path, {"account_id": account["id"]}, headers={"If-Match": '"1"'}), 412)
    assert ids_of(member_client, {"external_id": ext}) == []
    assert member_client.put(path, {"account_id": account["id"]}).status == 201
    assert_problem(member_client.put(path, {"account_id": account["id"], "name": "x"}, headers={"If-Match": '"7"'}),
                   412)
    r = member_client.put(path, {"account_id": account["id"], "name": "x"}, headers={"If-Match": '"1"'})
    assert (r.status, r.json["version"]) == (200, 2)


def test_upsert_if_match_star_on_missing_is_412(member_client):
    account = make_account(member_client)
    ext = unique("ext")
    assert_problem(member_client.put(f"/opportunities/by-external-id/{ext}", {"account_id": account["id"]},
                                     headers={"If-Match": "*"}), 412)
    assert ids_of(member_client, {"external_id": ext}) == []


def test_upsert_validation(member_client, refs):
    account = make_account(member_client)
    ext = unique("ext")
    path = f"/opportunities/by-external-id/{ext}"
    doc = assert_problem(member_client.put(path, {"name": "x"}), 422)
    assert error_fields(doc) == ["account_id"]
    doc = assert_problem(member_client.put(path, {"account_id": account["id"], "probability": 101, "value": "1"}), 422)
    assert error_fields(doc) == ["probability", "value"]
    doc = assert_problem(member_client.put(path, {"account_id": refs["deleted_account"]}), 422)
    assert error_fields(doc) == ["account_id"]
    assert_problem(member_client.put(f"/opportunities/by-external-id/{'x' * 201}", {"account_id": account["id"]}),
                   422, "external_id")
    assert ids_of(member_client, {"external_id": ext}) == []


def test_upsert_replace_lists_field_and_line_errors_together(member_client):
    account = make_account(member_client)
    path = f"/opportunities/by-external-id/{unique('ext')}"
    assert member_client.put(path, {"account_id": account["id"]}).status == 201
    r = member_client.put(path, {"account_id": account["id"], "status_id": NO_SUCH_ID,
                                 "lines": [{"product_id": NO_SUCH_ID}]})
    doc = assert_problem(r, 422)
    assert error_fields(doc) == ["lines[0].product_id", "status_id"]


def test_upsert_create_lists_field_and_line_errors_together(member_client):
    account = make_account(member_client)
    r = member_client.put(f"/opportunities/by-external-id/{unique('ext')}",
                          {"account_id": account["id"], "status_id": NO_SUCH_ID, "lines": [{"product_id": NO_SUCH_ID}]})
    doc = assert_problem(r, 422)
    assert error_fields(doc) == ["lines[0].product_id", "status_id"]


def test_upsert_after_delete_creates_a_new_one(member_client):
    account = make_account(member_client)
    ext = unique("ext")
    path = f"/opportunities/by-external-id/{ext}"
    first = member_client.put(path, {"account_id": account["id"]}).json
    assert member_client.delete(f"/opportunities/{first['id']}").status == 204
    r = member_client.put(path, {"account_id": account["id"]})
    assert r.status == 201, r
    assert r.json["id"] != first["id"]
    assert ids_of(member_client, {"external_id": ext}) == [r.json["id"]]
    assert ids_of(member_client, {"external_id": ext, "include_deleted": "true"}) == [first["id"], r.json["id"]]


def test_upsert_external_id_with_reserved_characters(member_client):
    account = make_account(member_client)
    ext = unique("a b/é")
    r = member_client.put(f"/opportunities/by-external-id/{quote(ext, safe='')}", {"account_id": account["id"]})
    assert r.status == 201, r
    assert r.json["external_id"] == ext
    assert ids_of(member_client, {"external_id": ext}) == [r.json["id"]]


def test_concurrent_upserts_of_a_new_external_id_create_one(member_client):
    account = make_account(member_client)
    ext = unique("race")
    n = 8
    barrier = threading.Barrier(n)
    results = [None] * n
    errors = []

    def worker(i):
        try:
            client = Client(member_client.token)
            barrier.wait()
            results[i] = client.put(f"/opportunities/by-external-id/{ext}",
                                    {"account_id": account["id"], "name": f"racer {i}"})
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    statuses = sorted(r.status for r in results)
    assert statuses == [200] * (n - 1) + [201], results
    assert len({r.json["id"] for r in results}) == 1
    assert ids_of(member_client, {"external_id": ext, "include_deleted": "true"}) == [results[0].json["id"]]
    assert get_opp(member_client, results[0].json["id"])["version"] <= n


# ---------------------------------------------------------------------------
# Lists: filters
# ---------------------------------------------------------------------------


def test_list_items_carry_figures_but_no_lines(member_client, product):
    account = make_account(member_client)
    o = make_opp(member_client, account, probability=25, lines=[{"product_id": product["id"], "unit_price": "3.30"}])
    r = member_client.get(f"/opportunities?account_id={account['id']}")
    assert r.status == 200
    assert r.content_type == "application/json; charset=utf-8"
    assert r.json["next_cursor"] is None
    [item] = r.json["data"]
    assert set(item) == OPPORTUNITY_KEYS
    assert (item["value"], item["weighted_value"], item["outcome"]) == ("3.30", "0.83", "open")
    g = get_opp(member_client, o["id"])
    del g["lines"]
    assert item == g


@pytest.fixture
def filter_world(admin, statuses, forecasts, sources):
    """Two accounts, two fresh owners, deals spread over every filterable attribute."""
    owner1, client1 = make_user(admin, "member")
    owner2, _ = make_user(admin, "member")
    tag = unique("flt").replace("-", "")
    a1 = make_account(client1, source_id=sources[0]["id"])
    a2 = make_account(client1, source_id=sources[1]["id"])
    specs = {
        "a": dict(account=a1, name=f"{tag} Alpha", owner_id=owner1["id"], status_id=statuses["New"]["id"],
                  forecast_id=forecasts["Pipeline"]["id"], close_date="2031-01-10"),
        "b": dict(account=a1, name=f"{tag} Bravo", owner_id=owner2["id"], status_id=statuses["Won"]["id"],
                  forecast_id=forecasts["Commit"]["id"], close_date="2031-02-10", source_id=sources[1]["id"]),
        "c": dict(account=a1, name=f"{tag} Charlie", owner_id=owner1["id"], status_id=statuses["Lost"]["id"],
                  forecast_id=forecasts["Omitted"]["id"], close_date="2031-03-10", external_id=f"{tag}-ext-c"),
        "d": dict(account=a2, name=f"{tag} Delta", owner_id=owner2["id"], status_id=statuses["Proposal"]["id"],
                  forecast_id=forecasts["Commit"]["id"], close_date="2031-02-10"),
        "e": dict(account=a2, name=f"{tag} Echo", owner_id=owner1["id"], status_id=statuses["Won"]["id"],
                  forecast_id=forecasts["Pipeline"]["id"], close_date="2031-04-10", source_id=None),
    }
    opps = {}
    for key, spec in specs.items():
        spec = dict(spec)
        account = spec.pop("account")
        opps[key] = make_opp(client1, account, **spec)
    return {"tag": tag, "a1": a1, "a2": a2, "owner1": owner1, "owner2": owner2, "o": opps, "client": client1}


def _expect(world, keys):
    return sorted(world["o"][k]["id"] for k in keys)


def test_list_filter_account_id(filter_world):
    w, c = filter_world, filter_world["client"]
    assert ids_of(c, {"account_id": w["a1"]["id"]}) == _expect(w, "abc")
    assert ids_of(c, {"account_id": w["a2"]["id"]}) == _expect(w, "de")
    assert ids_of(c, {"account_id": NO_SUCH_ID}) == []


def test_list_filter_owner_id(filter_world):
    w, c = filter_world, filter_world["client"]
    assert ids_of(c, {"owner_id": w["owner1"]["id"]}) == _expect(w, "ace")
    assert ids_of(c, {"owner_id": w["owner2"]["id"]}) == _expect(w, "bd")
    assert ids_of(c, {"owner_id": w["owner2"]["id"], "account_id": w["a2"]["id"]}) == _expect(w, "d")


def _subset_check(client, params, predicate, expected_ids):
    rows, _ = list_pages(client, "/opportunities", dict(params, limit=500))
    assert all(predicate(r) for r in rows), params
    got = {r["id"] for r in rows}
    assert set(expected_ids) <= got
    return got


def test_list_filter_status_id(filter_world, statuses):
    w, c = filter_world, filter_world["client"]
    won = statuses["Won"]["id"]
    got = _subset_check(c, {"status_id": won}, lambda r: r["status_id"] == won, _expect(w, "be"))
    assert not got & set(_expect(w, "acd"))
    assert ids_of(c, {"status_id": won, "account_id": w["a1"]["id"]}) == _expect(w, "b")
    assert ids_of(c, {"status_id": won, "owner_id": w["owner1"]["id"]}) == _expect(w, "e")


def test_list_filter_forecast_id(filter_world, forecasts):
    w, c = filter_world, filter_world["client"]
    commit = forecasts["Commit"]["id"]
    got = _subset_check(c, {"forecast_id": commit}, lambda r: r["forecast_id"] == commit, _expect(w, "bd"))
    assert not got & set(_expect(w, "ace"))
    assert ids_of(c, {"forecast_id": commit, "account_id": w["a2"]["id"]}) == _expect(w, "d")
    assert ids_of(c, {"forecast_id": forecasts["Omitted"]["id"], "owner_id": w["owner1"]["id"]}) == _expect(w, "c")


def test_list_filter_source_id(filter_world, sources):
    w, c = filter_world, filter_world["client"]
    s0, s1 = sources[0]["id"], sources[1]["id"]
    # a, c: account a1's source (s0); b: s1 given; d: account a2's source (s1); e: null given.
    assert [w["o"][k]["source_id"] for k in "abcde"] == [s0, s1, s0, s1, None]
    got = _subset_check(c, {"source_id": s1}, lambda r: r["source_id"] == s1, _expect(w, "bd"))
    assert not got & set(_expect(w, "ace"))
    assert ids_of(c, {"source_id": s0, "owner_id": w["owner1"]["id"]}) == _expect(w, "ac")


def test_list_filter_outcome(filter_world):
    w, c = filter_world, filter_world["client"]
    for outcome, keys in [("open", "ad"), ("won", "be"), ("lost", "c")]:
        got = _subset_check(c, {"outcome": outcome}, lambda r, o=outcome: r["outcome"] == o, _expect(w, keys))
        assert not got & (set(_expect(w, "abcde")) - set(_expect(w, keys)))
        assert ids_of(c, {"outcome": outcome, "owner_id": w["owner1"]["id"]}) == _expect(
            w, [k for k in keys if k in "ace"])


def test_list_filter_close_dates(filter_world):
    w, c = filter_world, filter_world["client"]
    own = {"owner_id": w["owner1"]["id"]}
    own2 = {"owner_id": w["owner2"]["id"]}
    assert ids_of(c, dict(own, close_from="2031-03-10")) == _expect(w, "ce")
    assert ids_of(c, dict(own, close_to="2031-03-10")) == _expect(w, "ac")
    assert ids_of(c, dict(own, close_from="2031-03-10", close_to="2031-03-10")) == _expect(w, "c")
    assert ids_of(c, dict(own, close_from="2031-03-11", close_to="2031-04-09")) == []
    assert ids_of(c, dict(own2, close_from="2031-02-10", close_to="2031-02-10")) == _expect(w, "bd")
    got = _subset_check(c, {"close_from": "2031-02-10", "close_to": "2031-02-10"},
                        lambda r: r["close_date"] == "2031-02-10", _expect(w, "bd"))
    assert not got & set(_expect(w, "ace"))
    got = _subset_check(c, {"close_from": "2031-04-10"}, lambda r: r["close_date"] >= "2031-04-10", _expect(w, "e"))
    assert not got & set(_expect(w, "abcd"))
    got = _subset_check(c, {"close_to": "2031-01-10"}, lambda r: r["close_date"] <= "2031-01-10", _expect(w, "a"))
    assert not got & set(_expect(w, "bcde"))


def test_list_filter_updated_since(filter_world):
    w, c = filter_world, filter_world["client"]
    r = c.patch(f"/opportunities/{w['o']['c']['id']}", {"next_step": "touched"})
    assert r.status == 200
    since = r.json["updated_at"]
    own = {"owner_id": w["owner1"]["id"]}
    assert ids_of(c, dict(own, updated_since=since)) == _expect(w, "c")
    assert ids_of(c, dict(own, updated_since="2000-01-01T00:00:00Z")) == _expect(w, "ace")
    # The same instant written with an offset.
    t = datetime.datetime.fromisoformat(since.replace("Z", "+00:00")).astimezone(
        datetime.timezone(datetime.timedelta(hours=2)))
    assert ids_of(c, dict(own, updated_since=t.isoformat())) == _expect(w, "c")
    got = _subset_check(c, {"updated_since": since}, lambda r: r["updated_at"] >= since, _expect(w, "c"))
    assert not got & set(_expect(w, "ab"))
    future = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids_of(c, dict(own, updated_since=future)) == []


def test_list_filter_q(filter_world):
    w, c = filter_world, filter_world["client"]
    tag = w["tag"]
    assert ids_of(c, {"q": tag}) == _expect(w, "abcde")
    assert ids_of(c, {"q": tag.upper()}) == _expect(w, "abcde")
    assert ids_of(c, {"q": f"{tag} ALPHA"}) == _expect(w, "a")
    assert ids_of(c, {"q": f"{tag[3:]} e"}) == _expect(w, "e")  # contains, not prefix
    assert ids_of(c, {"q": "HARL", "account_id": w["a1"]["id"]}) == _expect(w, "c")
    assert ids_of(c, {"q": "a", "account_id": w["a2"]["id"], "owner_id": w["owner2"]["id"]}) == _expect(w, "d")
    assert ids_of(c, {"q": f"{tag}zz"}) == []


def test_list_filter_q_treats_wildcards_literally(member_client):
    account = make_account(member_client)
    names = ["50% off", "500 off", "a_b deal", "axb deal", "back\\slash", "backslash", "Straße"]
    opp = {n: make_opp(member_client, account, name=n)["id"] for n in names}
    scope = {"account_id": account["id"]}
    assert ids_of(member_client, dict(scope, q="50%")) == [opp["50% off"]]
    assert ids_of(member_client, dict(scope, q="%")) == [opp["50% off"]]
    assert ids_of(member_client, dict(scope, q="a_b")) == [opp["a_b deal"]]
    assert ids_of(member_client, dict(scope, q="_")) == [opp["a_b deal"]]
    assert ids_of(member_client, dict(scope, q="k\\s")) == [opp["back\\slash"]]
    assert ids_of(member_client, dict(scope, q="\\")) == [opp["back\\slash"]]
    assert ids_of(member_client, dict(scope, q="STRASSE")) == []
    assert ids_of(member_client, dict(scope, q="straße")) == [opp["Straße"]]
    assert ids_of(member_client, dict(scope, q="OFF")) == sorted([opp["50% off"], opp["500 off"]])


def test_list_filter_external_id(filter_world):
    w, c = filter_world, filter_world["client"]
    assert ids_of(c, {"external_id": f"{w['tag']}-ext-c"}) == _expect(w, "c")
    assert ids_of(c, {"external_id": f"{w['tag']}-EXT-C"}) == []
    assert ids_of(c, {"external_id": f"{w['tag']}-ext"}) == []
    assert ids_of(c, {"external_id": f"{w['tag']}-ext-c", "account_id": w["a2"]["id"]}) == []


def test_list_filter_include_deleted_combined(filter_world):
    w, c = filter_world, filter_world["client"]
    assert c.delete(f"/opportunities/{w['o']['a']['id']}").status == 204
    own = {"owner_id": w["owner1"]["id"]}
    assert ids_of(c, own) == _expect(w, "ce")
    assert ids_of(c, dict(own, include_deleted="true")) == _expect(w, "ace")
    assert ids_of(c, dict(own, include_deleted="true", close_to="2031-01-31")) == _expect(w, "a")
    assert ids_of(c, dict(own, include_deleted="false", close_to="2031-01-31")) == []


def test_list_all_filters_combined(filter_world, statuses, forecasts, sources):
    w, c = filter_world, filter_world["client"]
    b = w["o"]["b"]
    params = {"account_id": w["a1"]["id"], "owner_id": w["owner2"]["id"], "status_id": statuses["Won"]["id"],
              "forecast_id": forecasts["Commit"]["id"], "source_id": sources[1]["id"], "outcome": "won",
              "close_from": "2031-02-01", "close_to": "2031-02-28", "updated_since": "2001-01-01T00:00:00Z",
              "q": "bravo", "include_deleted": "false"}
    assert ids_of(c, params) == [b["id"]]
    for k, other in [("outcome", "open"), ("close_to", "2031-02-09"), ("q", "alpha"),
                     ("account_id", w["a2"]["id"]), ("status_id", statuses["New"]["id"])]:
        assert ids_of(c, dict(params, **{k: other})) == [], k


BAD_QUERY = [
    ("account_id", "abc"), ("account_id", "0"), ("account_id", "-1"), ("owner_id", "x"), ("status_id", "1.5"),
    ("forecast_id", ""), ("source_id", "99999999999999999999999"), ("outcome", "maybe"), ("outcome", "OPEN"),
    ("close_from", "2026-02-30"), ("close_to", "27-01-01"), ("updated_since", "yesterday"),
    ("updated_since", "2026-01-01"), ("q", "x" * 201), ("include_deleted", "yes"), ("include_deleted", "1"),
    ("limit", "0"), ("limit", "501"), ("limit", "ten"), ("sort", "bogus"), ("sort", "--name"), ("sort", "+name"),
    ("sort", "probability"), ("cursor", "garbage!"), ("cursor", "b3Bwb3J0dW5pdGllczppZHx4"), ("colour", "red"),
]


@pytest.mark.parametrize("name,value", BAD_QUERY, ids=[f"{n}={v[:12]}" for n, v in BAD_QUERY])
def test_list_bad_parameter_is_400(member_client, name, value):
    doc = assert_problem(member_client.get(f"/opportunities?{urlencode({name: value})}"), 400, name)
    assert doc["type"] == "/problems/bad-request"


def test_list_lists_every_bad_parameter(member_client):
    doc = assert_problem(member_client.get("/opportunities?owner_id=x&outcome=maybe&limit=0&close_to=no"), 400)
    assert error_fields(doc) == ["close_to", "limit", "outcome", "owner_id"]


def test_account_list_bad_parameter_is_400(member_client):
    account = make_account(member_client)
    assert_problem(member_client.get(f"/accounts/{account['id']}/opportunities?status_id=x"), 400, "status_id")
    assert_problem(member_client.get(f"/accounts/{account['id']}/opportunities?foo=1"), 400, "foo")


def test_list_q_of_200_chars_is_accepted(member_client):
    account = make_account(member_client)
    o = make_opp(member_client, account, name="q" * 200)
    r = member_client.get(f"/opportunities?{urlencode({'q': 'Q' * 200, 'account_id': account['id']})}")
    assert r.status == 200, r
    assert [x["id"] for x in r.json["data"]] == [o["id"]]


def test_list_filter_q_ignores_case_beyond_ascii(member_client):
    account = make_account(member_client)
    o = make_opp(member_client, account, name="Électricité Öffentlich")
    scope = {"account_id": account["id"]}
    assert ids_of(member_client, dict(scope, q="électricité")) == [o["id"]]
    assert ids_of(member_client, dict(scope, q="ÖFFENTLICH")) == [o["id"]]


def test_list_default_limit_and_paging(member_client):
    account = make_account(member_client)
    made = [make_opp(member_client, account)["id"] for _ in range(3)]
    r = member_client.get(f"/opportunities?account_id={account['id']}&limit=1")
    assert len(r.json["data"]) == 1 and r.json["next_cursor"]
    r = member_client.get(f"/opportunities?account_id={account['id']}&limit=3")
    assert [x["id"] for x in r.json["data"]] == made and r.json["next_cursor"] is None
    r = member_client.get(f"/opportunities?account_id={account['id']}")
    assert [x["id"] for x in r.json["data"]] == made and r.json["next_cursor"] is None


# ---------------------------------------------------------------------------
# Lists: sorts with keyset paging over many equal keys
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sort_world(admin, product):
    """12 deals in one account: 7 alike in close_date, name, value and created_at, plus distinct ones."""
    account = make_account(admin)
    same = dict(close_date="2032-05-05", name="Mmm", created_at="2021-06-01T00:00:00Z")
    specs = [same] * 4 + [
        dict(close_date="2032-01-01", name="Zzz", created_at="2022-01-01T00:00:00Z",
             lines=[{"product_id": product["id"], "unit_price": "5.00"}]),
        dict(close_date="2033-01-01", name="Aaa", lines=[{"product_id": product["id"], "unit_price": "100.00"}]),
    ] + [same] * 3 + [
        dict(close_date="2032-05-04", name="Mmmm", created_at="2020-01-01T00:00:00Z",
             lines=[{"product_id": product["id"], "unit_price": "5.00"}]),
        dict(close_date="2032-05-06", name="Bbb", created_at="2021-06-01T00:00:00Z",
             lines=[{"product_id": product["id"], "unit_price": "0.01"}]),
        dict(close_date="2032-05-05", name="Mmm", lines=[{"product_id": product["id"], "unit_price": "99.99"}]),
    ]
    rows = [make_opp(admin, account, **s) for s in specs]
    # Touch a few so updated_at differs from created order.
    for o in (rows[2], rows[0]):
        r = admin.patch(f"/opportunities/{o['id']}", {"next_step": "touched"})
        assert r.status == 200
    return account, ids_of(admin, {"account_id": account["id"]})


SORT_KEYS = {
    "id": lambda o: o["id"],
    "close_date": lambda o: o["close_date"],
    "updated_at": lambda o: o["updated_at"],
    "created_at": lambda o: o["created_at"],
    "name": lambda o: o["name"],
    "value": lambda o: Decimal(o["value"]),
}


@pytest.mark.parametrize("sort", [s for k in SORT_KEYS for s in (k, f"-{k}")])
def test_list_sort_pages_exactly(admin, sort_world, sort):
    account, _ = sort_world
    full, _ = list_pages(admin, "/opportunities", {"account_id": account["id"], "limit": 500})
    assert len(full) == 12
    key = SORT_KEYS[sort.lstrip("-")]
    expected = sorted(full, key=lambda o: (key(o), o["id"]), reverse=sort.startswith("-"))
    expected_ids = [o["id"] for o in expected]
    for limit in (2, 5, 1):
        rows, pages = list_pages(admin, "/opportunities", {"account_id": account["id"], "sort": sort, "limit": limit})
        assert [o["id"] for o in rows] == expected_ids, (sort, limit)
        assert pages == -(-12 // limit)
    r = admin.get(f"/opportunities?{urlencode({'account_id': account['id'], 'sort': sort, 'limit': 12})}")
    assert r.json["next_cursor"] is None
    # Also through the account's own list.
    rows, _ = list_pages(admin, f"/accounts/{account['id']}/opportunities", {"sort": sort, "limit": 2})
    assert [o["id"] for o in rows] == expected_ids


def test_sort_world_has_many_equal_keys(sort_world, admin):
    account, ids = sort_world
    full, _ = list_pages(admin, "/opportunities", {"account_id": account["id"], "limit": 500})
    assert sum(o["close_date"] == "2032-05-05" and o["name"] == "Mmm" for o in full) == 8
    assert sum(o["created_at"] == "2021-06-01T00:00:00.000000Z" for o in full) == 8
    assert sum(o["value"] == "0.00" for o in full) == 7


def test_sort_by_value_pages_past_very_large_values(member_client, product):
    account = make_account(member_client)
    huge = make_opp(member_client, account, lines=[
        {"product_id": product["id"], "quantity": 1000000, "unit_price": "1000000000.00"}] * 10)
    assert huge["value"] == "10000000000000000.00"
    small = make_opp(member_client, account)
    for sort in ("-value", "value"):
        rows, _ = list_pages(member_client, "/opportunities", {"account_id": account["id"], "sort": sort, "limit": 1})
        expected = [huge["id"], small["id"]]
        assert [o["id"] for o in rows] == (expected if sort == "-value" else expected[::-1])


def test_cursor_from_another_sort_is_400(admin, sort_world):
    account, _ = sort_world
    cursors = {}
    for sort in [s for k in SORT_KEYS for s in (k, f"-{k}")]:
        r = admin.get(f"/opportunities?{urlencode({'account_id': account['id'], 'sort': sort, 'limit': 2})}")
        cursors[sort] = r.json["next_cursor"]
        assert cursors[sort]
    r = admin.get(f"/opportunities?{urlencode({'account_id': account['id'], 'limit': 2})}")
    assert r.json["next_cursor"] == cursors["id"]
    for made_for, cursor in cursors.items():
        for used_with in cursors:
            if used_with == made_for:
                continue
            q = {"account_id": account["id"], "sort": used_with, "limit": 2, "cursor": cursor}
            assert_problem(admin.get(f"/opportunities?{urlencode(q)}"), 400, "cursor")
