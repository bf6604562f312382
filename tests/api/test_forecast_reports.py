"""Forecast reports over real HTTP (SPEC 4.1, 7): saved definitions (CRUD,
validation, window rules, visibility per verb), running them and unsaved
definitions given as query parameters (figures hand-computed from small
datasets, periods, relative windows, fiscal quarters), and the CSV and XLSX
exports. Figures are always filtered by the owners a test creates, so the
rest of the shared database never shows up in them."""
import csv
import datetime
import io
import os
import re
import shutil
import subprocess
import uuid
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from conftest import assert_problem, make_account, make_user, unique

JSON = "application/json; charset=utf-8"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_KEYS = {"id", "name", "owner_id", "shared", "owner_ids", "from", "to", "period", "status_ids", "forecast_ids",
               "outcomes", "group_by", "split_by", "results_url", "created_at", "updated_at", "version"}
MONEY = re.compile(r"^\d+\.\d\d$")
PERIODS = ["this_month", "this_quarter", "this_year", "next_quarter", "last_12_months", "next_12_months"]
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS = {"m": SHEET_NS}


# ---------------------------------------------------------------------------
# Helpers private to this file
# ---------------------------------------------------------------------------

def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def years_before(d, n):
    """d minus n years; 29 February becomes 28 February (PostgreSQL's rule)."""
    try:
        return d.replace(year=d.year - n)
    except ValueError:
        return d.replace(year=d.year - n, day=28)


def month_start(d, offset=0):
    years, month = divmod(d.month - 1 + offset, 12)
    return datetime.date(d.year + years, month + 1, 1)


def month_end(d, offset=0):
    return month_start(d, offset + 1) - datetime.timedelta(days=1)


def lookup_all(client, table):
    items, path = [], f"/lookups/{table}?limit=500"
    while True:
        r = client.get(path)
        assert r.status == 200, r
        items += r.json["data"]
        if not r.json["next_cursor"]:
            return items
        path = f"/lookups/{table}?limit=500&cursor={r.json['next_cursor']}"


def by_label(client, table):
    return {item["label"]: item for item in lookup_all(client, table)}


def query(**params):
    """A query string; lists become comma-separated."""
    return urlencode({k: ",".join(str(x) for x in v) if isinstance(v, (list, tuple)) else v
                      for k, v in params.items()})


def run(client, **params):
    return client.get("/reports/forecast?" + query(**params))


def result_of(resp):
    assert resp.status == 200, resp
    assert resp.content_type == JSON, resp.headers
    doc = resp.json
    assert set(doc) == {"report", "periods", "rows", "totals", "grand_total"}, doc
    check_sums(doc)
    return doc


def money(text):
    assert MONEY.match(text), text
    return Decimal(text)


def add(cells):
    return (sum(c["count"] for c in cells), sum((money(c["value"]) for c in cells), Decimal("0")),
            sum((money(c["weighted_value"]) for c in cells), Decimal("0")))


def figures(cell):
    return cell["count"], money(cell["value"]), money(cell["weighted_value"])


def check_sums(doc):
    """Every total is exactly the sum of the figures it covers."""
    n = len(doc["periods"])
    assert len(doc["totals"]) == n
    for row in doc["rows"]:
        assert set(row) == {"key", "label", "cells", "total"}
        assert len(row["cells"]) == n
        assert figures(row["total"]) == add(row["cells"]), row
    for i in range(n):
        assert figures(doc["totals"][i]) == add([row["cells"][i] for row in doc["rows"]]), i
    assert figures(doc["grand_total"]) == add(doc["totals"])
    assert figures(doc["grand_total"]) == add([row["total"] for row in doc["rows"]])


def table(doc):
    """{label: [(count, value, weighted) per period..., total]} plus "Total"."""
    out = {}
    for row in doc["rows"]:
        out[row["label"]] = [figures(c) for c in row["cells"]] + [figures(row["total"])]
    out["Total"] = [figures(c) for c in doc["totals"]] + [figures(doc["grand_total"])]
    return out


def f(count, value, weighted):
    return count, Decimal(value), Decimal(weighted)


ZERO = f(0, "0.00", "0.00")


def new_report(client, **fields):
    body = {"name": unique("Report"), "period": "this_month"}
    body.update(fields)
    r = client.post("/forecast-reports", body)
    assert r.status == 201, r
    return r.json


def safe_file_name(name):
    out = "".join(c if (c.isascii() and (c.isalnum() or c in " -_")) else "_" for c in name)
    return out[:100]


def csv_rows(resp):
    body = resp.body
    assert body.endswith(b"\r\n")
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


def expected_lines(doc):
    """The CSV/XLSX lines a result must give: header, rows, Total."""
    header = [doc["report"]["split_by"]]
    for p in doc["periods"]:
        header += [f"{p['key']} count", f"{p['key']} value", f"{p['key']} weighted_value"]
    header += ["total count", "total value", "total weighted_value"]
    lines = [header]
    for label, cells, total in [(r["label"], r["cells"], r["total"]) for r in doc["rows"]] + \
            [("Total", doc["totals"], doc["grand_total"])]:
        line = [label]
        for c in cells + [total]:
            line += [str(c["count"]), c["value"], c["weighted_value"]]
        lines.append(line)
    return lines


def column_index(ref):
    letters = re.match(r"[A-Z]+", ref).group(0)
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - ord("A") + 1
    return n - 1


def xlsx_sheet(body):
    """The first sheet as rows of (value, number format, bold) by column."""
    book = zipfile.ZipFile(io.BytesIO(body))
    assert book.testzip() is None
    strings = ["".join(t.text or "" for t in si.iter(f"{{{SHEET_NS}}}t"))
               for si in ET.fromstring(book.read("xl/sharedStrings.xml")).findall("m:si", NS)]
    styles = ET.fromstring(book.read("xl/styles.xml"))
    formats = {"4": "#,##0.00"}  # built in; libxlsxwriter names it by its id
    formats.update({nf.get("numFmtId"): nf.get("formatCode") for nf in styles.iter(f"{{{SHEET_NS}}}numFmt")})
    fonts = styles.find("m:fonts", NS).findall("m:font", NS)
    xfs = styles.find("m:cellXfs", NS).findall("m:xf", NS)
    sheet = ET.fromstring(book.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.find("m:sheetData", NS).findall("m:row", NS):
        cells = {}
        for c in row.findall("m:c", NS):
            v = c.find("m:v", NS)
            value = strings[int(v.text)] if c.get("t") == "s" else Decimal(v.text)
            xf = xfs[int(c.get("s", "0"))]
            bold = fonts[int(xf.get("fontId", "0"))].find("m:b", NS) is not None
            cells[column_index(c.get("r"))] = (value, formats.get(xf.get("numFmtId")), bold)
        rows.append([cells.get(i, ("", None, False)) for i in range(max(cells) + 1)])
    widths = [float(col.get("width")) for col in sheet.find("m:cols", NS).findall("m:col", NS)]
    return rows, widths


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------

@pytest.fixture
def fiscal(admin):
    """Sets the fiscal year start month for a test; it comes back after."""
    before = admin.get("/settings").json["fiscal_year_start_month"]

    def set_start(month):
        r = admin.patch("/settings", {"fiscal_year_start_month": month})
        assert r.status == 200, r

    try:
        yield set_start
    finally:
        set_start(before)


@pytest.fixture
def fiscal_april(fiscal):
    fiscal(4)
    return 4


@pytest.fixture(scope="module")
def catalog(admin):
    statuses = by_label(admin, "opportunity-status")
    forecasts = by_label(admin, "opportunity-forecast")
    assert forecasts["Omitted"]["include_in_forecast"] is False
    assert forecasts["Pipeline"]["include_in_forecast"] is True
    product = admin.post("/lookups/product", {"label": unique("Forecast product"), "unit_price": "1.00"})
    assert product.status == 201, product
    return {"statuses": statuses, "forecasts": forecasts, "product": product.json}


def make_deal(admin, account, owner, close, value, probability, status, forecast, catalog):
    r = admin.post("/opportunities", {
        "account_id": account["id"], "owner_id": owner["id"], "close_date": close.isoformat(),
        "probability": probability, "status_id": catalog["statuses"][status]["id"],
        "forecast_id": catalog["forecasts"][forecast]["id"],
        "lines": [{"product_id": catalog["product"]["id"], "unit_price": value}]})
    assert r.status == 201, r
    assert r.json["value"] == value
    return r.json


@pytest.fixture(scope="module")
def data(admin, catalog):
    """Two salespeople (A sorts before B) with deals across the fiscal year
    that starts in April of next year (FY), plus deals that must never count.
    Figures, by close date (value / probability -> weighted value):
      A  FY-04-10  1000.00 25% ->  250.00  Qualified  Pipeline
      A  FY-04-30   333.33 33% ->  110.00  Proposal   Pipeline  (109.9989)
      A  FY-06-15   500.00 100% -> 500.00  Qualified  Pipeline  won
      B  FY-05-01   200.00  0% ->    0.00  Qualified  Pipeline  lost
      B  FY-08-31  1234.56 50% ->  617.28  Qualified  Pipeline
      B  FY-10-xx  3 x 0.01 50% -> 3 x 0.01 (0.005 each, rounded half up) Proposal
      B  FY+1-01-15  99.99 10% ->   10.00  Proposal   Pipeline  (9.999)
      A  FY+1-03-31  10.00 15% ->    1.50  Proposal   Pipeline
      A  FY-07-01   800.00 50% ->  400.00  Proposal   Omitted   (excluded category)
    Never counted: B FY-03-31 (a day before), A FY+1-04-01 (a day after), a
    deleted A deal in May, and a deal of a third owner C inside the window."""
    tag = uuid.uuid4().hex[:8]
    a, _ = make_user(admin, "member", name=f"A, \"Ace\" {tag}")
    b, _ = make_user(admin, "member", name=f"B {tag}")
    c, _ = make_user(admin, "member", name=f"C {tag}")
    account = make_account(admin)
    fy = today().year + 1

    def d(year_offset, month, day):
        return datetime.date(fy + year_offset, month, day)

    deal = lambda owner, close, value, prob, status, forecast="Pipeline": make_deal(  # noqa: E731
        admin, account, owner, close, value, prob, status, forecast, catalog)
    deal(a, d(0, 4, 10), "1000.00", 25, "Qualified")
    deal(a, d(0, 4, 30), "333.33", 33, "Proposal")
    deal(a, d(0, 6, 15), "500.00", 100, "Qualified")
    deal(b, d(0, 5, 1), "200.00", 0, "Qualified")
    deal(b, d(0, 8, 31), "1234.56", 50, "Qualified")
    for day in (1, 15, 31):
        deal(b, d(0, 10, day), "0.01", 50, "Proposal")
    deal(b, d(1, 1, 15), "99.99", 10, "Proposal")
    deal(a, d(1, 3, 31), "10.00", 15, "Proposal")
    deal(a, d(0, 7, 1), "800.00", 50, "Proposal", "Omitted")
    deal(b, d(0, 3, 31), "777.00", 50, "Qualified")
    deal(a, d(1, 4, 1), "777.00", 50, "Qualified")
    gone = deal(a, d(0, 5, 5), "400.00", 50, "Qualified")
    assert admin.delete(f"/opportunities/{gone['id']}").status == 204
    deal(c, d(0, 6, 1), "555.00", 50, "Qualified")
    return {"a": a, "b": b, "c": c, "fy": fy, "from": d(0, 4, 1), "to": d(1, 3, 31)}


def window(data, **params):
    out = {"from": data["from"].isoformat(), "to": data["to"].isoformat(),
           "owner_ids": [data["a"]["id"], data["b"]["id"]]}
    out.update(params)
    return out


def quarter_keys(data):
    return [f"{data['fy']}-Q{q}" for q in (1, 2, 3, 4)]


def month_keys(data):
    fy = data["fy"]
    return [f"{fy}-{m:02d}" for m in range(4, 13)] + [f"{fy + 1}-{m:02d}" for m in range(1, 4)]


# Hand-computed figures of `data` (see its docstring), fiscal year from April.
BY_OWNER_QUARTER = {
    "A": [f(3, "1833.33", "860.00"), ZERO, ZERO, f(1, "10.00", "1.50"), f(4, "1843.33", "861.50")],
    "B": [ZERO, f(1, "1234.56", "617.28"), f(3, "0.03", "0.03"), f(1, "99.99", "10.00"), f(5, "1334.58", "627.31")],
    "Total": [f(3, "1833.33", "860.00"), f(1, "1234.56", "617.28"), f(3, "0.03", "0.03"), f(2, "109.99", "11.50"),
              f(9, "3177.91", "1488.81")],
}
ALL_BY_MONTH = [f(2, "1333.33", "360.00"), ZERO, f(1, "500.00", "500.00"), ZERO, f(1, "1234.56", "617.28"), ZERO,
                f(3, "0.03", "0.03"), ZERO, ZERO, f(1, "99.99", "10.00"), ZERO, f(1, "10.00", "1.50"),
                f(9, "3177.91", "1488.81")]


def relabel(data, doc_table):
    """Owner labels A, B, C instead of the users' full names."""
    names = {data["a"]["name"]: "A", data["b"]["name"]: "B", data["c"]["name"]: "C"}
    return {names.get(k, k): v for k, v in doc_table.items()}


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------

def test_quarters_by_owner_in_a_fiscal_year_from_april(admin, data, fiscal_april):
    doc = result_of(run(admin, **window(data, group_by="quarter", split_by="owner")))
    fy = data["fy"]
    assert doc["periods"] == [
        {"key": f"{fy}-Q1", "from": f"{fy}-04-01", "to": f"{fy}-06-30"},
        {"key": f"{fy}-Q2", "from": f"{fy}-07-01", "to": f"{fy}-09-30"},
        {"key": f"{fy}-Q3", "from": f"{fy}-10-01", "to": f"{fy}-12-31"},
        {"key": f"{fy}-Q4", "from": f"{fy + 1}-01-01", "to": f"{fy + 1}-03-31"},
    ]
    assert [(r["key"], r["label"]) for r in doc["rows"]] == [(data["a"]["id"], data["a"]["name"]),
                                                               (data["b"]["id"], data["b"]["name"])]
    assert relabel(data, table(doc)) == BY_OWNER_QUARTER
    report = doc["report"]
    assert report["id"] is None and report["name"] is None and report["period"] is None
    assert (report["from"], report["to"]) == (data["from"].isoformat(), data["to"].isoformat())
    assert (report["group_by"], report["split_by"]) == ("quarter", "owner")
    assert report["owner_ids"] == [data["a"]["id"], data["b"]["id"]]
    assert report["outcomes"] == ["open", "won"]
    assert report["fiscal_year_start_month"] == 4


def test_months_unsplit_list_every_month_even_empty_ones(admin, data):
    doc = result_of(run(admin, **window(data)))
    assert [p["key"] for p in doc["periods"]] == month_keys(data)
    assert doc["periods"][1] == {"key": month_keys(data)[1], "from": f"{data['fy']}-05-01",
                                 "to": f"{data['fy']}-05-31"}
    assert [(r["key"], r["label"]) for r in doc["rows"]] == [(None, "All")]
    assert table(doc) == {"All": ALL_BY_MONTH, "Total": ALL_BY_MONTH}
    assert doc["report"]["group_by"] == "month" and doc["report"]["split_by"] == "none"


def test_totals_add_the_rounded_figures_of_each_deal(admin, data):
    """Three deals of 0.01 at 50% weigh 0.005 each, shown as 0.01: the cell
    says 0.03 (the exact sum, 0.015, would round to 0.02)."""
    fy = data["fy"]
    doc = result_of(run(admin, **window(data, **{"from": f"{fy}-10-01", "to": f"{fy}-10-31"})))
    assert table(doc)["All"] == [f(3, "0.03", "0.03"), f(3, "0.03", "0.03")]


def test_quarter_keys_follow_the_fiscal_year_start_month(admin, data, fiscal):
    fy = data["fy"]
    fiscal(1)
    doc = result_of(run(admin, **window(data, group_by="quarter")))
    assert [p["key"] for p in doc["periods"]] == [f"{fy}-Q2", f"{fy}-Q3", f"{fy}-Q4", f"{fy + 1}-Q1"]
    assert [p["from"] for p in doc["periods"]] == [f"{fy}-04-01", f"{fy}-07-01", f"{fy}-10-01", f"{fy + 1}-01-01"]
    assert doc["grand_total"] == {"count": 9, "value": "3177.91", "weighted_value": "1488.81"}
    # From November: Q1 = Nov-Jan (January of the next year is still the
    # fiscal year that started in November), Q2 = Feb-Apr. The A deal of
    # FY+1-04-01 (777.00 at 50%) falls in this window.
    fiscal(11)
    doc = result_of(run(admin, **window(data, group_by="quarter", **{"from": f"{fy}-11-01", "to": f"{fy + 1}-10-31"})))
    assert doc["periods"] == [
        {"key": f"{fy}-Q1", "from": f"{fy}-11-01", "to": f"{fy + 1}-01-31"},
        {"key": f"{fy}-Q2", "from": f"{fy + 1}-02-01", "to": f"{fy + 1}-04-30"},
        {"key": f"{fy}-Q3", "from": f"{fy + 1}-05-01", "to": f"{fy + 1}-07-31"},
        {"key": f"{fy}-Q4", "from": f"{fy + 1}-08-01", "to": f"{fy + 1}-10-31"},
    ]
    assert table(doc)["All"] == [f(1, "99.99", "10.00"), f(2, "787.00", "390.00"), ZERO, ZERO,
                                 f(3, "886.99", "400.00")]


def test_partial_periods_are_clipped_to_the_window(admin, data, fiscal_april):
    fy = data["fy"]
    doc = result_of(run(admin, **window(data, **{"from": f"{fy}-04-15", "to": f"{fy}-08-31"}, group_by="quarter")))
    assert doc["periods"] == [{"key": f"{fy}-Q1", "from": f"{fy}-04-15", "to": f"{fy}-06-30"},
                              {"key": f"{fy}-Q2", "from": f"{fy}-07-01", "to": f"{fy}-08-31"}]
    # The 10 April deal is outside; 30 April, 15 June and 31 August are in.
    assert table(doc)["All"] == [f(2, "833.33", "610.00"), f(1, "1234.56", "617.28"), f(3, "2067.89", "1227.28")]


def test_outcomes_filter_adds_lost_deals(admin, data):
    doc = result_of(run(admin, **window(data, outcomes="open,won,lost")))
    expected = list(ALL_BY_MONTH)
    expected[1] = f(1, "200.00", "0.00")
    expected[-1] = f(10, "3377.91", "1488.81")
    assert table(doc)["All"] == expected
    won = result_of(run(admin, **window(data, outcomes="won")))
    assert won["grand_total"] == {"count": 1, "value": "500.00", "weighted_value": "500.00"}
    lost = result_of(run(admin, **window(data, outcomes="lost")))
    assert lost["grand_total"] == {"count": 1, "value": "200.00", "weighted_value": "0.00"}


def test_excluded_category_counts_only_when_named(admin, data, catalog):
    omitted = catalog["forecasts"]["Omitted"]["id"]
    pipeline = catalog["forecasts"]["Pipeline"]["id"]
    only = result_of(run(admin, **window(data, forecast_ids=[omitted])))
    assert only["grand_total"] == {"count": 1, "value": "800.00", "weighted_value": "400.00"}
    assert table(only)["All"][3] == f(1, "800.00", "400.00")  # July
    both = result_of(run(admin, **window(data, forecast_ids=[pipeline, omitted], split_by="forecast")))
    assert [(r["key"], r["label"]) for r in both["rows"]] == [(pipeline, "Pipeline"), (omitted, "Omitted")]
    assert [r["total"] for r in both["rows"]] == [
        {"count": 9, "value": "3177.91", "weighted_value": "1488.81"},
        {"count": 1, "value": "800.00", "weighted_value": "400.00"}]
    assert both["grand_total"] == {"count": 10, "value": "3977.91", "weighted_value": "1888.81"}


def test_split_by_status_in_position_order(admin, data, catalog, fiscal_april):
    doc = result_of(run(admin, **window(data, group_by="quarter", split_by="status")))
    qualified, proposal = catalog["statuses"]["Qualified"], catalog["statuses"]["Proposal"]
    assert qualified["position"] < proposal["position"]
    assert [(r["key"], r["label"]) for r in doc["rows"]] == [(qualified["id"], "Qualified"),
                                                               (proposal["id"], "Proposal")]
    assert table(doc) == {
        "Qualified": [f(2, "1500.00", "750.00"), f(1, "1234.56", "617.28"), ZERO, ZERO, f(3, "2734.56", "1367.28")],
        "Proposal": [f(1, "333.33", "110.00"), ZERO, f(3, "0.03", "0.03"), f(2, "109.99", "11.50"),
                     f(6, "443.35", "121.53")],
        "Total": BY_OWNER_QUARTER["Total"],
    }


def test_status_filter(admin, data, catalog):
    qualified = catalog["statuses"]["Qualified"]["id"]
    doc = result_of(run(admin, **window(data, status_ids=[qualified], group_by="quarter")))
    assert doc["grand_total"] == {"count": 3, "value": "2734.56", "weighted_value": "1367.28"}
    assert doc["report"]["status_ids"] == [qualified]


def test_owners_named_by_the_filter_always_get_a_row(admin, data):
    """Owner C has no deal counted here (theirs closes outside the window):
    named in owner_ids, they still get a row of zeros."""
    fy = data["fy"]
    doc = result_of(run(admin, **window(data, owner_ids=[data["c"]["id"], data["a"]["id"]], split_by="owner",
                                        **{"from": f"{fy + 1}-01-01", "to": f"{fy + 1}-03-31"})))
    assert relabel(data, table(doc)) == {
        "A": [ZERO, ZERO, f(1, "10.00", "1.50"), f(1, "10.00", "1.50")],
        "C": [ZERO, ZERO, ZERO, ZERO],
        "Total": [ZERO, ZERO, f(1, "10.00", "1.50"), f(1, "10.00", "1.50")],
    }


def test_no_deal_gives_zero_rows_and_totals(admin, data):
    fy = data["fy"]
    doc = result_of(run(admin, owner_ids=[data["c"]["id"]], split_by="owner",
                        **{"from": f"{fy + 2}-01-01", "to": f"{fy + 2}-02-10"}))
    assert [p["key"] for p in doc["periods"]] == [f"{fy + 2}-01", f"{fy + 2}-02"]
    assert table(doc) == {data["c"]["name"]: [ZERO] * 3, "Total": [ZERO] * 3}
    doc = result_of(run(admin, owner_ids=[data["c"]["id"]], split_by="status",
                        **{"from": f"{fy + 2}-01-01", "to": f"{fy + 2}-01-31"}))
    assert doc["rows"] == [] and table(doc) == {"Total": [ZERO, ZERO]}


def test_saved_report_gives_the_same_figures_as_the_query(admin, data, fiscal_april):
    params = window(data, group_by="quarter", split_by="owner")
    report = new_report(admin, name=unique("Owners"), period=None, **{
        "from": params["from"], "to": params["to"], "owner_ids": params["owner_ids"],
        "group_by": "quarter", "split_by": "owner"})
    saved = result_of(admin.get(f"/forecast-reports/{report['id']}/results"))
    unsaved = result_of(run(admin, **params))
    assert saved["report"]["id"] == report["id"] and saved["report"]["name"] == report["name"]
    saved["report"].update(id=None, name=None)
    assert saved == unsaved
    assert relabel(data, table(saved)) == BY_OWNER_QUARTER
    assert report["results_url"] == f"/forecast-reports/{report['id']}/results"


def test_figures_follow_changes_to_deals(admin, data, catalog):
    fy = data["fy"]
    owner, _ = make_user(admin, "member")
    params = {"owner_ids": [owner["id"]], "from": f"{fy}-05-01", "to": f"{fy}-05-31"}
    deal = make_deal(admin, make_account(admin), owner, datetime.date(fy, 5, 20), "100.00", 40, "Qualified",
                     "Pipeline", catalog)
    assert result_of(run(admin, **params))["grand_total"] == {"count": 1, "value": "100.00",
                                                               "weighted_value": "40.00"}
    assert admin.patch(f"/opportunities/{deal['id']}", {"forecast_id": catalog["forecasts"]["Omitted"]["id"]}).status == 200
    assert result_of(run(admin, **params))["grand_total"] == {"count": 0, "value": "0.00", "weighted_value": "0.00"}


# ---------------------------------------------------------------------------
# Relative periods
# ---------------------------------------------------------------------------

def expected_window(period, day, start_month):
    into_year = (day.month - start_month) % 12
    quarter = month_start(day, -(into_year % 3))
    year = month_start(day, -into_year)
    return {
        "this_month": (month_start(day), month_end(day)),
        "this_quarter": (quarter, month_end(quarter, 2)),
        "next_quarter": (month_start(quarter, 3), month_end(quarter, 5)),
        "this_year": (year, month_end(year, 11)),
        "last_12_months": (month_start(day, -11), month_end(day)),
        "next_12_months": (month_start(day), month_end(day, 11)),
    }[period]


def quarter_key(start, start_month):
    fiscal_year = start.year - (1 if start.month < start_month else 0)
    return f"{fiscal_year}-Q{(start.month - start_month) % 12 // 3 + 1}"


@pytest.mark.parametrize("period", PERIODS)
def test_relative_periods_resolve_against_today_and_the_fiscal_year(admin, period, fiscal_april):
    owner, _ = make_user(admin, "member")
    first, last = expected_window(period, today(), 4)
    for group_by in ("month", "quarter"):
        doc = result_of(run(admin, period=period, owner_ids=[owner["id"]], group_by=group_by))
        assert (doc["report"]["from"], doc["report"]["to"]) == (first.isoformat(), last.isoformat()), period
        assert doc["report"]["period"] == period
        keys = [p["key"] for p in doc["periods"]]
        assert doc["periods"][0]["from"] == first.isoformat() and doc["periods"][-1]["to"] == last.isoformat()
        if group_by == "month":
            months = [month_start(first, i) for i in range(40) if month_start(first, i) <= last]
            assert keys == [m.strftime("%Y-%m") for m in months]
        else:
            assert keys[0] == quarter_key(first, 4)
            assert all(int(k[-1]) in (1, 2, 3, 4) for k in keys)
    count = {"this_month": 1, "this_quarter": 3, "next_quarter": 3, "this_year": 12, "last_12_months": 12,
             "next_12_months": 12}[period]
    assert len(result_of(run(admin, period=period, owner_ids=[owner["id"]]))["periods"]) == count


def test_this_year_is_the_fiscal_year_holding_today(admin, fiscal_april):
    owner, _ = make_user(admin, "member")
    day = today()
    start_year = day.year if day.month >= 4 else day.year - 1
    doc = result_of(run(admin, period="this_year", group_by="quarter", owner_ids=[owner["id"]]))
    assert (doc["report"]["from"], doc["report"]["to"]) == (f"{start_year}-04-01", f"{start_year + 1}-03-31")
    assert [p["key"] for p in doc["periods"]] == [f"{start_year}-Q{q}" for q in (1, 2, 3, 4)]


def test_a_saved_relative_period_resolves_when_run(admin, fiscal_april):
    report = new_report(admin, period="next_quarter", group_by="quarter")
    doc = result_of(admin.get(f"/forecast-reports/{report['id']}/results"))
    first, last = expected_window("next_quarter", today(), 4)
    assert (doc["report"]["from"], doc["report"]["to"]) == (first.isoformat(), last.isoformat())
    assert [p["key"] for p in doc["periods"]] == [quarter_key(first, 4)]
    assert report["from"] is None and report["to"] is None


# ---------------------------------------------------------------------------
# Window rules
# ---------------------------------------------------------------------------

def test_window_may_start_exactly_two_years_ago_but_not_a_day_earlier(admin, member_client):
    earliest = years_before(today(), 2)
    ok = new_report(member_client, period=None, **{"from": earliest.isoformat(), "to": today().isoformat()})
    assert ok["from"] == earliest.isoformat()
    assert member_client.get(f"/forecast-reports/{ok['id']}/results").status == 200
    too_early = (earliest - datetime.timedelta(days=1)).isoformat()
    r = member_client.post("/forecast-reports", {"name": unique("Old"), "from": too_early, "to": today().isoformat()})
    doc = assert_problem(r, 422, "from")
    message = next(e["message"] for e in doc["errors"] if e["field"] == "from")
    assert "2 years" in message and earliest.isoformat() in message
    user = member_client.get("/users/me").json
    assert result_of(run(member_client, owner_ids=[user["id"]], **{"from": earliest.isoformat(),
                                                                    "to": earliest.isoformat()}))
    assert_problem(run(member_client, **{"from": too_early, "to": today().isoformat()}), 422, "from")
    r = member_client.patch(f"/forecast-reports/{ok['id']}", {"from": too_early})
    assert_problem(r, 422, "from")


def test_a_saved_window_that_aged_past_two_years_is_refused_when_run(member_client):
    """Time passes: a window valid when saved may start too early later. It
    is checked again when run (422 on from); renaming still works."""
    if "DATABASE_URL" not in os.environ or shutil.which("psql") is None:
        pytest.skip("needs psql and DATABASE_URL (set by scripts/test-api.sh)")
    report = new_report(member_client, period=None, **{"from": today().isoformat(), "to": today().isoformat()})
    aged = (years_before(today(), 2) - datetime.timedelta(days=1)).isoformat()
    subprocess.run(["psql", os.environ["DATABASE_URL"], "-Xq", "-v", "ON_ERROR_STOP=1", "-c",
                    f"UPDATE forecast_reports SET from_date = '{aged}' WHERE id = {report['id']}"],
                   check=True, capture_output=True)
    path = f"/forecast-reports/{report['id']}"
    assert_problem(member_client.get(path + "/results"), 422, "from")
    assert_problem(member_client.get(path + "/results?format=csv"), 422, "from")
    r = member_client.patch(path, {"name": "Still renamable"})
    assert r.status == 200 and r.json["from"] == aged
    assert_problem(member_client.patch(path, {"to": today().isoformat()}), 422, "from")
    assert member_client.patch(path, {"from": today().isoformat()}).status == 200
    assert member_client.get(path + "/results").status == 200


def test_window_spans_less_than_five_years(admin, member_client):
    start = today()
    last_ok = years_before(start, -5) - datetime.timedelta(days=1)
    report = new_report(member_client, period=None, **{"from": start.isoformat(), "to": last_ok.isoformat()})
    doc = result_of(member_client.get(f"/forecast-reports/{report['id']}/results"))
    assert len(doc["periods"]) in (60, 61)
    r = member_client.post("/forecast-reports", {"name": unique("Long"), "from": start.isoformat(),
                                                 "to": (last_ok + datetime.timedelta(days=1)).isoformat()})
    assert_problem(r, 422, "to")
    last_year = result_of(run(member_client, **{"from": "9999-01-01", "to": "9999-12-31"}))
    assert [p["key"] for p in last_year["periods"]][-1] == "9999-12"
    assert_problem(run(member_client, **{"from": start.isoformat(), "to": "9999-12-31"}), 422, "to")


def test_from_after_to_is_422(member_client):
    r = member_client.post("/forecast-reports", {"name": "x", "from": "2030-02-01", "to": "2030-01-31"})
    assert_problem(r, 422, "to")
    assert_problem(run(member_client, **{"from": "2030-02-01", "to": "2030-01-31"}), 422, "to")


def test_exactly_one_form_of_window(member_client):
    both = {"name": "x", "from": "2030-01-01", "to": "2030-01-31", "period": "this_month"}
    assert_problem(member_client.post("/forecast-reports", both), 422, "period")
    assert_problem(member_client.post("/forecast-reports", {"name": "x"}), 422, "period")
    assert_problem(member_client.post("/forecast-reports", {"name": "x", "from": "2030-01-01"}), 422, "to")
    assert_problem(member_client.post("/forecast-reports", {"name": "x", "to": "2030-01-01"}), 422, "from")
    assert_problem(run(member_client, period="this_month", **{"from": "2030-01-01", "to": "2030-01-31"}), 422,
                   "period")
    assert_problem(run(member_client), 422, "period")
    assert_problem(run(member_client, **{"from": "2030-01-01"}), 422, "to")


def test_patch_switches_between_the_two_forms(member_client):
    report = new_report(member_client, period="this_year")
    path = f"/forecast-reports/{report['id']}"
    assert_problem(member_client.patch(path, {"from": "2030-01-01", "to": "2030-06-30"}), 422, "period")
    r = member_client.patch(path, {"from": "2030-01-01", "to": "2030-06-30", "period": None})
    assert r.status == 200, r
    assert (r.json["from"], r.json["to"], r.json["period"]) == ("2030-01-01", "2030-06-30", None)
    r = member_client.patch(path, {"period": "this_quarter", "from": None, "to": None})
    assert (r.json["from"], r.json["to"], r.json["period"]) == (None, None, "this_quarter")


# ---------------------------------------------------------------------------
# CRUD and validation
# ---------------------------------------------------------------------------

def test_create_fills_defaults_and_answers_201_location_etag(member):
    user, client = member
    name = unique("Pipeline report")
    r = client.post("/forecast-reports", {"name": name, "period": "this_quarter"})
    assert r.status == 201, r
    assert r.content_type == JSON
    report = r.json
    assert set(report) == REPORT_KEYS
    assert r.headers["location"] == f"/forecast-reports/{report['id']}"
    assert r.headers["etag"] == '"1"'
    assert report["name"] == name and report["owner_id"] == user["id"]
    assert report["shared"] is False and report["owner_ids"] == [] and report["status_ids"] == []
    assert report["forecast_ids"] == [] and report["outcomes"] == ["open", "won"]
    assert (report["group_by"], report["split_by"], report["period"]) == ("month", "none", "this_quarter")
    assert report["from"] is None and report["to"] is None and report["version"] == 1
    got = client.get(r.headers["location"])
    assert got.status == 200 and got.json == report and got.headers["etag"] == '"1"'


def test_create_keeps_every_given_field(admin, data, catalog, member_client):
    body = {"name": unique("Full"), "shared": True, "owner_ids": [data["b"]["id"], data["a"]["id"]],
            "from": "2030-01-01", "to": "2030-12-31", "status_ids": [catalog["statuses"]["Won"]["id"]],
            "forecast_ids": [catalog["forecasts"]["Commit"]["id"], catalog["forecasts"]["Omitted"]["id"]],
            "outcomes": ["won", "lost"], "group_by": "quarter", "split_by": "forecast"}
    report = new_report(member_client, **{**body, "period": None})
    for key, value in body.items():
        assert report[key] == value, key
    assert report["period"] is None


def test_list_shows_own_and_shared_reports_with_paging_and_filters(admin):
    owner, owner_client = make_user(admin, "member")
    other, other_client = make_user(admin, "member")
    mine = [new_report(owner_client) for _ in range(3)]
    shared = new_report(other_client, shared=True)
    private = new_report(other_client)
    seen, cursor = [], None
    for _ in range(100):
        r = owner_client.get(f"/forecast-reports?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status == 200, r
        assert set(r.json) == {"data", "next_cursor"} and len(r.json["data"]) <= 2
        seen += r.json["data"]
        cursor = r.json["next_cursor"]
        if cursor is None:
            break
    ids = [x["id"] for x in seen]
    assert ids == sorted(ids)
    assert {x["id"] for x in mine} | {shared["id"]} <= set(ids)
    assert private["id"] not in ids
    assert all(x["shared"] or x["owner_id"] == owner["id"] for x in seen)
    r = owner_client.get(f"/forecast-reports?owner_id={other['id']}&limit=500")
    assert [x["id"] for x in r.json["data"]] == [shared["id"]]
    r = owner_client.get(f"/forecast-reports?owner_id={owner['id']}&shared=false&limit=500")
    assert [x["id"] for x in r.json["data"]] == [x["id"] for x in mine]
    assert_problem(owner_client.get("/forecast-reports?shared=maybe"), 400, "shared")
    assert_problem(owner_client.get("/forecast-reports?cursor=abc"), 400, "cursor")
    assert_problem(owner_client.get("/forecast-reports?limit=0"), 400, "limit")
    assert_problem(owner_client.get("/forecast-reports?mine=true"), 400, "mine")


def test_patch_versions_etags_and_preconditions(member_client):
    report = new_report(member_client)
    path = f"/forecast-reports/{report['id']}"
    r = member_client.patch(path, {"name": "Renamed", "split_by": "owner"}, headers={"If-Match": '"1"'})
    assert r.status == 200, r
    assert r.json["version"] == 2 and r.headers["etag"] == '"2"'
    assert (r.json["name"], r.json["split_by"]) == ("Renamed", "owner")
    assert r.json["updated_at"] >= report["updated_at"]
    assert_problem(member_client.patch(path, {"name": "Stale"}, headers={"If-Match": '"1"'}), 412)
    same = member_client.patch(path, {"name": "Renamed"})
    assert same.json["version"] == 2  # no change, no new version
    assert member_client.get(path, headers={"If-None-Match": '"2"'}).status == 304
    assert_problem(member_client.delete(path, headers={"If-Match": '"1"'}), 412)
    assert member_client.delete(path, headers={"If-Match": '"2"'}).status == 204
    for method in ("GET", "PATCH", "DELETE"):
        assert_problem(member_client.request(method, path, body={"name": "x"} if method == "PATCH" else None), 404)
    assert_problem(member_client.get(path + "/results"), 404)


def test_validation_lists_every_invalid_field(member_client):
    r = member_client.post("/forecast-reports", {
        "name": "", "shared": "yes", "period": "yesterday", "group_by": "week", "split_by": "account",
        "owner_ids": [1, 0, "3", 1.5, 1], "status_ids": "1", "forecast_ids": None, "outcomes": ["open", "maybe"],
        "colour": "red", "id": 5, "owner_id": 3, "version": 2, "results_url": "x"})
    doc = assert_problem(r, 422)
    assert sorted(e["field"] for e in doc["errors"]) == sorted([
        "name", "shared", "period", "group_by", "split_by", "owner_ids[1]", "owner_ids[2]", "owner_ids[3]",
        "owner_ids[4]", "status_ids", "forecast_ids", "outcomes[1]", "colour", "id", "owner_id", "version",
        "results_url"])
    assert_problem(member_client.post("/forecast-reports", {"period": "this_month"}), 422, "name")
    assert_problem(member_client.post("/forecast-reports", {"name": "é" * 201, "period": "this_month"}), 422, "name")
    assert new_report(member_client, name="é" * 200)["name"] == "é" * 200
    assert_problem(member_client.post("/forecast-reports", {"name": "x", "period": "this_month", "outcomes": []}),
                   422, "outcomes")
    too_many = list(range(1, 202))
    assert_problem(member_client.post("/forecast-reports", {"name": "x", "period": "this_month",
                                                            "owner_ids": too_many}), 422, "owner_ids")
    assert_problem(member_client.post("/forecast-reports", [1]), 400)
    assert_problem(member_client.post("/forecast-reports", {"name": "x"}, content_type="text/plain"), 415)


def test_ids_must_name_existing_records_of_the_right_kind(member_client, catalog, data):
    status = catalog["statuses"]["Qualified"]["id"]
    forecast = catalog["forecasts"]["Pipeline"]["id"]
    r = member_client.post("/forecast-reports", {
        "name": "x", "period": "this_month", "owner_ids": [data["a"]["id"], 9000000000000000000],
        "status_ids": [status, forecast], "forecast_ids": [status]})
    doc = assert_problem(r, 422)
    assert sorted(e["field"] for e in doc["errors"]) == ["forecast_ids[0]", "owner_ids[1]", "status_ids[1]"]
    assert any("no user has id 9000000000000000000" in e["message"] for e in doc["errors"])
    doc = assert_problem(run(member_client, period="this_month", owner_ids=[data["a"]["id"], 9000000000000000000]),
                         422, "owner_ids[1]")
    report = new_report(member_client)
    assert_problem(member_client.patch(f"/forecast-reports/{report['id']}", {"status_ids": [forecast]}), 422,
                   "status_ids[0]")


def test_a_status_named_by_a_report_cannot_be_deleted(admin, member_client):
    status = admin.post("/lookups/opportunity-status", {"label": unique("Stage"), "active": False})
    assert status.status == 201, status
    report = new_report(member_client, status_ids=[status.json["id"]])
    r = admin.delete(f"/lookups/opportunity-status/{status.json['id']}")
    doc = assert_problem(r, 409)
    assert doc["reference_count"] == 1
    assert member_client.delete(f"/forecast-reports/{report['id']}").status == 204
    assert admin.delete(f"/lookups/opportunity-status/{status.json['id']}").status == 204


def test_reports_need_a_token(anon):
    for method, path in [("GET", "/forecast-reports"), ("POST", "/forecast-reports"), ("GET", "/forecast-reports/1"),
                         ("PATCH", "/forecast-reports/1"), ("DELETE", "/forecast-reports/1"),
                         ("GET", "/forecast-reports/1/results"), ("GET", "/reports/forecast?period=this_month")]:
        assert_problem(anon.request(method, path, body={"name": "x"} if method in ("POST", "PATCH") else None), 401)


def test_unknown_methods_are_405(member_client):
    r = member_client.put("/forecast-reports/1", {"name": "x"})
    assert_problem(r, 405)
    assert r.headers["allow"] == "GET, PATCH, DELETE"
    assert member_client.post("/forecast-reports/1/results", {}).headers["allow"] == "GET"
    assert member_client.delete("/reports/forecast").headers["allow"] == "GET"


# ---------------------------------------------------------------------------
# Visibility
# ---------------------------------------------------------------------------

@pytest.fixture
def people(admin):
    owner, owner_client = make_user(admin, "member")
    _, other_client = make_user(admin, "member")
    _, other_admin = make_user(admin, "admin")
    return owner, owner_client, other_client, other_admin


def listed(client, report):
    r = client.get("/forecast-reports?limit=500&owner_id=" + str(report["owner_id"]))
    assert r.status == 200, r
    return report["id"] in [x["id"] for x in r.json["data"]]


def test_a_private_report_exists_only_for_its_owner(people):
    owner, owner_client, other, other_admin = people
    report = new_report(owner_client)
    path = f"/forecast-reports/{report['id']}"
    for client in (other, other_admin):
        for method in ("GET", "PATCH", "DELETE"):
            r = client.request(method, path, body={"name": "Taken"} if method == "PATCH" else None)
            doc = assert_problem(r, 404)
            assert doc["type"] == "/problems/not-found"
        assert_problem(client.patch(path, {"name": "x"}, headers={"If-Match": '"99"'}), 404)
        assert_problem(client.get(path + "/results"), 404)
        assert_problem(client.get(path + "/results?format=csv"), 404)
        assert not listed(client, report)
    # The answer is the same as for an id that was never used.
    never = other.get("/forecast-reports/9223372036854775807").json
    mine = other.get(path).json
    assert (never["title"], never["detail"]) == (mine["title"], mine["detail"])
    assert owner_client.get(path).json == report
    assert owner_client.get(path + "/results").status == 200
    assert listed(owner_client, report)


def test_a_shared_report_is_visible_and_runnable_by_all_but_changed_by_owner_or_admin(people):
    owner, owner_client, other, other_admin = people
    report = new_report(owner_client, shared=True)
    path = f"/forecast-reports/{report['id']}"
    assert other.get(path).json == report
    assert other.get(path + "/results").status == 200
    assert other.get(path + "/results?format=csv").status == 200
    assert listed(other, report)
    doc = assert_problem(other.patch(path, {"name": "Taken"}), 403)
    assert doc["type"] == "/problems/forbidden"
    assert_problem(other.delete(path), 403)
    assert owner_client.get(path).json == report  # unchanged
    r = other_admin.patch(path, {"name": "Fixed by admin"})
    assert r.status == 200 and r.json["name"] == "Fixed by admin" and r.json["owner_id"] == owner["id"]
    r = owner_client.patch(path, {"shared": False})
    assert r.status == 200
    assert_problem(other.get(path), 404)
    assert_problem(other_admin.delete(path), 404)
    assert owner_client.patch(path, {"shared": True}).status == 200
    assert other_admin.delete(path).status == 204
    assert_problem(owner_client.get(path), 404)


def test_the_owner_may_delete_their_report(people):
    _, owner_client, other, _ = people
    report = new_report(owner_client, shared=True)
    assert owner_client.delete(f"/forecast-reports/{report['id']}").status == 204
    assert_problem(other.get(f"/forecast-reports/{report['id']}"), 404)


def test_bad_ids_are_404(member_client):
    for path in ("/forecast-reports/0", "/forecast-reports/abc", "/forecast-reports/-1",
                 "/forecast-reports/99999999999999999999", "/forecast-reports/abc/results"):
        assert_problem(member_client.get(path), 404)


# ---------------------------------------------------------------------------
# Query parameters of /reports/forecast
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("params,field", [
    ("period=this_month&owner=3", "owner"),
    ("period=this_month&owner_ids=3,x", "owner_ids"),
    ("period=this_month&owner_ids=3,,4", "owner_ids"),
    ("period=this_month&owner_ids=3,3", "owner_ids"),
    ("period=this_month&owner_ids=-3", "owner_ids"),
    ("period=this_month&status_ids=1.5", "status_ids"),
    ("period=this_month&forecast_ids=a", "forecast_ids"),
    ("from=2030-13-01&to=2030-12-31", "from"),
    ("from=2030-01-01&to=2030-02-30", "to"),
    ("period=yesterday", "period"),
    ("period=this_month&group_by=week", "group_by"),
    ("period=this_month&split_by=account", "split_by"),
    ("period=this_month&outcomes=open,maybe", "outcomes"),
    ("period=this_month&outcomes=", "outcomes"),
    ("period=this_month&outcomes=won,won", "outcomes"),
    ("period=this_month&format=pdf", "format"),
    ("period=this_month&owner_ids=" + ",".join(str(i) for i in range(1, 202)), "owner_ids"),
])
def test_bad_query_parameters_are_400_naming_them(member_client, params, field):
    assert_problem(member_client.get("/reports/forecast?" + params), 400, field)


def test_results_of_a_saved_report_take_only_format(member_client):
    report = new_report(member_client)
    assert_problem(member_client.get(f"/forecast-reports/{report['id']}/results?period=this_year"), 400, "period")
    assert_problem(member_client.get(f"/forecast-reports/{report['id']}/results?format=ods"), 400, "format")


def test_empty_id_lists_mean_every_owner(admin, data):
    fy = data["fy"]
    everyone = result_of(run(admin, owner_ids="", split_by="owner", **{"from": f"{fy}-06-01", "to": f"{fy}-06-30"}))
    labels = [r["label"] for r in everyone["rows"]]
    assert data["a"]["name"] in labels and data["c"]["name"] in labels
    assert everyone["report"]["owner_ids"] == []


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------

def test_csv_export_matches_the_json(admin, data, fiscal_april):
    params = window(data, group_by="quarter", split_by="owner")
    doc = result_of(run(admin, **params))
    r = run(admin, **params, format="csv")
    assert r.status == 200, r
    assert r.content_type == CSV_TYPE
    assert r.headers["content-disposition"] == 'attachment; filename="forecast.csv"'
    rows = csv_rows(r)
    assert rows == expected_lines(doc)
    assert rows[0][:4] == ["owner", f"{data['fy']}-Q1 count", f"{data['fy']}-Q1 value",
                           f"{data['fy']}-Q1 weighted_value"]
    assert rows[-1] == ["Total", "3", "1833.33", "860.00", "1", "1234.56", "617.28", "3", "0.03", "0.03",
                        "2", "109.99", "11.50", "9", "3177.91", "1488.81"]
    # RFC 4180: CRLF after every record, the comma and quotes of A's name quoted.
    assert r.body.count(b"\r\n") == len(rows)
    assert b"\n" not in r.body.replace(b"\r\n", b"")
    quoted = '"' + data["a"]["name"].replace('"', '""') + '"'
    assert ("\r\n" + quoted + ",3,1833.33,").encode() in r.body


def test_csv_quotes_line_breaks_in_labels(admin, catalog):
    owner, _ = make_user(admin, "member", name="Line\nBreak, \"Q\"")
    fy = today().year + 1
    make_deal(admin, make_account(admin), owner, datetime.date(fy, 2, 3), "12.34", 50, "Qualified", "Pipeline",
              catalog)
    r = run(admin, owner_ids=[owner["id"]], split_by="owner", format="csv",
            **{"from": f"{fy}-02-01", "to": f"{fy}-02-28"})
    assert r.status == 200, r
    assert b'\r\n"Line\nBreak, ""Q""",1,12.34,6.17,1,12.34,6.17\r\n' in r.body
    assert csv_rows(r)[1] == ["Line\nBreak, \"Q\"", "1", "12.34", "6.17", "1", "12.34", "6.17"]


def test_xlsx_export_is_a_workbook_with_the_figures(admin, data, fiscal_april):
    params = window(data, group_by="quarter", split_by="owner")
    report = new_report(admin, name="Q3 / pipeline: é, \"best\"", period=None, **{
        "from": params["from"], "to": params["to"], "owner_ids": params["owner_ids"], "group_by": "quarter",
        "split_by": "owner"})
    doc = result_of(admin.get(f"/forecast-reports/{report['id']}/results"))
    r = admin.get(f"/forecast-reports/{report['id']}/results?format=xlsx")
    assert r.status == 200, r
    assert r.content_type == XLSX_TYPE
    assert r.headers["content-disposition"] == 'attachment; filename="Q3 _ pipeline_ __ _best_.xlsx"'
    assert r.body[:2] == b"PK"
    rows, widths = xlsx_sheet(r.body)
    lines = expected_lines(doc)
    assert len(rows) == len(lines)
    assert [cell[0] for cell in rows[0]] == lines[0]
    assert all(bold for _, _, bold in rows[0])  # the header row is bold
    for line, row in zip(lines[1:], rows[1:]):
        assert row[0][0] == line[0]
        for col, (text, cell) in enumerate(zip(line[1:], row[1:]), start=1):
            value, number_format, _ = cell
            # A spreadsheet number is a double: the cell holds the double
            # nearest the exact figure (the text may show 17 digits).
            assert isinstance(value, Decimal) and float(value) == float(text), (line[0], col, value)
            assert value.quantize(Decimal("0.01")) == Decimal(text), (line[0], col, value)
            assert number_format == (None if col % 3 == 1 else "#,##0.00"), (line[0], col)
    assert all(bold for _, _, bold in rows[-1]) and rows[-1][0][0] == "Total"
    assert not any(bold for _, _, bold in rows[1])
    assert float(rows[-1][-2][0]) == 3177.91 and float(rows[-1][-1][0]) == 1488.81
    assert len(widths) == len(lines[0]) and widths[0] >= len(data["a"]["name"])
    assert all(w >= len(h) for w, h in zip(widths[1:], lines[0][1:]))


def test_file_names_are_made_safe_and_short(member_client):
    name = "Rapport: prévisions/" + "x" * 150
    report = new_report(member_client, name=name)
    r = member_client.get(f"/forecast-reports/{report['id']}/results?format=csv")
    assert r.headers["content-disposition"] == f'attachment; filename="{safe_file_name(name)}.csv"'
    assert len(safe_file_name(name)) == 100
    assert safe_file_name(name).startswith("Rapport_ pr_visions_x")


@pytest.mark.parametrize("accept,expected", [
    (None, JSON),
    ("application/json", JSON),
    ("*/*", JSON),
    ("text/csv", CSV_TYPE),
    ("text/*", CSV_TYPE),
    ("text/csv;q=0.9, application/json;q=0.5", CSV_TYPE),
    ("application/json;q=0.2, text/csv;q=0.1", JSON),
    (XLSX_TYPE, XLSX_TYPE),
    ("application/*;q=0.5, " + XLSX_TYPE, XLSX_TYPE),
    ("text/html, */*;q=0.1", JSON),
    ("*/*, application/json;q=0", CSV_TYPE),
])
def test_accept_header_picks_the_format(member_client, accept, expected):
    report = new_report(member_client)
    headers = {"Accept": accept} if accept else {}
    r = member_client.get(f"/forecast-reports/{report['id']}/results", headers=headers)
    assert r.status == 200, r
    assert r.content_type == expected
    assert "accept" in r.headers.get("vary", "").lower()
    if expected != JSON:
        ext = "csv" if expected == CSV_TYPE else "xlsx"
        assert r.headers["content-disposition"] == f'attachment; filename="{safe_file_name(report["name"])}.{ext}"'
    else:
        assert "content-disposition" not in r.headers


@pytest.mark.parametrize("accept", ["image/png", "text/html, application/xml", "application/json;q=0",
                                    "text/csv;q=0, application/json;q=0, " + XLSX_TYPE + ";q=0"])
def test_accept_allowing_no_format_is_406(member_client, accept):
    report = new_report(member_client)
    r = member_client.get(f"/forecast-reports/{report['id']}/results", headers={"Accept": accept})
    doc = assert_problem(r, 406)
    assert doc["type"] == "/problems/not-acceptable"
    assert_problem(member_client.get("/reports/forecast?period=this_month", headers={"Accept": accept}), 406)


def test_format_parameter_wins_over_accept(member_client):
    report = new_report(member_client)
    r = member_client.get(f"/forecast-reports/{report['id']}/results?format=csv",
                          headers={"Accept": "application/json"})
    assert r.status == 200 and r.content_type == CSV_TYPE
    r = member_client.get(f"/forecast-reports/{report['id']}/results?format=json", headers={"Accept": "image/png"})
    assert r.status == 200 and r.content_type == JSON


def test_results_come_as_a_chunked_body_made_after_the_check(member_client):
    """The request is checked at once and answered 200; the figures are
    computed off the HTTP thread and sent as a chunked body. Every error is
    known before that: it is a plain problem reply."""
    for fmt, content_type in (("json", JSON), ("csv", "text/csv; charset=utf-8")):
        r = member_client.get(f"/reports/forecast?period=this_month&format={fmt}")
        assert r.status == 200, r
        assert r.content_type == content_type
        assert r.headers.get("transfer-encoding") == "chunked", r.headers
        assert "content-length" not in r.headers
        if fmt == "json":
            check_sums(r.json)
        else:
            assert r.body.decode().splitlines()[-1].startswith("Total,")
    r = member_client.get("/reports/forecast?from=2001-01-01&to=2001-01-31")
    assert_problem(r, 422, "from")
    assert r.headers.get("transfer-encoding") is None
    assert_problem(member_client.get("/forecast-reports/999999999/results"), 404)
