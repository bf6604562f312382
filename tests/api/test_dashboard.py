"""The dashboard over real HTTP (SPEC 4.2, 7): the sales funnel and the
sales grid.

The database is shared by the whole run, so every test makes its own
salespeople and deals and reads the figures through owner_id / owner_ids;
the expected figures are computed by hand. Tests that need a fiscal year
or a default period set /settings as admin and put the old values back.
Where a test reads the whole database (no owner filter) it checks what
holds whatever else is there: totals equal the sums of the figures shown,
and each funnel row's opportunities_url lists exactly its deals.

The funnel's stages are the active statuses that are neither won nor lost
(probability 0 or 100 makes a deal lost or won): the seeded Won and Lost
have no row."""
import contextlib
import datetime
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from conftest import assert_problem, make_account, make_user, unique

JSON = "application/json; charset=utf-8"
FUNNEL_ROW_KEYS = {"status_id", "label", "position", "count", "value", "weighted_value", "opportunities_url"}
CELL_KEYS = {"won_count", "won_value", "open_count", "open_value", "open_weighted_value"}
ZERO = {"won_count": 0, "won_value": "0.00", "open_count": 0, "open_value": "0.00", "open_weighted_value": "0.00"}
NO_SUCH_ID = 999999999


# ---------------------------------------------------------------------------
# Helpers private to this file
# ---------------------------------------------------------------------------

def today_utc():
    return datetime.datetime.now(datetime.timezone.utc).date()


def get_json(client, path, params=None):
    r = client.get(path + ("?" + urlencode(params) if params else ""))
    assert r.status == 200, r
    assert r.content_type == JSON, r.headers
    return r.json


def funnel(client, **params):
    return get_json(client, "/dashboard/funnel", params)


def grid(client, **params):
    if isinstance(params.get("owner_ids"), (list, tuple)):
        params["owner_ids"] = ",".join(str(i) for i in params["owner_ids"])
    return get_json(client, "/dashboard/sales-grid", params)


def lookup_all(client, table):
    items, path = [], f"/lookups/{table}?limit=500"
    while True:
        doc = get_json(client, path)
        items += doc["data"]
        if not doc["next_cursor"]:
            return items
        path = f"/lookups/{table}?limit=500&cursor={doc['next_cursor']}"


def make_lookup(admin, table, **fields):
    body = {"label": unique("Dash")}
    body.update(fields)
    r = admin.post(f"/lookups/{table}", body)
    assert r.status == 201, r
    return r.json


@contextlib.contextmanager
def settings(admin, **fields):
    """Sets company settings for the duration of a block, then puts back
    the values it changed."""
    before = get_json(admin, "/settings")
    r = admin.patch("/settings", fields)
    assert r.status == 200, r
    try:
        yield r.json
    finally:
        r = admin.patch("/settings", {k: before[k] for k in fields})
        assert r.status == 200, r


def salesperson(admin, name=None, active=True):
    user, _ = make_user(admin, "member", name=name)
    if not active:
        deactivate(admin, user)
    return user


def deactivate(admin, user):
    r = admin.patch(f"/users/{user['id']}", {"active": False})
    assert r.status == 200, r


class Deals:
    """Makes deals of a known value for one test (one account, one product
    without a price: every deal's value is the unit price it is given)."""

    def __init__(self, admin):
        self.admin = admin
        self.account = make_account(admin)
        self.product = make_lookup(admin, "product")

    def make(self, owner, close, value, probability=None, status=None, deleted=False):
        body = {"account_id": self.account["id"], "owner_id": owner["id"], "close_date": close,
                "name": unique("Deal"), "lines": [{"product_id": self.product["id"], "unit_price": value}]}
        if probability is not None:
            body["probability"] = probability
        if status is not None:
            body["status_id"] = status["id"]
        r = self.admin.post("/opportunities", body)
        assert r.status == 201, r
        deal = r.json
        assert deal["value"] == value
        if deleted:
            r = self.admin.delete(f"/opportunities/{deal['id']}")
            assert r.status == 204, r
        return deal


@pytest.fixture
def deals(admin):
    return Deals(admin)


@pytest.fixture(scope="module")
def statuses(admin):
    return {i["label"]: i for i in lookup_all(admin, "opportunity-status")}


def money(text):
    d = Decimal(text)
    assert text == f"{d:.2f}", f"{text!r} is not money with two decimals"
    return d


def list_all(client, url, limit):
    """Follows a list URL (with its own query) through next_cursor."""
    rows, path = [], f"{url}&limit={limit}"
    for _ in range(10000):
        doc = get_json(client, path)
        assert set(doc) == {"data", "next_cursor"}
        rows += doc["data"]
        if doc["next_cursor"] is None:
            return rows
        path = f"{url}&limit={limit}&cursor={doc['next_cursor']}"
    raise AssertionError("the list never ends")


def assert_funnel_adds_up(doc):
    assert set(doc) == {"data", "totals"}
    assert set(doc["totals"]) == {"count", "value", "weighted_value"}
    for row in doc["data"]:
        assert set(row) == FUNNEL_ROW_KEYS, row
        assert isinstance(row["count"], int) and row["count"] >= 0
        assert money(row["weighted_value"]) <= money(row["value"])
    assert doc["totals"]["count"] == sum(r["count"] for r in doc["data"])
    assert money(doc["totals"]["value"]) == sum((money(r["value"]) for r in doc["data"]), Decimal(0))
    assert money(doc["totals"]["weighted_value"]) == sum((money(r["weighted_value"]) for r in doc["data"]), Decimal(0))


def add_cells(cells):
    total = {k: Decimal(0) for k in CELL_KEYS}
    for c in cells:
        assert set(c) == CELL_KEYS, c
        for k in CELL_KEYS:
            total[k] += c[k] if k.endswith("count") else money(c[k])
    return {k: (int(v) if k.endswith("count") else f"{v:.2f}") for k, v in total.items()}


def assert_grid_adds_up(doc):
    """Every total is the sum of the figures it covers."""
    assert set(doc) == {"periods", "rows", "totals", "grand_total"}
    n = len(doc["periods"])
    assert n >= 1
    assert len(doc["totals"]) == n
    for row in doc["rows"]:
        assert set(row) == {"owner_id", "owner_name", "cells", "total"}, row
        assert len(row["cells"]) == n
        assert row["total"] == add_cells(row["cells"]), row
    for i in range(n):
        assert doc["totals"][i] == add_cells([row["cells"][i] for row in doc["rows"]]), i
    assert doc["grand_total"] == add_cells(doc["totals"])
    assert doc["grand_total"] == add_cells([row["total"] for row in doc["rows"]])
    # The periods follow each other without gap or overlap.
    for a, b in zip(doc["periods"], doc["periods"][1:]):
        assert datetime.date.fromisoformat(a["to"]) + datetime.timedelta(days=1) == datetime.date.fromisoformat(b["from"])
    for p in doc["periods"]:
        assert p["from"] <= p["to"]


def cell(won_count=0, won_value="0.00", open_count=0, open_value="0.00", open_weighted_value="0.00"):
    return {"won_count": won_count, "won_value": won_value, "open_count": open_count, "open_value": open_value,
            "open_weighted_value": open_weighted_value}


def row_of(doc, user):
    rows = [r for r in doc["rows"] if r["owner_id"] == user["id"]]
    assert len(rows) == 1, (user, doc["rows"])
    return rows[0]


def add_months(d, months):
    m = d.month - 1 + months
    return d.replace(year=d.year + m // 12, month=m % 12 + 1, day=1)


def fiscal_year_of(d, start_month):
    start = datetime.date(d.year if d.month >= start_month else d.year - 1, start_month, 1)
    return start, add_months(start, 12) - datetime.timedelta(days=1)


# ---------------------------------------------------------------------------
# Funnel
# ---------------------------------------------------------------------------

def is_stage(status):
    """An active status of the open funnel (not one that makes deals won or lost)."""
    return status["active"] and status["probability"] not in (0, 100)


def test_funnel_counts_the_open_deals_of_every_open_stage(admin, deals, statuses):
    owner, other = salesperson(admin), salesperson(admin)
    new, qualified, proposal = statuses["New"], statuses["Qualified"], statuses["Proposal"]
    gone = make_lookup(admin, "opportunity-status", probability=40)  # deactivated below
    mine = {}

    def keep(deal):
        mine.setdefault(deal["status_id"], []).append(deal)

    keep(deals.make(owner, "2026-05-01", "100.00", status=new))                 # 10 % -> 10.00
    keep(deals.make(owner, "2026-06-01", "250.50", status=new))                 # 10 % -> 25.05
    keep(deals.make(owner, "2026-06-01", "333.33", status=qualified))           # 25 % -> 83.33
    keep(deals.make(owner, "2026-07-01", "10.01", status=qualified, probability=33))  # 3.3033 -> 3.30
    keep(deals.make(owner, "2026-08-01", "1.25", status=proposal))              # 0.625 -> 0.63 (half up)
    deals.make(owner, "2026-05-01", "999.00", status=new, probability=100)      # won: not in the funnel
    deals.make(owner, "2026-05-01", "888.00", status=qualified, probability=0)  # lost: not in the funnel
    deals.make(owner, "2026-05-01", "777.00", status=new, deleted=True)         # deleted
    deals.make(owner, "2026-05-01", "666.00", status=gone)                      # its status goes inactive
    deals.make(other, "2026-05-01", "555.00", status=new)                       # someone else's
    r = admin.patch(f"/lookups/opportunity-status/{gone['id']}", {"active": False})
    assert r.status == 200, r

    doc = funnel(admin, owner_id=owner["id"])
    assert_funnel_adds_up(doc)
    active = sorted((s for s in lookup_all(admin, "opportunity-status") if is_stage(s)),
                    key=lambda s: (s["position"], s["id"]))
    assert [r["status_id"] for r in doc["data"]] == [s["id"] for s in active]
    assert gone["id"] not in [r["status_id"] for r in doc["data"]]
    assert not {statuses["Won"]["id"], statuses["Lost"]["id"]} & {r["status_id"] for r in doc["data"]}
    by_status = {r["status_id"]: r for r in doc["data"]}
    for s in active:
        row = by_status[s["id"]]
        assert row["label"] == s["label"] and row["position"] == s["position"]
        assert row["opportunities_url"] == f"/opportunities?status_id={s['id']}&outcome=open&owner_id={owner['id']}"
    assert {k: by_status[new["id"]][k] for k in ("count", "value", "weighted_value")} == \
        {"count": 2, "value": "350.50", "weighted_value": "35.05"}
    assert {k: by_status[qualified["id"]][k] for k in ("count", "value", "weighted_value")} == \
        {"count": 2, "value": "343.34", "weighted_value": "86.63"}
    assert {k: by_status[proposal["id"]][k] for k in ("count", "value", "weighted_value")} == \
        {"count": 1, "value": "1.25", "weighted_value": "0.63"}
    for s in active:
        if s["id"] not in (new["id"], qualified["id"], proposal["id"]):
            assert (by_status[s["id"]]["count"], by_status[s["id"]]["value"],
                    by_status[s["id"]]["weighted_value"]) == (0, "0.00", "0.00")
    assert doc["totals"] == {"count": 5, "value": "695.09", "weighted_value": "122.31"}

    # Each row's URL lists exactly its deals (paged two at a time).
    for row in doc["data"]:
        listed = list_all(admin, row["opportunities_url"], 2)
        assert sorted(o["id"] for o in listed) == sorted(d["id"] for d in mine.get(row["status_id"], []))


def test_funnel_close_date_window_is_inclusive(admin, deals, statuses):
    owner = salesperson(admin)
    new = statuses["New"]
    deals.make(owner, "2026-03-31", "1.00", status=new)   # the day before from
    a = deals.make(owner, "2026-04-01", "2.00", status=new)
    b = deals.make(owner, "2026-06-30", "4.00", status=new)
    deals.make(owner, "2026-07-01", "8.00", status=new)   # the day after to

    doc = funnel(admin, owner_id=owner["id"], **{"from": "2026-04-01", "to": "2026-06-30"})
    assert_funnel_adds_up(doc)
    row = next(r for r in doc["data"] if r["status_id"] == new["id"])
    assert (row["count"], row["value"], row["weighted_value"]) == (2, "6.00", "0.60")
    assert row["opportunities_url"] == (f"/opportunities?status_id={new['id']}&outcome=open&owner_id={owner['id']}"
                                        "&close_from=2026-04-01&close_to=2026-06-30")
    assert sorted(o["id"] for o in list_all(admin, row["opportunities_url"], 1)) == sorted([a["id"], b["id"]])
    assert doc["totals"] == {"count": 2, "value": "6.00", "weighted_value": "0.60"}

    # One bound alone, and a one-day window.
    only_from = funnel(admin, owner_id=owner["id"], **{"from": "2026-06-30"})
    row = next(r for r in only_from["data"] if r["status_id"] == new["id"])
    assert (row["count"], row["value"]) == (2, "12.00")
    assert row["opportunities_url"].endswith(f"&owner_id={owner['id']}&close_from=2026-06-30")
    only_to = funnel(admin, owner_id=owner["id"], to="2026-04-01")
    row = next(r for r in only_to["data"] if r["status_id"] == new["id"])
    assert (row["count"], row["value"]) == (2, "3.00")
    assert row["opportunities_url"].endswith(f"&owner_id={owner['id']}&close_to=2026-04-01")
    one_day = funnel(admin, owner_id=owner["id"], **{"from": "2026-06-30", "to": "2026-06-30"})
    assert one_day["totals"] == {"count": 1, "value": "4.00", "weighted_value": "0.40"}


def test_funnel_of_everyone_matches_the_lists_it_links_to(admin, deals, statuses, member_client):
    """Without filters the funnel covers the whole shared database; each
    row still equals what its URL lists, and a member sees the same."""
    owner = salesperson(admin)
    deals.make(owner, "2026-05-01", "12.34", status=statuses["Qualified"])
    doc = funnel(admin)
    assert_funnel_adds_up(doc)
    assert doc["totals"]["count"] >= 1
    for row in doc["data"]:
        assert row["opportunities_url"] == f"/opportunities?status_id={row['status_id']}&outcome=open"
        listed = list_all(admin, row["opportunities_url"], 500)
        assert len(listed) == row["count"]
        assert all(o["outcome"] == "open" and o["status_id"] == row["status_id"] for o in listed)
        assert sum((money(o["value"]) for o in listed), Decimal(0)) == money(row["value"])
        assert sum((money(o["weighted_value"]) for o in listed), Decimal(0)) == money(row["weighted_value"])
    assert funnel(member_client) == doc


def test_funnel_stages_are_the_statuses_neither_won_nor_lost(admin, deals, statuses):
    """A status with probability 0 or 100 is no stage (its deals are lost or
    won), whatever its label; one without a probability is. An open deal
    left in a won status with a probability of its own is in no row."""
    owner = salesperson(admin)
    closing = make_lookup(admin, "opportunity-status", probability=100)
    dropping = make_lookup(admin, "opportunity-status", probability=0)
    unweighted = make_lookup(admin, "opportunity-status")
    assert unweighted["probability"] is None
    deals.make(owner, "2026-05-01", "10.00", status=closing)                        # won
    deals.make(owner, "2026-05-01", "20.00", status=dropping)                       # lost
    kept = deals.make(owner, "2026-05-01", "30.00", status=unweighted)              # open (10 %)
    deals.make(owner, "2026-05-01", "40.00", status=statuses["Won"], probability=60)  # open, in no stage
    doc = funnel(admin, owner_id=owner["id"])
    assert_funnel_adds_up(doc)
    ids = [r["status_id"] for r in doc["data"]]
    for status in (closing, dropping, statuses["Won"], statuses["Lost"]):
        assert status["id"] not in ids
    row = next(r for r in doc["data"] if r["status_id"] == unweighted["id"])
    assert (row["count"], row["value"]) == (1, kept["value"])
    assert doc["totals"]["count"] == 1
    for status in (closing, dropping, unweighted):  # out of the way of later tests
        r = admin.patch(f"/lookups/opportunity-status/{status['id']}", {"active": False})
        assert r.status == 200, r


def test_every_funnel_link_lists_exactly_the_deals_it_counts(admin, deals, statuses):
    """Followed with the API, each row's opportunities_url lists as many
    deals as the row counts, with the same value and weighted value, for
    every combination of filters."""
    owner = salesperson(admin)
    for status in statuses.values():
        if status["active"]:
            deals.make(owner, "2026-04-15", "100.00", status=status)
            deals.make(owner, "2026-09-15", "7.77", status=status)
    deals.make(owner, "2026-04-15", "55.00", status=statuses["Won"], probability=60)
    deals.make(owner, "2026-04-15", "66.00", status=statuses["New"], deleted=True)
    for query in ({"owner_id": owner["id"]},
                  {"owner_id": owner["id"], "from": "2026-04-01", "to": "2026-06-30"},
                  {"owner_id": owner["id"], "from": "2026-09-15"},
                  {"owner_id": owner["id"], "to": "2026-04-15"}):
        doc = funnel(admin, **query)
        assert_funnel_adds_up(doc)
        assert doc["totals"]["count"] > 0, query
        for row in doc["data"]:
            listed = list_all(admin, row["opportunities_url"], 3)
            assert len(listed) == row["count"], (query, row)
            assert sum((money(o["value"]) for o in listed), Decimal(0)) == money(row["value"]), (query, row)
            assert sum((money(o["weighted_value"]) for o in listed), Decimal(0)) == \
                money(row["weighted_value"]), (query, row)


def test_funnel_of_a_salesperson_without_deals_is_all_zeros(admin):
    owner = salesperson(admin, active=False)  # inactive users can still be looked at
    doc = funnel(admin, owner_id=owner["id"], **{"from": "2026-01-01", "to": "2026-12-31"})
    assert_funnel_adds_up(doc)
    assert doc["data"], "the seeded statuses are active"
    assert all((r["count"], r["value"], r["weighted_value"]) == (0, "0.00", "0.00") for r in doc["data"])
    assert doc["totals"] == {"count": 0, "value": "0.00", "weighted_value": "0.00"}


@pytest.mark.parametrize("query,field", [
    ("owner_id=abc", "owner_id"),
    ("owner_id=0", "owner_id"),
    ("owner_id=-3", "owner_id"),
    ("owner_id=", "owner_id"),
    ("from=2026-13-01", "from"),
    ("from=2026-02-30", "from"),
    ("to=yesterday", "to"),
    ("to=2026-1-1", "to"),
    ("owner=3", "owner"),
    ("close_from=2026-01-01", "close_from"),
    ("status_id=1", "status_id"),
    ("from=2026-01-01&from=2026-02-01", "from"),
])
def test_funnel_bad_query_is_400(admin, query, field):
    assert_problem(admin.get(f"/dashboard/funnel?{query}"), 400, field)


def test_funnel_refuses_a_window_that_ends_before_it_starts(admin):
    doc = assert_problem(admin.get("/dashboard/funnel?from=2026-05-02&to=2026-05-01"), 422, "to")
    assert doc["type"] == "/problems/validation"


def test_funnel_refuses_an_unknown_owner_and_lists_every_error(admin):
    doc = assert_problem(admin.get(f"/dashboard/funnel?owner_id={NO_SUCH_ID}"), 422, "owner_id")
    assert str(NO_SUCH_ID) in doc["errors"][0]["message"]
    doc = assert_problem(admin.get(f"/dashboard/funnel?owner_id={NO_SUCH_ID}&from=2026-05-02&to=2026-05-01"), 422)
    assert sorted(e["field"] for e in doc["errors"]) == ["owner_id", "to"]


def test_dashboard_needs_a_token_and_only_reads(anon, admin):
    assert_problem(anon.get("/dashboard/funnel"), 401)
    assert_problem(anon.get("/dashboard/sales-grid"), 401)
    for path in ("/dashboard/funnel", "/dashboard/sales-grid"):
        r = admin.post(path, {})
        assert_problem(r, 405)
        assert r.headers["allow"] == "GET"


# ---------------------------------------------------------------------------
# Sales grid
# ---------------------------------------------------------------------------

@pytest.fixture
def april_year(admin):
    """A fiscal year starting in April (Q1 = Apr-Jun)."""
    with settings(admin, fiscal_year_start_month=4) as s:
        yield s


@pytest.fixture
def team(admin, deals):
    """Three salespeople named so that they sort A, B, C, and their deals
    around the fiscal year 2026 (April 2026 - March 2027)."""
    tag = unique("Grid")
    a, b, c = (salesperson(admin, name=f"{tag} {x}") for x in "ABC")
    deals.make(a, "2026-04-01", "1000.00", probability=100)   # won, 2026-Q1 / 2026-04
    deals.make(a, "2026-06-30", "500.50", probability=100)    # won, 2026-Q1 / 2026-06
    deals.make(a, "2026-07-01", "200.00", probability=25)     # open 50.00, 2026-Q2 / 2026-07
    deals.make(a, "2027-03-31", "99.99", probability=10)      # open 9.999 -> 10.00, 2026-Q4 / 2027-03
    deals.make(a, "2026-05-05", "700.00", probability=0)      # lost: ignored
    deals.make(a, "2026-05-05", "300.00", probability=100, deleted=True)  # deleted: ignored
    deals.make(a, "2026-03-31", "11.00", probability=100)     # before the fiscal year
    deals.make(a, "2027-04-01", "13.00", probability=50)      # after it
    deals.make(b, "2026-10-15", "1.25", probability=50)       # open 0.625 -> 0.63, 2026-Q3 / 2026-10
    deals.make(b, "2027-01-01", "250.00", probability=100)    # won, 2026-Q4 / 2027-01
    deals.make(b, "2026-10-31", "0.05", probability=50)       # open 0.025 -> 0.03, 2026-Q3 / 2026-10
    deals.make(c, "2026-08-08", "40.00", probability=0)       # lost only
    return a, b, c


def test_sales_grid_by_fiscal_quarter(admin, april_year, team):
    a, b, c = team
    doc = grid(admin, period="quarter", owner_ids=[c["id"], a["id"], b["id"]],
               **{"from": "2026-04-01", "to": "2027-03-31"})
    assert_grid_adds_up(doc)
    assert doc["periods"] == [
        {"key": "2026-Q1", "from": "2026-04-01", "to": "2026-06-30"},
        {"key": "2026-Q2", "from": "2026-07-01", "to": "2026-09-30"},
        {"key": "2026-Q3", "from": "2026-10-01", "to": "2026-12-31"},
        {"key": "2026-Q4", "from": "2027-01-01", "to": "2027-03-31"},
    ]
    assert [(r["owner_id"], r["owner_name"]) for r in doc["rows"]] == [(u["id"], u["name"]) for u in (a, b, c)]
    assert doc["rows"][0]["cells"] == [
        cell(won_count=2, won_value="1500.50"),
        cell(open_count=1, open_value="200.00", open_weighted_value="50.00"),
        ZERO,
        cell(open_count=1, open_value="99.99", open_weighted_value="10.00"),
    ]
    assert doc["rows"][0]["total"] == cell(2, "1500.50", 2, "299.99", "60.00")
    assert doc["rows"][1]["cells"] == [ZERO, ZERO, cell(open_count=2, open_value="1.30", open_weighted_value="0.66"),
                                       cell(won_count=1, won_value="250.00")]
    assert doc["rows"][1]["total"] == cell(1, "250.00", 2, "1.30", "0.66")
    assert doc["rows"][2]["cells"] == [ZERO] * 4
    assert doc["rows"][2]["total"] == ZERO
    assert doc["totals"] == [cell(2, "1500.50"), cell(0, "0.00", 1, "200.00", "50.00"), cell(0, "0.00", 2, "1.30", "0.66"),
                             cell(1, "250.00", 1, "99.99", "10.00")]
    assert doc["grand_total"] == cell(3, "1750.50", 4, "301.29", "60.66")


def test_sales_grid_by_month(admin, april_year, team):
    a, b, _ = team
    doc = grid(admin, period="month", owner_ids=f"{a['id']},{b['id']}", **{"from": "2026-04-01", "to": "2027-03-31"})
    assert_grid_adds_up(doc)
    keys = ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12",
            "2027-01", "2027-02", "2027-03"]
    assert [p["key"] for p in doc["periods"]] == keys
    assert doc["periods"][10] == {"key": "2027-02", "from": "2027-02-01", "to": "2027-02-28"}
    cells_a = dict(zip(keys, doc["rows"][0]["cells"]))
    cells_b = dict(zip(keys, doc["rows"][1]["cells"]))
    assert cells_a == {**{k: ZERO for k in keys}, "2026-04": cell(1, "1000.00"), "2026-06": cell(1, "500.50"),
                       "2026-07": cell(0, "0.00", 1, "200.00", "50.00"), "2027-03": cell(0, "0.00", 1, "99.99", "10.00")}
    assert cells_b == {**{k: ZERO for k in keys}, "2026-10": cell(0, "0.00", 2, "1.30", "0.66"),
                       "2027-01": cell(1, "250.00")}
    assert doc["grand_total"] == cell(3, "1750.50", 4, "301.29", "60.66")


def test_sales_grid_window_need_not_be_whole_periods(admin, april_year, team):
    """Periods overlapping the window are listed with the dates they cover;
    a deal counts when its close date is inside the window."""
    a, b, _ = team
    doc = grid(admin, period="quarter", owner_ids=[a["id"], b["id"]], **{"from": "2026-06-30", "to": "2026-10-15"})
    assert_grid_adds_up(doc)
    assert doc["periods"] == [
        {"key": "2026-Q1", "from": "2026-06-30", "to": "2026-06-30"},
        {"key": "2026-Q2", "from": "2026-07-01", "to": "2026-09-30"},
        {"key": "2026-Q3", "from": "2026-10-01", "to": "2026-10-15"},
    ]
    assert doc["rows"][0]["cells"] == [cell(1, "500.50"), cell(0, "0.00", 1, "200.00", "50.00"), ZERO]
    assert doc["rows"][1]["cells"] == [ZERO, ZERO, cell(0, "0.00", 1, "1.25", "0.63")]  # not the 0.05 of 10-31
    one_day = grid(admin, period="month", owner_ids=[a["id"]], **{"from": "2027-03-31", "to": "2027-03-31"})
    assert one_day["periods"] == [{"key": "2027-03", "from": "2027-03-31", "to": "2027-03-31"}]
    assert one_day["grand_total"] == cell(0, "0.00", 1, "99.99", "10.00")


def test_sales_grid_quarters_follow_the_fiscal_start_month(admin, deals):
    owner = salesperson(admin)
    deals.make(owner, "2026-01-31", "3.00", probability=100)
    deals.make(owner, "2026-02-01", "5.00", probability=100)
    window = {"from": "2026-01-01", "to": "2026-12-31"}
    with settings(admin, fiscal_year_start_month=1):
        doc = grid(admin, period="quarter", owner_ids=[owner["id"]], **window)
        assert [p["key"] for p in doc["periods"]] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
        assert doc["rows"][0]["cells"][0] == cell(2, "8.00")
    with settings(admin, fiscal_year_start_month=2):  # Q1 = Feb-Apr, Q4 = Nov-Jan
        doc = grid(admin, period="quarter", owner_ids=[owner["id"]], **window)
        assert_grid_adds_up(doc)
        assert doc["periods"] == [
            {"key": "2025-Q4", "from": "2026-01-01", "to": "2026-01-31"},
            {"key": "2026-Q1", "from": "2026-02-01", "to": "2026-04-30"},
            {"key": "2026-Q2", "from": "2026-05-01", "to": "2026-07-31"},
            {"key": "2026-Q3", "from": "2026-08-01", "to": "2026-10-31"},
            {"key": "2026-Q4", "from": "2026-11-01", "to": "2026-12-31"},
        ]
        assert doc["rows"][0]["cells"][:2] == [cell(1, "3.00"), cell(1, "5.00")]
    with settings(admin, fiscal_year_start_month=12):  # Q1 = Dec-Feb, labelled by the December's year
        doc = grid(admin, period="quarter", owner_ids=[owner["id"]], **window)
        assert [p["key"] for p in doc["periods"]] == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"]
        assert doc["periods"][-1] == {"key": "2026-Q1", "from": "2026-12-01", "to": "2026-12-31"}
        assert doc["rows"][0]["cells"][0] == cell(2, "8.00")


def test_sales_grid_defaults_to_the_settings_period_and_the_current_fiscal_year(admin, deals):
    owner = salesperson(admin)
    today = today_utc()
    deals.make(owner, today.isoformat(), "42.00", probability=100)
    for start_month in (4, 1, 11):
        year_from, year_to = fiscal_year_of(today, start_month)
        with settings(admin, fiscal_year_start_month=start_month, sales_grid_period="quarter"):
            doc = grid(admin, owner_ids=owner["id"])
            assert_grid_adds_up(doc)
            assert len(doc["periods"]) == 4
            assert doc["periods"][0]["from"] == year_from.isoformat()
            assert doc["periods"][-1]["to"] == year_to.isoformat()
            assert [p["key"] for p in doc["periods"]] == [f"{year_from.year}-Q{i}" for i in (1, 2, 3, 4)]
            assert doc["grand_total"] == cell(1, "42.00")
            # An explicit period wins over the setting.
            assert len(grid(admin, owner_ids=owner["id"], period="month")["periods"]) == 12
        with settings(admin, fiscal_year_start_month=start_month, sales_grid_period="month"):
            doc = grid(admin, owner_ids=owner["id"])
            assert_grid_adds_up(doc)
            assert [p["key"] for p in doc["periods"]] == [add_months(year_from, i).strftime("%Y-%m") for i in range(12)]
            assert doc["periods"][0]["from"] == year_from.isoformat()
            assert doc["periods"][-1]["to"] == year_to.isoformat()
            assert doc["grand_total"] == cell(1, "42.00")


def test_sales_grid_one_bound_takes_the_other_from_its_fiscal_year(admin, april_year):
    owner = salesperson(admin)
    doc = grid(admin, period="quarter", owner_ids=owner["id"], **{"from": "2026-05-15"})
    assert doc["periods"][0] == {"key": "2026-Q1", "from": "2026-05-15", "to": "2026-06-30"}
    assert doc["periods"][-1] == {"key": "2026-Q4", "from": "2027-01-01", "to": "2027-03-31"}
    doc = grid(admin, period="month", owner_ids=owner["id"], to="2026-05-15")
    assert [p["key"] for p in doc["periods"]] == ["2026-04", "2026-05"]
    assert doc["periods"][-1] == {"key": "2026-05", "from": "2026-05-01", "to": "2026-05-15"}
    doc = grid(admin, period="month", owner_ids=owner["id"], to="2026-03-31")
    assert len(doc["periods"]) == 12 and doc["periods"][0]["from"] == "2025-04-01"


def test_sales_grid_rows_are_active_users_and_anyone_with_figures(admin, deals):
    """Without owner_ids: every active user (zeros when idle), and inactive
    users only when they have figures in the window; lost deals are no
    figures. The whole grid still adds up."""
    window = {"from": "2031-01-01", "to": "2031-12-31", "period": "quarter"}
    idle = salesperson(admin)
    gone_with_figures = salesperson(admin)
    gone_idle = salesperson(admin, active=False)
    gone_lost_only = salesperson(admin)
    deals.make(gone_with_figures, "2031-02-02", "7.00", probability=100)
    deals.make(gone_lost_only, "2031-02-02", "9.00", probability=0)
    deactivate(admin, gone_with_figures)
    deactivate(admin, gone_lost_only)
    doc = grid(admin, **window)
    assert_grid_adds_up(doc)
    ids = [r["owner_id"] for r in doc["rows"]]
    assert len(ids) == len(set(ids))
    assert row_of(doc, idle)["cells"] == [ZERO] * len(doc["periods"])
    assert row_of(doc, gone_with_figures)["total"] == cell(1, "7.00")
    assert gone_idle["id"] not in ids
    assert gone_lost_only["id"] not in ids
    active = set()
    path = "/users?limit=500"
    while path:
        page = get_json(admin, path)
        active |= {u["id"] for u in page["data"] if u["active"]}
        path = f"/users?limit=500&cursor={page['next_cursor']}" if page["next_cursor"] else None
    assert active <= set(ids)
    # Named explicitly, inactive and idle users get their row of zeros.
    doc = grid(admin, owner_ids=[gone_idle["id"], gone_lost_only["id"]], **window)
    assert {r["owner_id"] for r in doc["rows"]} == {gone_idle["id"], gone_lost_only["id"]}
    assert doc["grand_total"] == ZERO


def test_sales_grid_owner_ids_may_repeat_and_empty_means_everyone(admin, deals):
    owner = salesperson(admin)
    deals.make(owner, "2032-03-03", "5.00", probability=100)
    window = {"from": "2032-01-01", "to": "2032-12-31", "period": "month"}
    doc = grid(admin, owner_ids=f"{owner['id']},{owner['id']}", **window)
    assert [r["owner_id"] for r in doc["rows"]] == [owner["id"]]
    assert doc["grand_total"] == cell(1, "5.00")
    everyone = grid(admin, owner_ids="", **window)
    assert everyone == grid(admin, **window)
    assert row_of(everyone, owner)["total"] == cell(1, "5.00")


def test_sales_grid_of_everyone_matches_the_opportunity_lists(admin, deals):
    """Whatever else is in the database, the grid's grand total equals what
    the list endpoint shows for the same window."""
    owner = salesperson(admin)
    deals.make(owner, "2033-06-06", "6.66", probability=60)
    window = {"from": "2033-01-01", "to": "2033-12-31"}
    doc = grid(admin, period="quarter", **window)
    assert_grid_adds_up(doc)
    won = list_all(admin, "/opportunities?outcome=won&close_from=2033-01-01&close_to=2033-12-31", 500)
    open_ = list_all(admin, "/opportunities?outcome=open&close_from=2033-01-01&close_to=2033-12-31", 500)
    assert doc["grand_total"] == {
        "won_count": len(won), "won_value": f"{sum((money(o['value']) for o in won), Decimal(0)):.2f}",
        "open_count": len(open_), "open_value": f"{sum((money(o['value']) for o in open_), Decimal(0)):.2f}",
        "open_weighted_value": f"{sum((money(o['weighted_value']) for o in open_), Decimal(0)):.2f}",
    }


def test_sales_grid_window_limits(admin):
    owner = salesperson(admin)
    ok = grid(admin, period="month", owner_ids=owner["id"], **{"from": "2026-01-01", "to": "2030-12-31"})
    assert len(ok["periods"]) == 60
    assert_grid_adds_up(ok)
    ok = grid(admin, period="month", owner_ids=owner["id"], **{"from": "2026-01-15", "to": "2031-01-14"})
    assert len(ok["periods"]) == 61
    doc = assert_problem(admin.get(f"/dashboard/sales-grid?owner_ids={owner['id']}&from=2026-01-01&to=2031-01-01"),
                         422, "to")
    assert doc["type"] == "/problems/validation"
    assert "5 years" in doc["errors"][0]["message"]
    assert_problem(admin.get("/dashboard/sales-grid?from=2026-05-02&to=2026-05-01"), 422, "to")
    # With one bound given, the other (from the fiscal year) never breaks a rule.
    assert grid(admin, owner_ids=owner["id"], to="2026-01-01")["periods"]


def test_sales_grid_at_the_ends_of_the_calendar(admin):
    """A fiscal year may start before 0001-01-01 or end after 9999-12-31;
    the grid still shows only dates the API can write."""
    owner = salesperson(admin)
    with settings(admin, fiscal_year_start_month=2):
        doc = grid(admin, period="quarter", owner_ids=owner["id"], **{"from": "0001-01-01", "to": "0001-12-31"})
        assert_grid_adds_up(doc)
        assert len(doc["periods"]) == 5
        assert (doc["periods"][0]["from"], doc["periods"][0]["to"]) == ("0001-01-01", "0001-01-31")
        assert doc["periods"][1] == {"key": "0001-Q1", "from": "0001-02-01", "to": "0001-04-30"}
        assert doc["periods"][-1] == {"key": "0001-Q4", "from": "0001-11-01", "to": "0001-12-31"}
        doc = grid(admin, period="quarter", owner_ids=owner["id"], to="0001-01-31")
        assert [(p["from"], p["to"]) for p in doc["periods"]] == [("0001-01-01", "0001-01-31")]
        doc = grid(admin, period="month", owner_ids=owner["id"], **{"from": "9999-06-01"})
        assert doc["periods"][-1] == {"key": "9999-12", "from": "9999-12-01", "to": "9999-12-31"}
        doc = grid(admin, period="quarter", owner_ids=owner["id"], **{"from": "9999-12-31", "to": "9999-12-31"})
        assert doc["periods"] == [{"key": "9999-Q4", "from": "9999-12-31", "to": "9999-12-31"}]


def test_sales_grid_keys_the_fiscal_year_before_year_1_as_0000(admin):
    owner = salesperson(admin)
    with settings(admin, fiscal_year_start_month=2):
        doc = grid(admin, period="quarter", owner_ids=owner["id"], **{"from": "0001-01-01", "to": "0001-01-31"})
        assert doc["periods"] == [{"key": "0000-Q4", "from": "0001-01-01", "to": "0001-01-31"}]


@pytest.mark.parametrize("query,field", [
    ("period=week", "period"),
    ("period=", "period"),
    ("period=Month", "period"),
    ("from=2026-02-29", "from"),
    ("to=2026-12-32", "to"),
    ("from=20260101", "from"),
    ("owner_ids=abc", "owner_ids"),
    ("owner_ids=1,,2", "owner_ids"),
    ("owner_ids=1,", "owner_ids"),
    ("owner_ids=,1", "owner_ids"),
    ("owner_ids=0", "owner_ids"),
    ("owner_ids=1%2C%202", "owner_ids"),
    ("owner_ids=99999999999999999999", "owner_ids"),
    ("owner_ids=" + ",".join(str(i) for i in range(1, 102)), "owner_ids"),
    ("owner_id=1", "owner_id"),
    ("group_by=month", "group_by"),
    ("period=month&period=quarter", "period"),
])
def test_sales_grid_bad_query_is_400(admin, query, field):
    assert_problem(admin.get(f"/dashboard/sales-grid?{query}"), 400, field)


def test_sales_grid_reports_every_invalid_field(admin):
    owner = salesperson(admin)
    doc = assert_problem(admin.get(f"/dashboard/sales-grid?owner_ids={owner['id']},{NO_SUCH_ID}"), 422, "owner_ids")
    assert str(NO_SUCH_ID) in doc["errors"][0]["message"]
    doc = assert_problem(admin.get(f"/dashboard/sales-grid?owner_ids={NO_SUCH_ID}&from=2026-01-01&to=2040-01-01"), 422)
    assert sorted(e["field"] for e in doc["errors"]) == ["owner_ids", "to"]
    # A hundred ids is the most a grid takes.
    ids = ",".join([str(owner["id"])] * 100)
    assert grid(admin, owner_ids=ids, **{"from": "2026-01-01", "to": "2026-01-31"})["rows"][0]["owner_id"] == owner["id"]


def test_sales_grid_is_the_same_for_members(admin, member_client, april_year, team):
    a, b, c = team
    params = {"period": "quarter", "owner_ids": f"{a['id']},{b['id']},{c['id']}", "from": "2026-04-01",
              "to": "2027-03-31"}
    assert grid(member_client, **params) == grid(admin, **params)


# ---------------------------------------------------------------------------
# How the documents are sent
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("path,bad_query,field", [
    ("/dashboard/funnel", f"owner_id={NO_SUCH_ID}", "owner_id"),
    ("/dashboard/sales-grid", "from=2026-02-01&to=2026-01-01", "to"),
])
def test_dashboard_documents_come_as_a_chunked_body_made_after_the_check(admin, path, bad_query, field):
    """As the forecast results: the request is checked at once (every 4xx is
    a plain problem reply), then the document is computed off the HTTP
    thread and sent as a chunked body."""
    r = admin.get(path)
    assert r.status == 200, r
    assert r.content_type == JSON
    assert r.headers.get("transfer-encoding") == "chunked", r.headers
    assert "content-length" not in r.headers
    assert r.json["totals"]
    r = admin.get(f"{path}?{bad_query}")
    assert_problem(r, 422, field)
    assert r.headers.get("transfer-encoding") is None
