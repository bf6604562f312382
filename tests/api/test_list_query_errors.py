"""Query errors of every list endpoint (SPEC §5, §7): a `limit` outside
1–500 is a 400 naming `limit` even when the `cursor` beside it is a good
one, and every query error is listed in the same 400.

Each bad request is sent many times: a list handler that decoded the cursor
and then failed on another parameter must still free it, and under the
sanitizer build (`make test-sanitize`) a leak on such a path shows as
hundreds of LeakSanitizer objects when the server stops."""
import base64
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import assert_problem, make_account, make_user, unique

REPO = Path(__file__).resolve().parents[2]
REPEATS = 20  # per request; about 700 bad requests in all


def problem_fields(doc):
    return sorted(e["field"] for e in doc["errors"])


def first_page(client, path):
    """GET path with limit=1; returns its next_cursor (there must be one)."""
    sep = "&" if "?" in path else "?"
    r = client.get(f"{path}{sep}limit=1")
    assert r.status == 200, r
    assert r.json["next_cursor"], r
    return r.json["next_cursor"]


@pytest.fixture(scope="module")
def lists(admin):
    """Every list endpoint with data enough for two pages: {name: path}."""
    tag = unique("lq")
    user, _ = make_user(admin)
    assert admin.post(f"/users/{user['id']}/tokens", {"name": "second"}).status == 201
    product = admin.post("/lookups/product", {"label": unique("Product"), "unit_price": "10.00"})
    assert product.status == 201, product
    assert admin.post("/lookups/product", {"label": unique("Product"), "unit_price": "5.00"}).status == 201
    account = make_account(admin, name=f"{tag} a")
    make_account(admin, name=f"{tag} b")
    lines = [{"product_id": product.json["id"]}, {"product_id": product.json["id"]}]
    created = (datetime.now(timezone.utc) - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    opps = []
    for i in range(2):
        r = admin.post("/opportunities", {"account_id": account["id"], "name": f"{tag} {i}", "lines": lines,
                                          "created_at": created})
        assert r.status == 201, r
        opps.append(r.json)
    # Two fields changed after the grace window: two history entries.
    r = admin.patch(f"/opportunities/{opps[0]['id']}", {"next_step": "call", "competitor": "Globex"})
    assert r.status == 200, r
    for _ in range(2):
        r = admin.post("/forecast-reports", {"name": unique("Report"), "period": "this_month"})
        assert r.status == 201, r
    # Two webhooks, turned off (nothing is sent), the first with two pings.
    hooks = [admin.post("/webhooks", {"url": "https://example.com/lq", "events": ["lookup_item.deleted"],
                                      "active": False}).json["id"] for _ in range(2)]
    for _ in range(2):
        assert admin.post(f"/webhooks/{hooks[0]}/ping").status == 202
    return {
        "accounts": f"/accounts?q={tag}",
        "account opportunities": f"/accounts/{account['id']}/opportunities",
        "opportunities": f"/opportunities?account_id={account['id']}",
        "opportunities by name": f"/opportunities?account_id={account['id']}&sort=-name",
        "opportunity lines": f"/opportunities/{opps[0]['id']}/lines",
        "opportunity history": f"/opportunities/{opps[0]['id']}/history",
        "users": "/users",
        "user tokens": f"/users/{user['id']}/tokens",
        "lookup items": "/lookups/product",
        "forecast reports": "/forecast-reports",
        "webhooks": "/webhooks",
        "webhook deliveries": f"/webhooks/{hooks[0]}/deliveries",
        "change feed": "/changes",
    }


# Each case and the route it pages (as written in api/app/routes.c).
ROUTES = {
    "accounts": "/accounts",
    "account opportunities": "/accounts/:id/opportunities",
    "opportunities": "/opportunities",
    "opportunities by name": "/opportunities",  # another sort, another cursor kind
    "opportunity lines": "/opportunities/:id/lines",
    "opportunity history": "/opportunities/:id/history",
    "users": "/users",
    "user tokens": "/users/:id/tokens",
    "lookup items": "/lookups/:table",
    "forecast reports": "/forecast-reports",
    "webhooks": "/webhooks",
    "webhook deliveries": "/webhooks/:id/deliveries",
    "change feed": "/changes",
}
LIST_NAMES = list(ROUTES)
# A bad value of another query parameter, for the lists that take more.
OTHER_BAD = {
    "accounts": "owner_id=x",
    "account opportunities": "outcome=maybe",
    "opportunities": "owner_id=x",
    "opportunities by name": "close_from=x",
    "users": "active=maybe",
    "lookup items": "active=maybe",
    "forecast reports": "shared=maybe",
    "change feed": "types=x",
}


def test_every_paged_route_has_a_case(lists):
    text = (REPO / "api" / "app" / "routes.c").read_text()
    paged = {m.group(1): m.group(2) != ","
             for m in re.finditer(r'(?:\{|ROUTE\()"GET",\s*"([^"]+)",\s*ACCESS_[A-Z]+,\s*BODY_[A-Z]+,\s*LIST\s*(.)', text)}
    assert paged and set(paged) == set(ROUTES.values())
    assert {name for name, route in ROUTES.items() if paged[route]} == set(OTHER_BAD)
    assert sorted(lists) == sorted(LIST_NAMES)


@pytest.mark.parametrize("name", LIST_NAMES)
@pytest.mark.parametrize("limit", ["0", "501"])
def test_bad_limit_with_a_good_cursor_is_400_naming_limit(admin, lists, name, limit):
    path = lists[name]
    cursor = first_page(admin, path)
    sep = "&" if "?" in path else "?"
    # The cursor itself is good: the next page answers.
    assert admin.get(f"{path}{sep}limit=1&cursor={cursor}").status == 200
    for _ in range(REPEATS):
        doc = assert_problem(admin.get(f"{path}{sep}limit={limit}&cursor={cursor}"), 400, "limit")
        assert doc["type"] == "/problems/bad-request"
        assert problem_fields(doc) == ["limit"]


@pytest.mark.parametrize("name", OTHER_BAD)
def test_another_bad_parameter_with_a_good_cursor_is_400(admin, lists, name):
    path, bad = lists[name], OTHER_BAD[name]
    cursor = first_page(admin, path)
    sep = "&" if "?" in path else "?"
    field = bad.split("=")[0]
    for _ in range(REPEATS):
        doc = assert_problem(admin.get(f"{path}{sep}{bad}&limit=1&cursor={cursor}"), 400, field)
        assert problem_fields(doc) == [field]


@pytest.mark.parametrize("name", LIST_NAMES)
def test_bad_limit_and_a_cursor_of_another_list_are_listed_together(admin, lists, name):
    path = lists[name]
    other = first_page(admin, "/users" if name != "users" else "/forecast-reports")
    sep = "&" if "?" in path else "?"
    for _ in range(REPEATS // 4):
        doc = assert_problem(admin.get(f"{path}{sep}limit=0&cursor={other}"), 400)
        assert problem_fields(doc) == ["cursor", "limit"]


@pytest.mark.parametrize("name", ["opportunity lines", "lookup items"])
def test_bad_limit_and_a_cursor_with_a_bad_key_are_listed_together(admin, lists, name):
    """A cursor of the right kind whose key does not parse (lines and lookup
    items take "position,id"): both errors, not the limit alone."""
    path = lists[name]
    cursor = first_page(admin, path)
    kind = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")[0]
    forged = base64.urlsafe_b64encode(f"{kind}|1".encode()).decode().rstrip("=")
    assert_problem(admin.get(f"{path}?limit=1&cursor={quote(forged)}"), 400, "cursor")
    for _ in range(REPEATS // 4):
        doc = assert_problem(admin.get(f"{path}?limit=0&cursor={quote(forged)}"), 400)
        assert problem_fields(doc) == ["cursor", "limit"]
