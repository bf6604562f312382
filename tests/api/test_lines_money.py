"""Opportunity lines and exact money (SPEC 2, 2.3, 2.4, 5, 7).

Lines: GET/POST /opportunities/{id}/lines, PUT /opportunities/{id}/lines (a
bare array, atomic), GET/PATCH/DELETE /opportunities/{id}/lines/{line_id}.
Every line change moves the opportunity's value, updated_at and version by
exactly one step per request. Money is exact decimal (no binary floating
point): the rounding cases below give a different answer with a double."""
import json
import re
import threading
from decimal import ROUND_HALF_UP, Decimal

import pytest

from conftest import Client, assert_problem, make_account, unique

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
MONEY = re.compile(r"^(0|[1-9]\d*)\.\d\d$")
LINE_KEYS = {"id", "opportunity_id", "product_id", "description", "quantity", "unit_price", "total", "position",
             "created_at", "updated_at", "version"}
MAX_PRICE = "1000000000.00"
MAX_QUANTITY = 1000000


# ---------------------------------------------------------------------------
# helpers private to this file
# ---------------------------------------------------------------------------
def exact(resp):
    """The body with JSON numbers kept as written (Decimal for fractions)."""
    return json.loads(resp.body, parse_float=Decimal)


def make_product(admin, unit_price="10.00", **fields):
    body = {"label": unique("Product"), "unit_price": unit_price}
    body.update(fields)
    r = admin.post("/lookups/product", body)
    assert r.status == 201, r
    return r.json


def make_opportunity(client, lines=None, **fields):
    if "account_id" not in fields:
        fields["account_id"] = make_account(client)["id"]
    body = {"name": unique("Deal")}
    body.update(fields)
    if lines is not None:
        body["lines"] = lines
    r = client.post("/opportunities", body)
    assert r.status == 201, r
    return r.json


def get_opportunity(client, opp_id):
    r = client.get(f"/opportunities/{opp_id}")
    assert r.status == 200, r
    assert r.headers["etag"] == f'"{r.json["version"]}"'
    return r.json


def add_line(client, opp_id, expect=201, **fields):
    r = client.post(f"/opportunities/{opp_id}/lines", fields)
    assert r.status == expect, r
    return r.json


def list_lines(client, opp_id):
    r = client.get(f"/opportunities/{opp_id}/lines?limit=500")
    assert r.status == 200, r
    assert r.json["next_cursor"] is None
    return r.json["data"]


def assert_unchanged(client, opp):
    """The opportunity (value, version, updated_at, lines) is as given."""
    now = get_opportunity(client, opp["id"])
    assert now == opp


@pytest.fixture(scope="module")
def product(admin):
    """A product priced 12.50."""
    return make_product(admin, "12.50")


@pytest.fixture(scope="module")
def free_product(admin):
    """A product without a price: lines must name theirs."""
    return make_product(admin, None)


@pytest.fixture
def opp(admin):
    return make_opportunity(admin)


# ---------------------------------------------------------------------------
# shape and defaults
# ---------------------------------------------------------------------------
def test_create_line_shape_and_defaults(admin, opp, product):
    r = admin.post(f"/opportunities/{opp['id']}/lines", {"product_id": product["id"]})
    assert r.status == 201, r
    assert r.content_type == "application/json; charset=utf-8"
    line = r.json
    assert set(line) == LINE_KEYS
    assert r.headers["location"] == f"/opportunities/{opp['id']}/lines/{line['id']}"
    assert r.headers["etag"] == '"1"'
    assert line["opportunity_id"] == opp["id"]
    assert line["product_id"] == product["id"]
    assert line["description"] is None
    assert line["quantity"] == 1 and isinstance(line["quantity"], int)  # default 1, a JSON number
    assert b'"quantity":1,' in r.body.replace(b" ", b"")
    assert line["unit_price"] == "12.50"  # the product's price
    assert line["total"] == "12.50"
    assert line["position"] == 1
    assert line["version"] == 1
    assert TS.match(line["created_at"]) and TS.match(line["updated_at"])

    g = admin.get(r.headers["location"])
    assert g.status == 200, g
    assert g.json == line
    assert g.headers["etag"] == '"1"'

    o = get_opportunity(admin, opp["id"])
    assert o["lines"] == [line]
    assert o["value"] == "12.50"


def test_line_list_shape(admin, opp, product):
    a = add_line(admin, opp["id"], product_id=product["id"], description="first")
    b = add_line(admin, opp["id"], product_id=product["id"], description="second", quantity=2)
    r = admin.get(f"/opportunities/{opp['id']}/lines")
    assert r.status == 200, r
    assert r.content_type == "application/json; charset=utf-8"
    assert r.json == {"data": [a, b], "next_cursor": None}
    assert [x["position"] for x in r.json["data"]] == [1, 2]


def test_unit_price_given_overrides_product_price(admin, opp, product):
    line = add_line(admin, opp["id"], product_id=product["id"], unit_price="3", quantity=2)
    assert line["unit_price"] == "3.00"
    assert line["total"] == "6.00"
    assert get_opportunity(admin, opp["id"])["value"] == "6.00"


def test_product_without_price_requires_unit_price(admin, opp, free_product):
    r = admin.post(f"/opportunities/{opp['id']}/lines", {"product_id": free_product["id"]})
    assert_problem(r, 422, "unit_price")
    assert get_opportunity(admin, opp["id"])["lines"] == []
    line = add_line(admin, opp["id"], product_id=free_product["id"], unit_price="0.99")
    assert line["unit_price"] == "0.99" and line["total"] == "0.99"


def test_zero_unit_price_is_allowed(admin, opp, free_product):
    line = add_line(admin, opp["id"], product_id=free_product["id"], unit_price=0, quantity=5)
    assert line["unit_price"] == "0.00" and line["total"] == "0.00"


def test_inactive_product_is_refused(admin, opp):
    p = make_product(admin, "5.00")
    r = admin.patch(f"/lookups/product/{p['id']}", {"active": False})
    assert r.status == 200, r
    r = admin.post(f"/opportunities/{opp['id']}/lines", {"product_id": p["id"]})
    assert_problem(r, 422, "product_id")
    assert get_opportunity(admin, opp["id"])["lines"] == []


def test_unknown_or_foreign_product_is_refused(admin, opp):
    r = admin.post(f"/opportunities/{opp['id']}/lines", {"product_id": 999999999})
    assert_problem(r, 422, "product_id")
    status = admin.get("/lookups/opportunity-status").json["data"][0]
    r = admin.post(f"/opportunities/{opp['id']}/lines", {"product_id": status["id"]})
    assert_problem(r, 422, "product_id")
    assert get_opportunity(admin, opp["id"])["lines"] == []


@pytest.mark.parametrize("body, field", [
    ({}, "product_id"),
    ({"product_id": None}, "product_id"),
    ({"product_id": "1"}, "product_id"),
    ({"product_id": 0}, "product_id"),
    ({"colour": "red"}, "colour"),
    ({"total": "1.00"}, "total"),
    ({"id": 5}, "id"),
    ({"version": 1}, "version"),
    ({"opportunity_id": 1}, "opportunity_id"),
    ({"description": "x" * 501}, "description"),
    ({"position": 1.5}, "position"),
    ({"position": 1000001}, "position"),
])
def test_create_line_invalid_fields(admin, opp, product, body, field):
    if field != "product_id":
        body = dict(body, product_id=product["id"])
    r = admin.post(f"/opportunities/{opp['id']}/lines", body)
    assert_problem(r, 422, field)
    assert get_opportunity(admin, opp["id"]) == opp


def test_create_line_lists_every_invalid_field(admin, opp, product):
    r = admin.post(f"/opportunities/{opp['id']}/lines",
                   {"product_id": product["id"], "quantity": 0, "unit_price": "1.001", "total": "1"})
    doc = assert_problem(r, 422)
    assert {e["field"] for e in doc["errors"]} == {"quantity", "unit_price", "total"}


def test_create_line_body_must_be_an_object(admin, opp):
    assert_problem(admin.post(f"/opportunities/{opp['id']}/lines", [1]), 400)
    assert_problem(admin.post(f"/opportunities/{opp['id']}/lines", raw=b"{", content_type="application/json"), 400)
    assert_problem(admin.post(f"/opportunities/{opp['id']}/lines", raw=b"{}", content_type="text/plain"), 415)


def test_description_can_be_set_and_cleared(admin, opp, product):
    line = add_line(admin, opp["id"], product_id=product["id"], description="d" * 500)
    assert line["description"] == "d" * 500
    r = admin.patch(f"/opportunities/{opp['id']}/lines/{line['id']}", {"description": None})
    assert r.status == 200, r
    assert r.json["description"] is None


# ---------------------------------------------------------------------------
# quantity
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("quantity, text", [
    (2, "2"), (1.5, "1.5"), (0.125, "0.125"), (0.001, "0.001"), (1000000, "1000000"), (999999.999, "999999.999"),
    (12.25, "12.25"),
])
def test_quantity_is_echoed_exactly(admin, opp, product, quantity, text):
    r = admin.post(f"/opportunities/{opp['id']}/lines", {"product_id": product["id"], "quantity": quantity})
    assert r.status == 201, r
    q = exact(r)["quantity"]
    assert not isinstance(q, str), "quantity must be a JSON number"
    assert str(q) == text
    g = admin.get(r.headers["location"])
    assert str(exact(g)["quantity"]) == text
    listed = [x for x in exact(admin.get(f"/opportunities/{opp['id']}/lines"))["data"]]
    assert str(listed[0]["quantity"]) == text
    embedded = exact(admin.get(f"/opportunities/{opp['id']}"))["lines"]
    assert str(embedded[0]["quantity"]) == text


@pytest.mark.parametrize("quantity", [0, -1, 0.0, -0.5, 1000000.001, 1000001, 0.0001, 1.2345, "2", "1.5", True,
                                      None, [], {}, 1e400])
def test_quantity_invalid(admin, opp, product, quantity):
    if quantity == 1e400:
        raw = b'{"product_id": %d, "quantity": 1e400}' % product["id"]
        r = admin.post(f"/opportunities/{opp['id']}/lines", raw=raw)
        assert r.status in (400, 422), r
        assert_problem(r, r.status)
    else:
        r = admin.post(f"/opportunities/{opp['id']}/lines", {"product_id": product["id"], "quantity": quantity})
        assert_problem(r, 422, "quantity")
    assert get_opportunity(admin, opp["id"]) == opp


# ---------------------------------------------------------------------------
# money input and output
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("given, text", [
    ("12", "12.00"), ("12.5", "12.50"), ("12.50", "12.50"), (12, "12.00"), (12.5, "12.50"), (12.05, "12.05"),
    ("0", "0.00"), (0, "0.00"), ("0.01", "0.01"), (0.01, "0.01"), ("1000000000", MAX_PRICE), (MAX_PRICE, MAX_PRICE),
    (1000000000, MAX_PRICE), ("999999999.99", "999999999.99"), (999999999.99, "999999999.99"),
    (0.1, "0.10"), (0.29, "0.29"), (1.15, "1.15"), (2.675, None),
])
def test_money_input_accepted(admin, opp, free_product, given, text):
    if text is None:  # three decimals: refused (checks 2.675 is not rounded to 2.67/2.68)
        r = admin.post(f"/opportunities/{opp['id']}/lines", {"product_id": free_product["id"], "unit_price": given})
        assert_problem(r, 422, "unit_price")
        return
    line = add_line(admin, opp["id"], product_id=free_product["id"], unit_price=given)
    assert line["unit_price"] == text
    assert line["total"] == text
    assert get_opportunity(admin, opp["id"])["value"] == text


@pytest.mark.parametrize("given", [
    "12.345", 12.345, -1, "-1", "-0.01", -0.01, "1e3", "1E3", "abc", "", " 12", "12 ", "12,50", "+12", ".5", "12.",
    "0x10",
    "1000000000.01", 1000000000.01, "1000000001", 10000000000, "NaN", "Infinity", True, None, [], {"amount": 1},
])
def test_money_input_refused(admin, opp, free_product, given):
    r = admin.post(f"/opportunities/{opp['id']}/lines", {"product_id": free_product["id"], "unit_price": given})
    assert_problem(r, 422, "unit_price")
    assert get_opportunity(admin, opp["id"]) == opp


# JSON numbers written with more digits than allowed must be refused, never
# rounded to an allowed value (the server reads JSON numbers as doubles).
TOO_MANY_DIGITS_MONEY = [b"999999999.9999999", b"0.12999999999999999", b"1000000000.0000001", b"12.3400000000001",
                         b"0.129999999999999"]
TOO_MANY_DIGITS_QUANTITY = [b"1000000.0000000001", b"0.1250000000001", b"999999.99999999"]


def money_number_body(product_id, raw):
    return b'{"product_id": %d, "unit_price": %s}' % (product_id, raw)


@pytest.mark.parametrize("raw", TOO_MANY_DIGITS_MONEY + [
    b"12.340000000000000001",
    b"0.10000000000000000555",
    b"1000000000.000000000001",
])
def test_money_number_with_too_many_digits_is_refused(admin, opp, free_product, raw):
    r = admin.post(f"/opportunities/{opp['id']}/lines", raw=money_number_body(free_product["id"], raw))
    assert_problem(r, 422, "unit_price")
    assert get_opportunity(admin, opp["id"]) == opp


@pytest.mark.parametrize("raw", TOO_MANY_DIGITS_QUANTITY + [
    b"0.99999999999999999",
    b"1.0000000000000001",
])
def test_quantity_number_with_too_many_digits_is_refused(admin, opp, product, raw):
    body = b'{"product_id": %d, "quantity": %s}' % (product["id"], raw)
    r = admin.post(f"/opportunities/{opp['id']}/lines", raw=body)
    assert_problem(r, 422, "quantity")
    assert get_opportunity(admin, opp["id"]) == opp


def test_product_price_follows_money_rules(admin):
    assert make_product(admin, 7)["unit_price"] == "7.00"
    assert make_product(admin, "7.5")["unit_price"] == "7.50"
    assert make_product(admin, None)["unit_price"] is None
    r = admin.post("/lookups/product", {"label": unique("Product"), "unit_price": "7.001"})
    assert_problem(r, 422, "unit_price")


def test_money_output_is_always_two_decimal_strings(admin, product, free_product):
    o = make_opportunity(admin, lines=[{"product_id": product["id"]},
                                       {"product_id": free_product["id"], "unit_price": 3, "quantity": 0.5}])
    assert o["value"] == "14.00"
    assert o["weighted_value"] == "1.40"  # default status New: probability 10
    for line in o["lines"]:
        assert MONEY.match(line["unit_price"]) and MONEY.match(line["total"])
    assert [line["total"] for line in o["lines"]] == ["12.50", "1.50"]
    empty = make_opportunity(admin)
    assert empty["value"] == "0.00" and empty["weighted_value"] == "0.00" and empty["lines"] == []


# ---------------------------------------------------------------------------
# rounding: half away from zero, on exact decimals
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("quantity, unit_price, total", [
    (1.5, "0.05", "0.08"),     # 0.075 (a double holds 0.07499...)
    (0.125, "0.04", "0.01"),   # 0.005
    (3, "0.10", "0.30"),
    (0.125, "0.01", "0.00"),   # 0.00125
    (0.5, "0.01", "0.01"),     # 0.005: half away from zero
    (0.001, "5.00", "0.01"),   # 0.005
    (0.001, "4.99", "0.00"),   # 0.00499
    (1.005, "1.00", "1.01"),   # a double holds 1.00499...
    (2.675, "1.00", "2.68"),   # a double holds 2.67499...
    (0.115, "1.00", "0.12"),
    (1.015, "1.00", "1.02"),
    (0.333, "0.03", "0.01"),   # 0.00999
    (0.3, "0.10", "0.03"),
    (999999.999, "999999999.99", "999999998990000.00"),  # 999999998990000.00001
    (0.001, "0.01", "0.00"),
])
def test_line_total_rounding(admin, opp, free_product, quantity, unit_price, total):
    line = add_line(admin, opp["id"], product_id=free_product["id"], quantity=quantity, unit_price=unit_price)
    assert line["total"] == total
    expected = (Decimal(str(quantity)) * Decimal(unit_price)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert str(expected) == total  # the table itself is right
    assert get_opportunity(admin, opp["id"])["value"] == total


def test_value_is_the_exact_sum_of_rounded_line_totals(admin, opp, free_product):
    # Each line rounds up by half a cent; the value sums the rounded totals.
    for _ in range(3):
        add_line(admin, opp["id"], product_id=free_product["id"], quantity=0.5, unit_price="0.01")
    o = get_opportunity(admin, opp["id"])
    assert [line["total"] for line in o["lines"]] == ["0.01", "0.01", "0.01"]
    assert o["value"] == "0.03"
    # 0.10 + 0.20 is not 0.3 in a double
    add_line(admin, opp["id"], product_id=free_product["id"], unit_price="0.10")
    add_line(admin, opp["id"], product_id=free_product["id"], unit_price="0.20")
    assert get_opportunity(admin, opp["id"])["value"] == "0.33"


@pytest.mark.parametrize("value, probability, weighted", [
    ("0.39", 10, "0.04"),   # 0.039
    ("0.05", 10, "0.01"),   # 0.005
    ("0.04", 10, "0.00"),   # 0.004
    ("1.15", 50, "0.58"),   # 0.575 (a double holds 0.57499...)
    ("0.01", 50, "0.01"),   # 0.005
    ("0.01", 49, "0.00"),
    ("10.00", 0, "0.00"),
    ("10.01", 100, "10.01"),
    ("33.33", 33, "11.00"),  # 10.9989
])
def test_weighted_value_rounding(admin, free_product, value, probability, weighted):
    o = make_opportunity(admin, lines=[{"product_id": free_product["id"], "unit_price": value}],
                         probability=probability)
    assert o["value"] == value
    assert o["weighted_value"] == weighted
    assert get_opportunity(admin, o["id"])["weighted_value"] == weighted


def test_weighted_value_follows_probability_and_lines(admin, free_product):
    o = make_opportunity(admin, probability=10)
    add_line(admin, o["id"], product_id=free_product["id"], unit_price="0.39")
    got = get_opportunity(admin, o["id"])
    assert (got["value"], got["weighted_value"]) == ("0.39", "0.04")
    r = admin.patch(f"/opportunities/{o['id']}", {"probability": 50})
    assert r.status == 200, r
    assert (r.json["value"], r.json["weighted_value"]) == ("0.39", "0.20")  # 0.195


# ---------------------------------------------------------------------------
# the largest amounts
# ---------------------------------------------------------------------------
def test_largest_line_total(admin, opp, free_product):
    line = add_line(admin, opp["id"], product_id=free_product["id"], quantity=MAX_QUANTITY, unit_price=MAX_PRICE)
    assert line["total"] == "1000000000000000.00"
    assert str(exact(admin.get(f"/opportunities/{opp['id']}/lines/{line['id']}"))["quantity"]) == "1000000"
    o = get_opportunity(admin, opp["id"])
    assert o["value"] == "1000000000000000.00"
    assert o["weighted_value"] == "100000000000000.00"


def test_several_largest_lines_sum_exactly(admin, free_product):
    big = {"product_id": free_product["id"], "quantity": MAX_QUANTITY, "unit_price": MAX_PRICE}
    o = make_opportunity(admin, lines=[big, big, big], probability=75)
    assert o["value"] == "3000000000000000.00"
    assert o["weighted_value"] == "2250000000000000.00"
    add_line(admin, o["id"], product_id=free_product["id"], unit_price="0.01")
    add_line(admin, o["id"], product_id=free_product["id"], quantity=0.001, unit_price="0.01")  # 0.00001 -> 0.00
    got = get_opportunity(admin, o["id"])
    assert got["value"] == "3000000000000000.01"  # a double cannot hold this
    assert got["weighted_value"] == "2250000000000000.01"  # 2250000000000000.0075
    # Taking one largest line off leaves the exact rest.
    r = admin.delete(f"/opportunities/{o['id']}/lines/{got['lines'][0]['id']}")
    assert r.status == 204, r
    assert get_opportunity(admin, o["id"])["value"] == "2000000000000000.01"
    # 999999999.99 x 999999.999: 999999998990000.00001 -> .00
    r = admin.put(f"/opportunities/{o['id']}/lines", [
        {"product_id": free_product["id"], "quantity": 999999.999, "unit_price": "999999999.99"},
        {"product_id": free_product["id"], "quantity": MAX_QUANTITY, "unit_price": MAX_PRICE},
        {"product_id": free_product["id"], "quantity": 0.5, "unit_price": "0.01"},
    ])
    assert r.status == 200, r
    assert [line["total"] for line in r.json] == ["999999998990000.00", "1000000000000000.00", "0.01"]
    assert get_opportunity(admin, o["id"])["value"] == "1999999998990000.01"


def test_the_largest_allowed_set_of_lines(admin, free_product):
    o = make_opportunity(admin)
    big = {"product_id": free_product["id"], "quantity": MAX_QUANTITY, "unit_price": MAX_PRICE}
    r = admin.put(f"/opportunities/{o['id']}/lines", [big] * 1000)
    assert r.status == 200, r
    assert len(r.json) == 1000
    got = get_opportunity(admin, o["id"])
    assert got["value"] == "1000000000000000000.00"
    assert got["weighted_value"] == "100000000000000000.00"


def test_a_thousand_lines_in_one_put(admin, opp, free_product):
    lines = [{"product_id": free_product["id"], "unit_price": f"{i % 100}.{i % 97:02d}", "quantity": 1.005}
             for i in range(1000)]
    r = admin.put(f"/opportunities/{opp['id']}/lines", lines)
    assert r.status == 200, r
    assert len(r.json) == 1000
    assert [line["position"] for line in r.json] == list(range(1, 1001))
    expected = sum((Decimal("1.005") * Decimal(x["unit_price"])).quantize(Decimal("0.01"), ROUND_HALF_UP)
                   for x in lines)
    got = get_opportunity(admin, opp["id"])
    assert got["value"] == f"{expected:.2f}"
    assert got["version"] == opp["version"] + 1
    assert sum(Decimal(line["total"]) for line in got["lines"]) == expected


def test_more_than_1000_lines_on_create_is_refused(admin, product):
    acc = make_account(admin)
    r = admin.post("/opportunities", {"account_id": acc["id"], "lines": [{"product_id": product["id"]}] * 1001})
    assert_problem(r, 422, "lines")


def test_a_product_on_a_line_cannot_be_deleted(admin, opp):
    p = make_product(admin, "1.00")
    add_line(admin, opp["id"], product_id=p["id"])
    add_line(admin, opp["id"], product_id=p["id"])
    r = admin.delete(f"/lookups/product/{p['id']}")
    doc = assert_problem(r, 409)
    assert doc["reference_count"] == 2
    assert admin.get(f"/lookups/product/{p['id']}").status == 200


def test_an_opportunity_has_at_most_1000_lines(admin, opp, product):
    r = admin.put(f"/opportunities/{opp['id']}/lines", [{"product_id": product["id"]}] * 1000)
    assert r.status == 200, r
    before = get_opportunity(admin, opp["id"])
    assert before["value"] == "12500.00"
    r = admin.post(f"/opportunities/{opp['id']}/lines", {"product_id": product["id"]})
    assert_problem(r, 422, "lines")
    assert get_opportunity(admin, opp["id"]) == before
    # one out, one in
    r = admin.delete(f"/opportunities/{opp['id']}/lines/{before['lines'][-1]['id']}")
    assert r.status == 204, r
    add_line(admin, opp["id"], product_id=product["id"], unit_price="1")
    assert get_opportunity(admin, opp["id"])["value"] == "12488.50"


def test_largest_values_page_by_value(admin, free_product):
    """Opportunity lists sorted by value page through the largest values too."""
    tag = unique("Big")
    big = {"product_id": free_product["id"], "quantity": MAX_QUANTITY, "unit_price": MAX_PRICE}
    made = []
    for n in (1, 10, 100, 1000):
        o = make_opportunity(admin, name=f"{tag}-{n}")
        r = admin.put(f"/opportunities/{o['id']}/lines", [big] * n)
        assert r.status == 200, r
        made.append((o["id"], get_opportunity(admin, o["id"])["value"]))
    assert [v for _, v in made] == ["1000000000000000.00", "10000000000000000.00", "100000000000000000.00",
                                    "1000000000000000000.00"]
    for sort, expected in (("value", made), ("-value", made[::-1])):
        seen, cursor = [], None
        for _ in range(10):
            r = admin.get(f"/opportunities?q={tag}&sort={sort}&limit=1" + (f"&cursor={cursor}" if cursor else ""))
            assert r.status == 200, r
            seen += [(x["id"], x["value"]) for x in r.json["data"]]
            cursor = r.json["next_cursor"]
            if cursor is None:
                break
        assert seen == expected


def test_more_than_1000_lines_in_one_put_is_refused(admin, opp, product):
    r = admin.put(f"/opportunities/{opp['id']}/lines", [{"product_id": product["id"]}] * 1001)
    assert_problem(r, 422)
    assert get_opportunity(admin, opp["id"]) == opp


# ---------------------------------------------------------------------------
# every line change moves the opportunity once
# ---------------------------------------------------------------------------
def test_every_line_change_moves_value_updated_at_and_version_once(admin, opp, product, free_product):
    before = get_opportunity(admin, opp["id"])
    assert before["version"] == 1 and before["value"] == "0.00"

    def step(expect_value):
        nonlocal before
        after = get_opportunity(admin, opp["id"])
        assert after["version"] == before["version"] + 1
        assert after["updated_at"] > before["updated_at"]
        assert after["value"] == expect_value
        before = after
        return after

    # add
    line = add_line(admin, opp["id"], product_id=product["id"], quantity=2)
    step("25.00")
    # patch a quantity
    r = admin.patch(f"/opportunities/{opp['id']}/lines/{line['id']}", {"quantity": 3})
    assert r.status == 200, r
    assert r.json["total"] == "37.50" and r.json["version"] == 2
    assert r.headers["etag"] == '"2"'
    step("37.50")
    # patch the price and the quantity together: still one step
    r = admin.patch(f"/opportunities/{opp['id']}/lines/{line['id']}", {"quantity": 1, "unit_price": "1.10"},
                    content_type="application/merge-patch+json")
    assert r.status == 200, r
    step("1.10")
    # a change that leaves the total alone still changes the opportunity
    r = admin.patch(f"/opportunities/{opp['id']}/lines/{line['id']}", {"position": 7, "description": "moved"})
    assert r.status == 200, r
    assert r.json["position"] == 7
    step("1.10")
    # replace the whole set: one step however many rows
    r = admin.put(f"/opportunities/{opp['id']}/lines", [
        {"product_id": product["id"]}, {"product_id": free_product["id"], "unit_price": "2"},
        {"product_id": product["id"], "quantity": 0.5},
    ])
    assert r.status == 200, r
    after = step("20.75")
    assert r.headers["etag"] == f'"{after["version"]}"'
    # delete one
    r = admin.delete(f"/opportunities/{opp['id']}/lines/{r.json[0]['id']}")
    assert r.status == 204, r
    assert r.body == b""
    step("8.25")
    # replace with nothing
    r = admin.put(f"/opportunities/{opp['id']}/lines", [])
    assert r.status == 200, r
    assert r.json == []
    step("0.00")


def test_patch_with_the_same_values_changes_nothing(admin, opp, product):
    line = add_line(admin, opp["id"], product_id=product["id"], quantity=1.5, description="same")
    before = get_opportunity(admin, opp["id"])
    r = admin.patch(f"/opportunities/{opp['id']}/lines/{line['id']}",
                    {"quantity": 1.5, "description": "same", "unit_price": 12.5, "product_id": product["id"]})
    assert r.status == 200, r
    assert r.json == line
    assert get_opportunity(admin, opp["id"]) == before


def test_create_opportunity_with_lines_is_version_1(admin, product, free_product):
    o = make_opportunity(admin, lines=[
        {"product_id": product["id"], "quantity": 2, "description": "a"},
        {"product_id": free_product["id"], "unit_price": "0.05", "quantity": 1.5},
        {"product_id": product["id"], "position": -3},
    ])
    assert o["version"] == 1
    assert o["value"] == "37.58"  # 25.00 + 0.08 + 12.50
    # ordered by position: -3 first, then 1, 2
    assert [(line["position"], line["total"]) for line in o["lines"]] == [(-3, "12.50"), (1, "25.00"), (2, "0.08")]
    assert all(line["version"] == 1 and line["opportunity_id"] == o["id"] for line in o["lines"])


def test_create_opportunity_with_a_bad_line_creates_nothing(admin, product, free_product):
    name = unique("Deal")
    acc = make_account(admin)
    r = admin.post("/opportunities", {"account_id": acc["id"], "name": name, "lines": [
        {"product_id": product["id"]}, {"product_id": product["id"], "quantity": 0}]})
    assert_problem(r, 422, "lines[1].quantity")
    r = admin.post("/opportunities", {"account_id": acc["id"], "name": name, "lines": [
        {"product_id": product["id"]}, {"product_id": free_product["id"]}]})
    assert_problem(r, 422, "lines[1].unit_price")
    listed = admin.get(f"/opportunities?q={name}")
    assert listed.status == 200 and listed.json["data"] == []


def test_line_patch_changes_only_what_is_given(admin, opp, product):
    line = add_line(admin, opp["id"], product_id=product["id"], quantity=2, description="keep")
    r = admin.patch(f"/opportunities/{opp['id']}/lines/{line['id']}", {"unit_price": "1"})
    assert r.status == 200, r
    got = r.json
    assert (got["quantity"], got["unit_price"], got["total"], got["description"], got["position"]) == \
        (2, "1.00", "2.00", "keep", 1)
    assert got["created_at"] == line["created_at"]
    assert got["updated_at"] > line["updated_at"]
    assert admin.get(f"/opportunities/{opp['id']}/lines/{line['id']}").json == got


@pytest.mark.parametrize("body, field", [
    ({"quantity": 0}, "quantity"), ({"quantity": None}, "quantity"), ({"unit_price": None}, "unit_price"),
    ({"unit_price": "1.234"}, "unit_price"), ({"product_id": None}, "product_id"), ({"total": "5.00"}, "total"),
    ({"id": 1}, "id"), ({"nope": 1}, "nope"), ({"product_id": 999999999}, "product_id"),
])
def test_line_patch_invalid(admin, opp, product, body, field):
    line = add_line(admin, opp["id"], product_id=product["id"])
    before = get_opportunity(admin, opp["id"])
    r = admin.patch(f"/opportunities/{opp['id']}/lines/{line['id']}", body)
    assert_problem(r, 422, field)
    assert get_opportunity(admin, opp["id"]) == before


def test_line_patch_to_inactive_product_is_refused(admin, opp, product):
    line = add_line(admin, opp["id"], product_id=product["id"])
    p = make_product(admin, "1.00")
    assert admin.patch(f"/lookups/product/{p['id']}", {"active": False}).status == 200
    before = get_opportunity(admin, opp["id"])
    r = admin.patch(f"/opportunities/{opp['id']}/lines/{line['id']}", {"product_id": p["id"]})
    assert_problem(r, 422, "product_id")
    assert get_opportunity(admin, opp["id"]) == before


def test_inactive_product_stays_on_existing_lines(admin, opp):
    p = make_product(admin, "4.00")
    line = add_line(admin, opp["id"], product_id=p["id"])
    assert admin.patch(f"/lookups/product/{p['id']}", {"active": False}).status == 200
    r = admin.patch(f"/opportunities/{opp['id']}/lines/{line['id']}", {"quantity": 2})
    assert r.status == 200, r
    assert r.json["product_id"] == p["id"] and r.json["total"] == "8.00"


# ---------------------------------------------------------------------------
# PUT /opportunities/{id}/lines
# ---------------------------------------------------------------------------
def test_put_lines_replaces_the_set(admin, opp, product, free_product):
    old = add_line(admin, opp["id"], product_id=product["id"])
    r = admin.put(f"/opportunities/{opp['id']}/lines", [
        {"product_id": free_product["id"], "unit_price": "1.25", "quantity": 4, "description": "first"},
        {"product_id": product["id"]},
    ])
    assert r.status == 200, r
    assert r.content_type == "application/json; charset=utf-8"
    lines = r.json
    assert isinstance(lines, list) and len(lines) == 2
    assert all(set(line) == LINE_KEYS for line in lines)
    assert old["id"] not in [line["id"] for line in lines]
    assert [(line["position"], line["total"], line["description"]) for line in lines] == \
        [(1, "5.00", "first"), (2, "12.50", None)]
    o = get_opportunity(admin, opp["id"])
    assert r.headers["etag"] == f'"{o["version"]}"'  # the opportunity's version
    assert o["lines"] == lines
    assert o["value"] == "17.50"
    assert list_lines(admin, opp["id"]) == lines
    g = admin.get(f"/opportunities/{opp['id']}/lines/{old['id']}")
    assert_problem(g, 404)


def test_put_lines_orders_by_given_positions(admin, opp, product):
    r = admin.put(f"/opportunities/{opp['id']}/lines", [
        {"product_id": product["id"], "position": 30, "description": "c"},
        {"product_id": product["id"], "position": 10, "description": "a"},
        {"product_id": product["id"], "position": 20, "description": "b"},
    ])
    assert r.status == 200, r
    assert [line["description"] for line in r.json] == ["a", "b", "c"]
    assert [line["description"] for line in list_lines(admin, opp["id"])] == ["a", "b", "c"]


@pytest.mark.parametrize("bad, field", [
    ({"quantity": 0}, "[1].quantity"),
    ({"quantity": "2"}, "[1].quantity"),
    ({"unit_price": "12.345"}, "[1].unit_price"),
    ({"nope": 1}, "[1].nope"),
    ({"id": 3}, "[1].id"),
    ("inactive", "[1].product_id"),
    ("unpriced", "[1].unit_price"),
    ("unknown", "[1].product_id"),
    ("missing", "[1].product_id"),
    ("not-an-object", "[1]"),
])
def test_put_lines_is_atomic(admin, opp, product, free_product, bad, field):
    add_line(admin, opp["id"], product_id=product["id"], quantity=2)
    add_line(admin, opp["id"], product_id=free_product["id"], unit_price="3")
    before = get_opportunity(admin, opp["id"])
    if bad == "inactive":
        p = make_product(admin, "1.00")
        assert admin.patch(f"/lookups/product/{p['id']}", {"active": False}).status == 200
        second = {"product_id": p["id"]}
    elif bad == "unpriced":
        second = {"product_id": free_product["id"]}
    elif bad == "unknown":
        second = {"product_id": 999999999}
    elif bad == "missing":
        second = {"quantity": 1}
    elif bad == "not-an-object":
        second = 7
    else:
        second = dict(bad, product_id=product["id"])
    r = admin.put(f"/opportunities/{opp['id']}/lines", [{"product_id": product["id"], "quantity": 9}, second,
                                                         {"product_id": product["id"]}])
    doc = assert_problem(r, 422, field)
    assert all(e["field"].startswith("[1]") for e in doc["errors"]), doc
    assert get_opportunity(admin, opp["id"]) == before


def test_put_lines_reports_every_bad_line(admin, opp, product, free_product):
    r = admin.put(f"/opportunities/{opp['id']}/lines", [
        {"product_id": product["id"], "quantity": 0}, {"product_id": product["id"]},
        {"product_id": product["id"], "unit_price": -1}])
    doc = assert_problem(r, 422)
    assert {e["field"] for e in doc["errors"]} == {"[0].quantity", "[2].unit_price"}
    # errors found by the database are listed together too
    p = make_product(admin, "1.00")
    assert admin.patch(f"/lookups/product/{p['id']}", {"active": False}).status == 200
    r = admin.put(f"/opportunities/{opp['id']}/lines", [
        {"product_id": free_product["id"]}, {"product_id": product["id"]}, {"product_id": p["id"]}])
    doc = assert_problem(r, 422)
    assert {e["field"] for e in doc["errors"]} == {"[0].unit_price", "[2].product_id"}
    assert get_opportunity(admin, opp["id"]) == opp


@pytest.mark.parametrize("raw", [b'{"product_id": 1}', b'"lines"', b"null", b"3"])
def test_put_lines_needs_an_array(admin, opp, raw):
    r = admin.put(f"/opportunities/{opp['id']}/lines", raw=raw)
    assert_problem(r, 400)
    assert get_opportunity(admin, opp["id"]) == opp


# ---------------------------------------------------------------------------
# not found
# ---------------------------------------------------------------------------
def test_line_of_another_opportunity_is_404(admin, product):
    a = make_opportunity(admin)
    b = make_opportunity(admin)
    line = add_line(admin, a["id"], product_id=product["id"])
    base = f"/opportunities/{b['id']}/lines/{line['id']}"
    assert_problem(admin.get(base), 404)
    assert_problem(admin.patch(base, {"quantity": 5}), 404)
    assert_problem(admin.delete(base), 404)
    b_after = get_opportunity(admin, b["id"])
    assert b_after == b
    a_after = get_opportunity(admin, a["id"])
    assert a_after["lines"] == [line]


def test_unknown_line_and_opportunity_are_404(admin, opp, product):
    assert_problem(admin.get(f"/opportunities/{opp['id']}/lines/999999999"), 404)
    assert_problem(admin.patch(f"/opportunities/{opp['id']}/lines/999999999", {"quantity": 2}), 404)
    assert_problem(admin.delete(f"/opportunities/{opp['id']}/lines/999999999"), 404)
    assert_problem(admin.post("/opportunities/999999999/lines", {"product_id": product["id"]}), 404)
    assert_problem(admin.put("/opportunities/999999999/lines", []), 404)
    assert_problem(admin.get(f"/opportunities/{opp['id']}/lines/0"), 404)
    assert_problem(admin.get(f"/opportunities/{opp['id']}/lines/abc"), 404)


def test_line_list_of_a_missing_opportunity_is_404(admin, free_product):
    # With lines in the table the planner reads the lines index first and never
    # calls the existence check when no line matches (on an empty table it may not).
    other = make_opportunity(admin)
    r = admin.put(f"/opportunities/{other['id']}/lines",
                  [{"product_id": free_product["id"], "unit_price": "1"}] * 300)
    assert r.status == 200, r
    gone = make_opportunity(admin)
    assert admin.delete(f"/opportunities/{gone['id']}").status == 204
    statuses = []
    for _ in range(8):  # custom and generic plans of the prepared statement
        statuses.append(admin.get("/opportunities/999999999/lines").status)
        statuses.append(admin.get(f"/opportunities/{gone['id']}/lines").status)
    assert statuses == [404] * 16


def test_lines_of_a_deleted_opportunity_are_404(admin, product):
    o = make_opportunity(admin)
    line = add_line(admin, o["id"], product_id=product["id"])
    r = admin.delete(f"/opportunities/{o['id']}")
    assert r.status == 204, r
    base = f"/opportunities/{o['id']}/lines"
    assert_problem(admin.get(base), 404)
    assert_problem(admin.get(f"{base}/{line['id']}"), 404)
    assert_problem(admin.post(base, {"product_id": product["id"]}), 404)
    assert_problem(admin.put(base, [{"product_id": product["id"]}]), 404)
    assert_problem(admin.patch(f"{base}/{line['id']}", {"quantity": 2}), 404)
    assert_problem(admin.delete(f"{base}/{line['id']}"), 404)
    # nothing moved the tombstone
    r = admin.get(f"/opportunities?include_deleted=true&q={o['name']}")
    assert r.status == 200, r
    [tomb] = r.json["data"]
    assert tomb["value"] == "12.50" and tomb["deleted_at"] is not None


def test_lines_need_a_token(anon, opp):
    assert_problem(anon.get(f"/opportunities/{opp['id']}/lines"), 401)
    assert_problem(anon.post(f"/opportunities/{opp['id']}/lines", {"product_id": 1}), 401)
    assert_problem(anon.put(f"/opportunities/{opp['id']}/lines", []), 401)


def test_members_work_with_lines(admin, member_client, product):
    o = make_opportunity(member_client)
    line = add_line(member_client, o["id"], product_id=product["id"], quantity=2)
    assert line["total"] == "25.00"
    r = member_client.put(f"/opportunities/{o['id']}/lines", [{"product_id": product["id"]}])
    assert r.status == 200, r
    assert get_opportunity(admin, o["id"])["value"] == "12.50"


# ---------------------------------------------------------------------------
# paging
# ---------------------------------------------------------------------------
def test_line_paging_with_position_ties(admin, opp, product):
    r = admin.put(f"/opportunities/{opp['id']}/lines", [
        {"product_id": product["id"], "position": 5, "description": "p5-a"},
        {"product_id": product["id"], "position": 1, "description": "p1"},
        {"product_id": product["id"], "position": 5, "description": "p5-b"},
        {"product_id": product["id"], "position": -2, "description": "m2"},
        {"product_id": product["id"], "position": 5, "description": "p5-c"},
        {"product_id": product["id"], "position": 3, "description": "p3"},
        {"product_id": product["id"], "position": 5, "description": "p5-d"},
    ])
    assert r.status == 200, r
    full = r.json
    ids_in_order = [line["id"] for line in sorted(full, key=lambda x: (x["position"], x["id"]))]
    assert [line["id"] for line in full] == ids_in_order
    assert [line["description"] for line in full] == ["m2", "p1", "p3", "p5-a", "p5-b", "p5-c", "p5-d"]

    seen, pages, cursor = [], 0, None
    while True:
        path = f"/opportunities/{opp['id']}/lines?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = admin.get(path)
        assert page.status == 200, page
        pages += 1
        seen += page.json["data"]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
        assert len(page.json["data"]) == 2
        assert re.match(r"^[A-Za-z0-9_-]+$", cursor)
    assert pages == 4
    assert seen == full


def test_line_paging_exact_last_page(admin, opp, product):
    admin.put(f"/opportunities/{opp['id']}/lines", [{"product_id": product["id"]}] * 4)
    p1 = admin.get(f"/opportunities/{opp['id']}/lines?limit=2")
    p2 = admin.get(f"/opportunities/{opp['id']}/lines?limit=2&cursor={p1.json['next_cursor']}")
    assert len(p2.json["data"]) == 2
    assert p2.json["next_cursor"] is None
    assert admin.get(f"/opportunities/{opp['id']}/lines?limit=4").json["next_cursor"] is None


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=x", "limit"), ("cursor=%%%", None),
    ("cursor=bm9wZQ", "cursor"), ("sort=position", "sort"), ("include_deleted=true", "include_deleted"),
])
def test_line_list_bad_query(admin, opp, query, field):
    r = admin.get(f"/opportunities/{opp['id']}/lines?{query}")
    assert_problem(r, 400, field)


def test_line_cursor_of_another_opportunity_is_refused(admin, opp, product):
    other = make_opportunity(admin)
    for o in (opp, other):
        admin.put(f"/opportunities/{o['id']}/lines", [{"product_id": product["id"]}] * 3)
    cursor = admin.get(f"/opportunities/{other['id']}/lines?limit=1").json["next_cursor"]
    assert cursor
    assert_problem(admin.get(f"/opportunities/{opp['id']}/lines?limit=1&cursor={cursor}"), 400, "cursor")
    assert admin.get(f"/opportunities/{other['id']}/lines?limit=1&cursor={cursor}").status == 200


def test_line_cursor_of_another_list_is_refused(admin, opp, product):
    for _ in range(3):
        add_line(admin, opp["id"], product_id=product["id"])
    for _ in range(2):
        make_account(admin)
    other = admin.get("/accounts?limit=1").json["next_cursor"]
    assert other
    assert_problem(admin.get(f"/opportunities/{opp['id']}/lines?cursor={other}"), 400, "cursor")


# ---------------------------------------------------------------------------
# If-Match
# ---------------------------------------------------------------------------
def test_if_match_on_line_patch_and_delete_is_the_line_version(admin, opp, product):
    line = add_line(admin, opp["id"], product_id=product["id"])
    url = f"/opportunities/{opp['id']}/lines/{line['id']}"
    opp_version = get_opportunity(admin, opp["id"])["version"]
    assert opp_version != 1  # so the line's version and the opportunity's differ
    r = admin.patch(url, {"quantity": 2}, headers={"If-Match": '"1"'})
    assert r.status == 200, r
    assert r.headers["etag"] == '"2"'
    before = get_opportunity(admin, opp["id"])
    r = admin.patch(url, {"quantity": 3}, headers={"If-Match": '"1"'})
    assert_problem(r, 412)
    r = admin.delete(url, headers={"If-Match": '"1"'})
    assert_problem(r, 412)
    r = admin.delete(url, headers={"If-Match": f'"{before["version"]}"'})  # the opportunity's: not the line's
    assert_problem(r, 412)
    assert get_opportunity(admin, opp["id"]) == before
    r = admin.get(url, headers={"If-None-Match": '"2"'})
    assert r.status == 304 and r.body == b""
    r = admin.delete(url, headers={"If-Match": '"2"'})
    assert r.status == 204, r
    assert_problem(admin.get(url), 404)


def test_if_match_on_add_and_replace_is_the_opportunity_version(admin, opp, product):
    base = f"/opportunities/{opp['id']}/lines"
    r = admin.post(base, {"product_id": product["id"]}, headers={"If-Match": '"1"'})
    assert r.status == 201, r
    assert r.json["version"] == 1
    before = get_opportunity(admin, opp["id"])
    assert before["version"] == 2
    r = admin.post(base, {"product_id": product["id"]}, headers={"If-Match": '"1"'})  # the line's, stale for the deal
    assert_problem(r, 412)
    r = admin.put(base, [], headers={"If-Match": '"1"'})
    assert_problem(r, 412)
    assert get_opportunity(admin, opp["id"]) == before
    r = admin.put(base, [{"product_id": product["id"], "quantity": 3}], headers={"If-Match": '"2"'})
    assert r.status == 200, r
    assert r.headers["etag"] == '"3"'
    r = admin.post(base, {"product_id": product["id"]}, headers={"If-Match": '"3"'})
    assert r.status == 201, r
    after = get_opportunity(admin, opp["id"])
    assert after["version"] == 4 and after["value"] == "50.00"


def test_if_match_star_and_weak_tags(admin, opp, product):
    line = add_line(admin, opp["id"], product_id=product["id"])
    url = f"/opportunities/{opp['id']}/lines/{line['id']}"
    r = admin.patch(url, {"quantity": 2}, headers={"If-Match": "*"})
    assert r.status == 200, r
    r = admin.patch(url, {"quantity": 3}, headers={"If-Match": 'W/"2"'})  # weak tags never match If-Match
    assert_problem(r, 412)


# ---------------------------------------------------------------------------
# concurrency
# ---------------------------------------------------------------------------
def run_together(n, fn):
    """Runs fn(i) in n threads released at the same moment; returns results by i."""
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


def test_twenty_clients_add_lines_at_once(admin_token, admin, opp, free_product):
    before = get_opportunity(admin, opp["id"])
    prices = [Decimal(f"{i}.{i:02d}") for i in range(1, 21)]  # 1.01, 2.02, ... 20.20
    quantities = [Decimal("1.5") if i % 2 else Decimal(1) for i in range(20)]

    def add(i):
        c = Client(admin_token)
        return c.post(f"/opportunities/{opp['id']}/lines",
                      {"product_id": free_product["id"], "unit_price": str(prices[i]),
                       "quantity": float(quantities[i])})

    results = run_together(20, add)
    assert [r.status for r in results] == [201] * 20, results
    expected = sum((q * p).quantize(Decimal("0.01"), ROUND_HALF_UP) for q, p in zip(quantities, prices))
    after = get_opportunity(admin, opp["id"])
    assert Decimal(after["value"]) == expected
    assert after["value"] == str(expected)
    assert after["version"] == before["version"] + 20
    assert len(after["lines"]) == 20
    assert sorted(line["position"] for line in after["lines"]) == list(range(1, 21))
    assert sorted(line["id"] for line in after["lines"]) == sorted(r.json["id"] for r in results)


def test_two_patches_with_the_same_if_match(admin_token, admin, product):
    for round_no in range(5):
        o = make_opportunity(admin)
        v = get_opportunity(admin, o["id"])["version"]

        def patch(i):
            return Client(admin_token).patch(f"/opportunities/{o['id']}", {"next_step": f"step {i}"},
                                             headers={"If-Match": f'"{v}"'})

        results = run_together(2, patch)
        statuses = sorted(r.status for r in results)
        assert statuses == [200, 412], (round_no, results)
        winner = next(r for r in results if r.status == 200)
        loser = next(r for r in results if r.status == 412)
        assert_problem(loser, 412)
        after = get_opportunity(admin, o["id"])
        assert after["version"] == v + 1
        assert after["next_step"] == winner.json["next_step"]


def test_two_line_patches_with_the_same_if_match(admin_token, admin, opp, product):
    line = add_line(admin, opp["id"], product_id=product["id"])
    url = f"/opportunities/{opp['id']}/lines/{line['id']}"

    def patch(i):
        return Client(admin_token).patch(url, {"quantity": i + 2}, headers={"If-Match": '"1"'})

    results = run_together(2, patch)
    assert sorted(r.status for r in results) == [200, 412], results
    winner = next(r for r in results if r.status == 200)
    after = get_opportunity(admin, opp["id"])
    assert after["value"] == winner.json["total"]
    assert after["lines"][0]["version"] == 2


def test_concurrent_replace_and_add_keep_the_sum(admin_token, admin, opp, free_product):
    """PUT and POST racing: whatever the order, value = sum of the lines left."""
    def act(i):
        c = Client(admin_token)
        if i % 2 == 0:
            return c.put(f"/opportunities/{opp['id']}/lines",
                         [{"product_id": free_product["id"], "unit_price": "0.10", "quantity": 3}] * 3)
        return c.post(f"/opportunities/{opp['id']}/lines", {"product_id": free_product["id"], "unit_price": "0.05",
                                                            "quantity": 1.5})

    results = run_together(10, act)
    assert sorted(r.status for r in results) == [200] * 5 + [201] * 5, results
    after = get_opportunity(admin, opp["id"])
    total = sum(Decimal(line["total"]) for line in after["lines"])
    assert after["value"] == f"{total:.2f}"
    assert after["version"] == opp["version"] + 10
