"""The monthly opportunity totals the reports and the dashboard read
(db/functions/totals.sql): after every kind of write, over the API and in plain
SQL, the totals kept by the writing transactions (folded totals plus the
changes not folded yet) equal a full recount of the deals, and so do the
folded totals alone after a fold. The figures the reports compute from them
are tested against hand-computed ones in test_forecast_reports.py and
test_dashboard.py; here the reports are also checked on windows that start
and end inside a month (totals for the whole months, deals for the days)."""
import os
import shutil
import subprocess
import threading
import time
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from conftest import Client, assert_problem, make_account, make_user, unique

pytestmark = pytest.mark.skipif("DATABASE_URL" not in os.environ or shutil.which("psql") is None,
                                reason="needs psql and DATABASE_URL (set by scripts/test-api.sh)")


def psql(sql):
    out = subprocess.run(["psql", os.environ["DATABASE_URL"], "-XqtA", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def assert_totals_match_a_recount():
    mismatches = psql("SELECT * FROM opportunity_totals_mismatches()")
    assert mismatches == "", "kept totals differ from a recount:\n" + mismatches


def fold_and_check():
    """Folds the pending changes (as the server does every second), then the
    folded totals alone must equal the recount and hold no empty total."""
    psql("SELECT opportunity_totals_compact()")
    assert_totals_match_a_recount()
    assert psql("SELECT count(*) FROM opportunity_totals WHERE deals = 0") == "0"


@pytest.fixture(scope="module")
def world(admin):
    statuses = {s["label"]: s for s in admin.get("/lookups/opportunity-status?limit=100").json["data"]}
    forecasts = admin.get("/lookups/opportunity-forecast?active=true&limit=100").json["data"]
    r = admin.post("/lookups/product", {"label": unique("Totals product"), "unit_price": "12.35"})
    assert r.status == 201, r
    owners = [make_user(admin) for _ in range(2)]
    return {"statuses": statuses, "forecasts": forecasts, "product": r.json, "owners": owners}


def new_deal(client, **fields):
    body = {"account_id": make_account(client)["id"], "name": unique("Deal")}
    body.update(fields)
    r = client.post("/opportunities", body)
    assert r.status == 201, r
    return r.json


def patch(client, deal, **fields):
    r = client.patch(f"/opportunities/{deal['id']}", fields, headers={"If-Match": f'"{deal["version"]}"'})
    assert r.status == 200, r
    return r.json


def test_every_kind_of_api_write_keeps_the_totals_exact(admin, world):
    owner_a, client_a = world["owners"][0]
    owner_b, _ = world["owners"][1]
    product = world["product"]
    statuses = world["statuses"]
    assert_totals_match_a_recount()

    deal = new_deal(client_a, close_date="2031-03-14",
                    lines=[{"product_id": product["id"], "quantity": 2.5},
                           {"product_id": product["id"], "unit_price": "0.05", "quantity": 1.5}])
    assert deal["value"] == "30.96"  # 30.875 -> 30.88, 0.075 -> 0.08
    assert_totals_match_a_recount()
    bare = new_deal(client_a, close_date="2031-03-31")
    other_forecast = next(f for f in world["forecasts"] if f["id"] != deal["forecast_id"])
    assert_totals_match_a_recount()

    # Each field a total is keyed or summed by, one PATCH at a time.
    for fields in ({"owner_id": owner_b["id"]}, {"close_date": "2031-04-01"},
                   {"status_id": statuses["Negotiation"]["id"]}, {"probability": 35},
                   {"forecast_id": other_forecast["id"]}, {"name": unique("Renamed")},
                   {"status_id": statuses["Won"]["id"]}, {"status_id": statuses["Lost"]["id"]},
                   {"owner_id": owner_a["id"], "close_date": "2031-02-28", "probability": 60}):
        deal = patch(admin, deal, **fields)
        assert_totals_match_a_recount()

    # Lines: add, change, replace all, delete.
    r = admin.post(f"/opportunities/{deal['id']}/lines", {"product_id": product["id"], "quantity": 3})
    assert r.status == 201, r
    line = r.json
    assert_totals_match_a_recount()
    r = admin.patch(f"/opportunities/{deal['id']}/lines/{line['id']}", {"unit_price": "99.99"},
                    headers={"If-Match": f'"{line["version"]}"'})
    assert r.status == 200, r
    assert_totals_match_a_recount()
    r = admin.put(f"/opportunities/{deal['id']}/lines",
                  [{"product_id": product["id"], "quantity": 7}, {"product_id": product["id"]}])
    assert r.status == 200, r
    assert_totals_match_a_recount()
    lines = admin.get(f"/opportunities/{deal['id']}/lines").json["data"]
    r = admin.delete(f"/opportunities/{deal['id']}/lines/{lines[0]['id']}")
    assert r.status == 204, r
    assert_totals_match_a_recount()

    # Upsert by external id: created, then changed.
    external_id = unique("ext")
    account = make_account(admin)
    r = admin.put(f"/opportunities/by-external-id/{external_id}",
                  {"account_id": account["id"], "name": "Synced", "close_date": "2031-05-05"})
    assert r.status == 201, r
    assert_totals_match_a_recount()
    r = admin.put(f"/opportunities/by-external-id/{external_id}",
                  {"account_id": account["id"], "name": "Synced", "close_date": "2031-06-06", "probability": 90})
    assert r.status == 200, r
    assert_totals_match_a_recount()

    # Deletes.
    for gone in (deal, bare, r.json):
        assert admin.delete(f"/opportunities/{gone['id']}").status == 204
        assert_totals_match_a_recount()
    fold_and_check()


def test_refused_writes_leave_the_totals_as_they_were(admin, world):
    product = world["product"]
    deal = new_deal(admin, close_date="2031-07-07", lines=[{"product_id": product["id"]}])
    fold_and_check()
    before = psql("SELECT count(*), sum(deals), sum(value) FROM opportunity_totals_between('-infinity', 'infinity')")
    # The line limit is checked after the value trigger ran: all rolled back.
    r = admin.put(f"/opportunities/{deal['id']}/lines", [{"product_id": product["id"]}] * 1001)
    assert_problem(r, 422, "lines")
    r = admin.put(f"/opportunities/{deal['id']}/lines",
                  [{"product_id": product["id"], "quantity": 5}, {"product_id": 999999999}])
    assert_problem(r, 422, "[1].product_id")
    r = admin.patch(f"/opportunities/{deal['id']}", {"close_date": "2032-01-01"}, headers={"If-Match": '"999"'})
    assert r.status == 412, r
    after = psql("SELECT count(*), sum(deals), sum(value) FROM opportunity_totals_between('-infinity', 'infinity')")
    assert after == before
    assert_totals_match_a_recount()


def test_concurrent_writers_of_the_same_total_all_count(admin, world):
    """Writers of one owner and month append changes instead of updating a
    shared total, so none waits for another and none is lost."""
    owner, client = world["owners"][1]
    product = world["product"]
    deal = new_deal(client, close_date="2031-09-15")
    errors = []

    def post_deal():
        try:
            new_deal(Client(client.token), close_date="2031-09-20", lines=[{"product_id": product["id"]}])
        except AssertionError as e:  # reported below: a thread cannot fail the test
            errors.append(e)

    def add_line():
        r = Client(client.token).post(f"/opportunities/{deal['id']}/lines",
                                      {"product_id": product["id"], "quantity": 1.5})
        if r.status != 201:
            errors.append(r)

    threads = [threading.Thread(target=post_deal) for _ in range(10)]
    threads += [threading.Thread(target=add_line) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert_totals_match_a_recount()
    doc = Client(client.token).get("/dashboard/sales-grid?" + urlencode(
        {"from": "2031-09-01", "to": "2031-09-30", "owner_ids": owner["id"], "period": "month"})).json
    # 11 open deals: ten at 12.35 and one with ten lines of 1.5 x 12.35 = 18.525 -> 18.53.
    assert doc["grand_total"]["open_count"] == 11
    assert Decimal(doc["grand_total"]["open_value"]) == Decimal("123.50") + Decimal("185.30")
    fold_and_check()


def test_plain_sql_writes_keep_the_totals_exact(admin, world):
    """The triggers see every write, not only the API's: bulk updates and
    deletes in one statement each, then a hard delete."""
    owner, client = world["owners"][0]
    deals = [new_deal(client, close_date=f"2031-10-{day:02d}", lines=[{"product_id": world["product"]["id"]}])
             for day in (1, 15, 31)]
    ids = ",".join(str(d["id"]) for d in deals)
    psql(f"UPDATE opportunities SET close_date = close_date + 20, probability = 40 WHERE id IN ({ids})")
    assert_totals_match_a_recount()
    psql(f"UPDATE opportunities SET deleted_at = now() WHERE id = {deals[0]['id']}")
    assert_totals_match_a_recount()
    psql(f"UPDATE opportunities SET deleted_at = NULL WHERE id = {deals[0]['id']}")
    assert_totals_match_a_recount()
    psql(f"UPDATE opportunity_lines SET quantity = quantity * 3 WHERE opportunity_id IN ({ids})")
    assert_totals_match_a_recount()
    psql(f"DELETE FROM opportunity_lines WHERE opportunity_id = {deals[1]['id']}")
    assert_totals_match_a_recount()
    psql(f"INSERT INTO opportunities (account_id, name, owner_id, status_id, close_date, forecast_id, probability,"
         f" created_by) SELECT account_id, name || ' copy', owner_id, status_id, close_date + 40, forecast_id, 75,"
         f" created_by FROM opportunities WHERE id IN ({ids})")
    assert_totals_match_a_recount()
    fold_and_check()


def test_a_total_emptied_by_its_last_deal_is_removed_when_folded(admin, world):
    owner, client = world["owners"][0]
    deal = new_deal(client, close_date="2033-01-09")
    fold_and_check()
    key = f"close_month = '2033-01-01' AND owner_id = {owner['id']}"
    assert psql(f"SELECT deals FROM opportunity_totals WHERE {key}") == "1"
    assert client.delete(f"/opportunities/{deal['id']}").status == 204
    fold_and_check()
    assert psql(f"SELECT count(*) FROM opportunity_totals WHERE {key}") == "0"


def test_reports_count_the_days_of_partial_months_and_unfolded_changes(admin, world):
    """A window from the 15th to the 10th: the deals of the edge days come
    from the deals themselves, the months between from the totals, and a
    deal written a moment ago is counted before any fold."""
    owner, client = world["owners"][1]
    dates = ["2032-03-14", "2032-03-15", "2032-03-31", "2032-04-01", "2032-04-30",
             "2032-05-01", "2032-05-10", "2032-05-11"]
    for d in dates:
        new_deal(client, close_date=d, lines=[{"product_id": world["product"]["id"]}])
    fold_and_check()
    late = new_deal(client, close_date="2032-04-20", lines=[{"product_id": world["product"]["id"]}])

    def report(frm, to):
        r = client.get("/reports/forecast?" + urlencode(
            {"from": frm, "to": to, "owner_ids": owner["id"], "outcomes": "open", "forecast_ids": late["forecast_id"]}))
        assert r.status == 200, r
        return [c["count"] for c in r.json["totals"]], r.json["grand_total"]["count"]

    assert report("2032-03-15", "2032-05-10") == ([2, 3, 2], 7)
    assert report("2032-03-16", "2032-03-31") == ([1], 1)
    assert report("2032-04-01", "2032-04-30") == ([3], 3)
    assert report("2032-04-02", "2032-05-01") == ([2, 1], 3)
    assert report("2032-03-01", "2032-05-31") == ([3, 3, 3], 9)

    def funnel_count(frm, to):
        r = client.get("/dashboard/funnel?" + urlencode({"owner_id": owner["id"], "from": frm, "to": to}))
        assert r.status == 200, r
        return r.json["totals"]["count"]

    assert funnel_count("2032-03-15", "2032-05-10") == 7
    assert funnel_count("2032-04-21", "2032-04-29") == 0


def test_the_server_folds_the_changes_by_itself(admin, world):
    """The server folds pending changes into the totals about once a second:
    after a write the changes table empties without anyone asking."""
    owner, client = world["owners"][0]
    new_deal(client, close_date="2033-02-02", lines=[{"product_id": world["product"]["id"]}])
    deadline = time.monotonic() + 10
    while psql("SELECT count(*) FROM opportunity_total_changes") != "0":
        assert time.monotonic() < deadline, "the server did not fold the changes within 10 s"
        time.sleep(0.2)
    assert_totals_match_a_recount()
    assert psql(f"SELECT deals FROM opportunity_totals WHERE close_month = '2033-02-01' AND owner_id = {owner['id']}") == "1"
