"""Users, API tokens and authentication, over real HTTP.

Covers /users, /users/me, /users/{id}, /users/{id}/tokens, /tokens/{id},
the bearer-token check on every protected route, the role checks, and the
`crm-api create-admin` command. The shared database is used by the whole
run: every test makes its own users and tokens and never demotes or
deactivates the session admin. The "last active admin" rule needs a
database with a single admin, so those tests start a private server on a
private database of the same PostgreSQL cluster (see `private_api`).
"""
import os
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from conftest import BIN, Client, assert_problem, make_user, unique

JSON = "application/json; charset=utf-8"
USER_KEYS = {"id", "name", "email", "role", "active", "created_at", "updated_at", "version"}
TOKEN_KEYS = {"id", "user_id", "name", "created_at", "last_used_at", "revoked_at"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
SECRET = re.compile(r"^crm_[A-Za-z0-9_-]{43}$")
REPO = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- helpers

def email():
    return f"{unique('u')}@example.com"


def new_user(admin, **fields):
    body = {"name": unique("User"), "email": email()}
    body.update(fields)
    r = admin.post("/users", body)
    assert r.status == 201, r
    return r.json


def new_token(client, user_id, name="tests"):
    r = client.post(f"/users/{user_id}/tokens", {"name": name})
    assert r.status == 201, r
    return r.json


def assert_json(resp, status=200):
    assert resp.status == status, resp
    assert resp.content_type == JSON, resp.headers
    assert resp.headers["x-request-id"]
    return resp.json


def assert_user_shape(user):
    assert set(user) == USER_KEYS, user
    assert isinstance(user["id"], int) and user["id"] > 0
    assert user["role"] in ("admin", "member")
    assert isinstance(user["active"], bool)
    assert isinstance(user["version"], int) and user["version"] >= 1
    assert TIMESTAMP.match(user["created_at"]), user
    assert TIMESTAMP.match(user["updated_at"]), user
    assert user["updated_at"] >= user["created_at"]


def assert_token_shape(token):
    assert set(token) == TOKEN_KEYS, token
    assert TIMESTAMP.match(token["created_at"]), token
    for key in ("last_used_at", "revoked_at"):
        assert token[key] is None or TIMESTAMP.match(token[key]), token


def assert_unauthorized(resp):
    doc = assert_problem(resp, 401)
    assert doc["type"] == "/problems/unauthorized"
    assert resp.headers.get("www-authenticate", "").startswith("Bearer"), resp.headers
    return doc


def assert_forbidden(resp):
    doc = assert_problem(resp, 403)
    assert doc["type"] == "/problems/forbidden"
    return doc


def field_names(doc):
    return [e["field"] for e in doc["errors"]]


def list_all(client, path, limit=500):
    """Follows next_cursor to the end; returns every item."""
    items, cursor = [], None
    sep = "&" if "?" in path else "?"
    for _ in range(10000):
        url = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        doc = assert_json(client.get(url))
        assert set(doc) == {"data", "next_cursor"}
        items += doc["data"]
        cursor = doc["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the list never ended")


def tokens_of(client, user_id):
    return {t["id"]: t for t in list_all(client, f"/users/{user_id}/tokens")}


def unknown_secret():
    return "crm_" + secrets.token_urlsafe(32)[:43]


# ------------------------------------------------------------------ users

def test_create_user_returns_201_location_etag_and_the_user(admin):
    name, mail = unique("Ada"), email()
    r = admin.post("/users", {"name": name, "email": mail, "role": "member"})
    user = assert_json(r, 201)
    assert_user_shape(user)
    assert user["name"] == name and user["email"] == mail
    assert user["role"] == "member" and user["active"] is True
    assert user["version"] == 1
    assert user["created_at"] == user["updated_at"]
    assert r.headers["location"] == f"/users/{user['id']}"
    assert r.headers["etag"] == '"1"'
    got = admin.get(r.headers["location"])
    assert assert_json(got) == user
    assert got.headers["etag"] == '"1"'


def test_create_user_role_defaults_to_member_and_admin_role_is_kept(admin):
    assert new_user(admin)["role"] == "member"
    assert new_user(admin, role="admin")["role"] == "admin"


def test_create_user_with_active_false_creates_an_inactive_user(admin):
    user = new_user(admin, active=False)
    assert user["active"] is False
    assert admin.get(f"/users/{user['id']}").json["active"] is False


def test_create_user_accepts_200_character_unicode_name_and_refuses_201(admin):
    user = new_user(admin, name="é" * 200)
    assert user["name"] == "é" * 200
    r = admin.post("/users", {"name": "é" * 201, "email": email()})
    doc = assert_problem(r, 422, "name")
    assert field_names(doc) == ["name"]


def test_duplicate_email_ignoring_case_is_409_naming_email(admin):
    mail = f"Case.{uuid.uuid4().hex[:10]}@Example.com"
    first = new_user(admin, email=mail)
    assert first["email"] == mail  # kept as written
    r = admin.post("/users", {"name": unique("Dup"), "email": mail.lower()})
    doc = assert_problem(r, 409, "email")
    assert doc["type"] == "/problems/conflict"
    r = admin.post("/users", {"name": unique("Dup"), "email": mail.upper()})
    assert_problem(r, 409, "email")


def test_create_user_422_lists_every_invalid_field_at_once(admin):
    r = admin.post("/users", {"name": "", "email": "not-an-email", "role": "boss", "nickname": "x",
                              "id": 5, "created_at": "2026-01-01T00:00:00Z", "version": 3})
    doc = assert_problem(r, 422)
    assert doc["type"] == "/problems/validation"
    assert sorted(field_names(doc)) == sorted(["name", "email", "role", "nickname", "id", "created_at", "version"])
    for e in doc["errors"]:
        assert e["message"], e


def test_create_user_422_for_missing_required_fields_and_wrong_types(admin):
    doc = assert_problem(admin.post("/users", {}), 422)
    assert sorted(field_names(doc)) == ["email", "name"]
    doc = assert_problem(admin.post("/users", {"name": 5, "email": email(), "active": "yes", "role": None}), 422)
    assert sorted(field_names(doc)) == ["active", "name", "role"]
    doc = assert_problem(admin.post("/users", {"name": "x", "email": "a" * 250 + "@example.com"}), 422)
    assert field_names(doc) == ["email"]


def test_create_user_refuses_non_object_bodies_and_other_media_types(admin):
    assert_problem(admin.post("/users", [1, 2]), 400)
    assert_problem(admin.post("/users", raw=b'{"name": "x",', content_type="application/json"), 400)
    r = admin.post("/users", {"name": "x", "email": email()}, content_type="text/plain")
    assert_problem(r, 415)


def test_list_users_shape_and_members_may_list(admin, member):
    user, client = member
    doc = assert_json(client.get("/users?limit=500"))
    assert set(doc) == {"data", "next_cursor"}
    for u in doc["data"]:
        assert_user_shape(u)
    ids = [u["id"] for u in doc["data"]]
    assert ids == sorted(ids) and len(ids) == len(set(ids))


def test_list_users_pages_with_limit_1_without_repeats_or_skips(admin):
    mine = [new_user(admin)["id"] for _ in range(4)]
    before = {u["id"] for u in list_all(admin, "/users")}
    seen, cursor, pages = [], None, 0
    while True:
        url = "/users?limit=1" + (f"&cursor={cursor}" if cursor else "")
        doc = assert_json(admin.get(url))
        assert len(doc["data"]) <= 1
        seen += [u["id"] for u in doc["data"]]
        cursor = doc["next_cursor"]
        pages += 1
        if cursor is None:
            break
        assert isinstance(cursor, str) and cursor
        assert pages < 100000
    assert seen == sorted(seen), "ids must ascend"
    assert len(seen) == len(set(seen)), "no user may be listed twice"
    assert before <= set(seen), "no user may be skipped"
    assert set(mine) <= set(seen)


def test_list_users_active_filter(admin):
    on = new_user(admin)
    off = new_user(admin)
    assert admin.patch(f"/users/{off['id']}", {"active": False}).status == 200
    inactive = list_all(admin, "/users?active=false")
    active = list_all(admin, "/users?active=true")
    everyone = list_all(admin, "/users")
    assert all(u["active"] is False for u in inactive)
    assert all(u["active"] is True for u in active)
    assert off["id"] in {u["id"] for u in inactive} and off["id"] not in {u["id"] for u in active}
    assert on["id"] in {u["id"] for u in active} and on["id"] not in {u["id"] for u in inactive}
    assert {on["id"], off["id"]} <= {u["id"] for u in everyone}


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=abc", "limit"), ("limit=-1", "limit"),
    ("cursor=%21%21%21", "cursor"), ("cursor=dXNlcnN8YWJj", "cursor"),  # "users|abc"
    ("cursor=dXNlcnN8OTk5OTk5OTk5OTk5OTk5OTk5OTk", "cursor"),  # "users|99999999999999999999"
    ("active=yes", "active"), ("role=admin", "role"), ("limit=1&limit=2", "limit"),
])
def test_list_users_bad_query_is_400_naming_the_parameter(admin, query, field):
    doc = assert_problem(admin.get(f"/users?{query}"), 400, field)
    assert doc["type"] == "/problems/bad-request"


def test_list_users_refuses_a_cursor_of_another_list(admin):
    user = new_user(admin)
    for _ in range(2):
        new_token(admin, user["id"])
    cursor = admin.get(f"/users/{user['id']}/tokens?limit=1").json["next_cursor"]
    assert cursor
    assert_problem(admin.get(f"/users?cursor={cursor}"), 400, "cursor")


def test_token_cursor_belongs_to_its_user(admin):
    one, other = new_user(admin), new_user(admin)
    for _ in range(2):
        new_token(admin, one["id"])
    cursor = admin.get(f"/users/{one['id']}/tokens?limit=1").json["next_cursor"]
    assert admin.get(f"/users/{one['id']}/tokens?cursor={cursor}").status == 200
    assert_problem(admin.get(f"/users/{other['id']}/tokens?cursor={cursor}"), 400, "cursor")


def test_get_me_returns_the_caller(admin, member):
    user, client = member
    r = client.get("/users/me")
    assert assert_json(r) == user
    assert r.headers["etag"] == f'"{user["version"]}"'
    me = assert_json(admin.get("/users/me"))
    assert me["role"] == "admin" and me["active"] is True


def test_get_user_by_id_and_members_may_read_other_users(admin, member):
    user, client = member
    other = new_user(admin)
    r = client.get(f"/users/{other['id']}")
    assert assert_json(r) == other
    assert r.headers["etag"] == '"1"'
    assert assert_json(admin.get(f"/users/{user['id']}")) == user


@pytest.mark.parametrize("path", ["/users/9223372036854775807", "/users/abc", "/users/0", "/users/-1",
                                  "/users/1.5", "/users/99999999999999999999"])
def test_get_unknown_or_malformed_user_id_is_404(admin, path):
    doc = assert_problem(admin.get(path), 404)
    assert doc["type"] == "/problems/not-found"


def test_if_none_match_on_get_user_gives_304_with_empty_body(admin):
    user = new_user(admin)
    path = f"/users/{user['id']}"
    for tag in ('"1"', 'W/"1"', '"1", "7"', "*"):
        r = admin.get(path, headers={"If-None-Match": tag})
        assert r.status == 304, (tag, r)
        assert r.body == b""
        assert r.headers["etag"] == '"1"'
        assert r.headers["x-request-id"]
    r = admin.get(path, headers={"If-None-Match": '"2"'})
    assert assert_json(r) == user


def test_entity_tag_lists_match_on_any_member(admin):
    user = new_user(admin)
    path = f"/users/{user['id']}"
    r = admin.get(path, headers={"If-None-Match": '"7", "1"'})
    assert r.status == 304, r
    r = admin.patch(path, {"name": unique("Listed")}, headers={"If-Match": '"7", "1"'})
    assert r.status == 200, r


def test_if_none_match_on_get_me_gives_304(member):
    user, client = member
    r = client.get("/users/me", headers={"If-None-Match": f'"{user["version"]}"'})
    assert r.status == 304 and r.body == b""


def test_patch_user_name_role_active_bumps_version(admin):
    user = new_user(admin)
    path = f"/users/{user['id']}"
    name = unique("Renamed")
    r = admin.patch(path, {"name": name})
    got = assert_json(r)
    assert got["name"] == name and got["version"] == 2
    assert r.headers["etag"] == '"2"'
    assert got["created_at"] == user["created_at"]
    assert got["updated_at"] > user["updated_at"]
    assert got["email"] == user["email"]
    got = assert_json(admin.patch(path, {"role": "admin"}))
    assert got["role"] == "admin" and got["version"] == 3
    got = assert_json(admin.patch(path, {"active": False, "role": "member"}))
    assert got["active"] is False and got["role"] == "member" and got["version"] == 4
    got = assert_json(admin.patch(path, {"active": True}, content_type="application/merge-patch+json"))
    assert got["active"] is True and got["version"] == 5
    assert assert_json(admin.get(path)) == got


def test_no_op_patch_keeps_version_and_updated_at(admin):
    user = new_user(admin)
    path = f"/users/{user['id']}"
    for body in ({}, {"name": user["name"]}, {"role": "member", "active": True}):
        r = admin.patch(path, body)
        assert assert_json(r) == user, body
        assert r.headers["etag"] == '"1"'
    assert assert_json(admin.patch(path, {}, headers={"If-Match": '"1"'})) == user
    assert_problem(admin.patch(path, {}, headers={"If-Match": '"2"'}), 412)


def test_patch_email_is_read_only_and_nothing_changes(admin):
    user = new_user(admin)
    path = f"/users/{user['id']}"
    doc = assert_problem(admin.patch(path, {"email": email(), "name": unique("New")}), 422, "email")
    assert field_names(doc) == ["email"]
    assert admin.get(path).json == user


def test_patch_user_422_lists_every_invalid_field(admin):
    user = new_user(admin)
    r = admin.patch(f"/users/{user['id']}", {"name": "", "role": "boss", "active": None, "id": 1,
                                             "updated_at": "2026-01-01T00:00:00Z", "colour": "red"})
    doc = assert_problem(r, 422)
    assert sorted(field_names(doc)) == sorted(["name", "role", "active", "id", "updated_at", "colour"])
    assert_problem(admin.patch(f"/users/{user['id']}", {"name": None}), 422, "name")
    assert_problem(admin.patch(f"/users/{user['id']}", [{"name": "x"}]), 400)
    assert admin.get(f"/users/{user['id']}").json == user


def test_patch_unknown_user_is_404(admin):
    assert_problem(admin.patch("/users/9223372036854775807", {"name": "x"}), 404)
    assert_problem(admin.patch("/users/9223372036854775807", {"name": "x"}, headers={"If-Match": '"1"'}), 404)
    assert_problem(admin.patch("/users/abc", {"name": "x"}), 404)


def test_patch_with_if_match(admin):
    user = new_user(admin)
    path = f"/users/{user['id']}"
    assert admin.patch(path, {"name": unique("V2")}).status == 200
    stale = admin.patch(path, {"name": unique("Lost")}, headers={"If-Match": '"1"'})
    doc = assert_problem(stale, 412)
    assert doc["type"] == "/problems/precondition-failed"
    # A weak tag never matches If-Match (strong comparison).
    assert_problem(admin.patch(path, {"name": unique("Lost")}, headers={"If-Match": 'W/"2"'}), 412)
    current = admin.get(path).json
    assert current["version"] == 2
    name = unique("V3")
    r = admin.patch(path, {"name": name}, headers={"If-Match": '"2"'})
    got = assert_json(r)
    assert got["name"] == name and got["version"] == 3 and r.headers["etag"] == '"3"'
    r = admin.patch(path, {"name": unique("V4")}, headers={"If-Match": "*"})
    assert assert_json(r)["version"] == 4


def test_if_match_beyond_any_version_is_412_and_if_none_match_is_200(admin):
    user = new_user(admin)
    path = f"/users/{user['id']}"
    for tag in ('"2147483648"', '"9223372036854775807"', '"99999999999999999999"', "garbage"):
        assert_problem(admin.patch(path, {"name": unique("No")}, headers={"If-Match": tag}), 412)
        assert assert_json(admin.get(path, headers={"If-None-Match": tag})) == user
    assert admin.get(path).json == user


def test_demoting_and_deactivating_an_admin_works_while_other_admins_exist(admin):
    other, other_client = make_user(admin, "admin")
    path = f"/users/{other['id']}"
    got = assert_json(admin.patch(path, {"role": "member"}))
    assert got["role"] == "member"
    assert_forbidden(other_client.post("/users", {"name": unique("X"), "email": email()}))
    assert assert_json(admin.patch(path, {"role": "admin"}))["role"] == "admin"
    assert other_client.post("/users", {"name": unique("X"), "email": email()}).status == 201
    assert assert_json(admin.patch(path, {"active": False}))["active"] is False
    assert_unauthorized(other_client.get("/users/me"))
    # An admin may step down while another admin remains.
    assert assert_json(admin.patch(path, {"active": True}))["active"] is True
    got = assert_json(other_client.patch(path, {"role": "member"}))
    assert got["role"] == "member"
    assert admin.get("/users/me").json["role"] == "admin"


def test_promoting_a_member_gives_admin_rights_at_once(admin, member):
    user, client = member
    assert_forbidden(client.post("/users", {"name": unique("X"), "email": email()}))
    assert admin.patch(f"/users/{user['id']}", {"role": "admin"}).status == 200
    assert client.post("/users", {"name": unique("X"), "email": email()}).status == 201
    assert client.get("/users/me").json["role"] == "admin"


# ----------------------------------------------------------------- tokens

def test_admin_creates_a_token_for_another_user(admin, member):
    user, _ = member
    name = unique("HubSpot sync")
    r = admin.post(f"/users/{user['id']}/tokens", {"name": name})
    token = assert_json(r, 201)
    assert set(token) == TOKEN_KEYS | {"token"}
    assert SECRET.match(token["token"]), token
    assert token["name"] == name and token["user_id"] == user["id"]
    assert token["last_used_at"] is None and token["revoked_at"] is None
    assert TIMESTAMP.match(token["created_at"])
    assert r.headers["location"] == f"/tokens/{token['id']}"
    assert r.headers["cache-control"] == "no-store"
    me = assert_json(Client(token["token"]).get("/users/me"))
    assert me["id"] == user["id"]


def test_member_creates_a_token_for_themself(member):
    user, client = member
    r = client.post(f"/users/{user['id']}/tokens", {"name": "laptop"})
    token = assert_json(r, 201)
    assert SECRET.match(token["token"]) and token["user_id"] == user["id"]
    assert r.headers["location"] == f"/tokens/{token['id']}"
    assert r.headers["cache-control"] == "no-store"
    assert Client(token["token"]).get("/users/me").json["id"] == user["id"]


def test_token_secrets_are_unique_and_shown_only_once(admin, member):
    user, client = member
    made = [new_token(admin, user["id"]) for _ in range(3)]
    assert len({t["token"] for t in made}) == 3
    listed = tokens_of(client, user["id"])
    for t in made:
        assert t["id"] in listed
        assert "token" not in listed[t["id"]]
        assert_token_shape(listed[t["id"]])
    raw = client.get(f"/users/{user['id']}/tokens?limit=500").body.decode()
    for t in made:
        assert t["token"] not in raw
        assert t["token"][4:] not in raw


def test_list_tokens_shows_last_used_at_after_use(admin):
    user = new_user(admin)
    token = new_token(admin, user["id"])
    assert tokens_of(admin, user["id"])[token["id"]]["last_used_at"] is None
    assert Client(token["token"]).get("/users/me").status == 200
    listed = tokens_of(admin, user["id"])[token["id"]]
    assert_token_shape(listed)
    assert listed["last_used_at"] is not None
    assert listed["last_used_at"] >= listed["created_at"]
    assert listed["revoked_at"] is None
    assert listed["user_id"] == user["id"] and listed["name"] == token["name"]


def test_list_tokens_pages_with_limit_1(admin):
    user = new_user(admin)
    made = [new_token(admin, user["id"], f"t{i}")["id"] for i in range(3)]
    seen, cursor = [], None
    for _ in range(10):
        doc = assert_json(admin.get(f"/users/{user['id']}/tokens?limit=1" + (f"&cursor={cursor}" if cursor else "")))
        assert len(doc["data"]) <= 1
        seen += [t["id"] for t in doc["data"]]
        cursor = doc["next_cursor"]
        if cursor is None:
            break
    assert seen == made
    assert_problem(admin.get(f"/users/{user['id']}/tokens?limit=0"), 400, "limit")
    assert_problem(admin.get(f"/users/{user['id']}/tokens?cursor=dG9rZW5zfHg"), 400, "cursor")  # "tokens|x"
    assert_problem(admin.get(f"/users/{user['id']}/tokens?active=true"), 400, "active")


def test_member_cannot_list_or_create_tokens_of_another_user(admin, member):
    """403, not 404: any member can list the users, so hiding one would
    hide nothing. An unknown user is still 404."""
    _, client = member
    other, _ = make_user(admin, "member")
    tokenless = new_user(admin)
    an_admin = admin.get("/users/me").json["id"]
    for target in (other["id"], tokenless["id"], an_admin):
        assert "tokens" in assert_forbidden(client.get(f"/users/{target}/tokens"))["detail"]
        assert_forbidden(client.post(f"/users/{target}/tokens", {"name": "steal"}))
    assert_problem(client.get("/users/9223372036854775807/tokens"), 404)
    assert_problem(client.post("/users/9223372036854775807/tokens", {"name": "steal"}), 404)
    # Nothing was created for the other users.
    assert all(t["name"] != "steal" for t in tokens_of(admin, other["id"]).values())
    assert all(t["name"] != "steal" for t in tokens_of(admin, an_admin).values())
    assert tokens_of(admin, tokenless["id"]) == {}


def test_tokens_of_unknown_user_are_404_for_admins_too(admin):
    assert_problem(admin.get("/users/9223372036854775807/tokens"), 404)
    assert_problem(admin.post("/users/9223372036854775807/tokens", {"name": "x"}), 404)
    assert_problem(admin.get("/users/abc/tokens"), 404)


def test_create_token_validation(admin, member):
    user, _ = member
    path = f"/users/{user['id']}/tokens"
    assert field_names(assert_problem(admin.post(path, {}), 422)) == ["name"]
    assert_problem(admin.post(path, {"name": ""}), 422, "name")
    assert_problem(admin.post(path, {"name": "x" * 201}), 422, "name")
    doc = assert_problem(admin.post(path, {"name": None, "token": "crm_mine", "user_id": 1}), 422)
    assert sorted(field_names(doc)) == ["name", "token", "user_id"]
    assert_problem(admin.post(path, ["x"]), 400)


def test_token_for_an_inactive_user_is_409(admin):
    user = new_user(admin, active=False)
    doc = assert_problem(admin.post(f"/users/{user['id']}/tokens", {"name": "x"}), 409)
    assert doc["type"] == "/problems/conflict"
    user = new_user(admin)
    assert admin.patch(f"/users/{user['id']}", {"active": False}).status == 200
    assert_problem(admin.post(f"/users/{user['id']}/tokens", {"name": "x"}), 409)
    assert tokens_of(admin, user["id"]) == {}


def test_owner_revokes_a_token_and_it_stops_at_once(admin, member):
    user, client = member
    token = new_token(client, user["id"], "to revoke")
    victim = Client(token["token"])
    assert victim.get("/users/me").status == 200
    r = client.delete(f"/tokens/{token['id']}")
    assert r.status == 204, r
    assert r.body == b""
    assert_unauthorized(victim.get("/users/me"))
    assert_unauthorized(victim.get("/users"))
    listed = tokens_of(client, user["id"])[token["id"]]
    assert_token_shape(listed)
    assert listed["revoked_at"] is not None and listed["revoked_at"] >= listed["created_at"]
    # Revoking again is a no-op 204 that keeps the first revocation time.
    assert client.delete(f"/tokens/{token['id']}").status == 204
    assert tokens_of(client, user["id"])[token["id"]]["revoked_at"] == listed["revoked_at"]
    assert client.get("/users/me").status == 200  # the other token still works


def test_a_token_can_revoke_itself(member):
    user, client = member
    mine = [t for t in tokens_of(client, user["id"]).values() if t["revoked_at"] is None]
    assert len(mine) == 1
    assert client.delete(f"/tokens/{mine[0]['id']}").status == 204
    assert_unauthorized(client.get("/users/me"))


def test_member_cannot_revoke_another_users_token(admin, member):
    _, client = member
    other, other_client = make_user(admin, "member")
    theirs = next(iter(tokens_of(admin, other["id"])))
    assert_problem(client.delete(f"/tokens/{theirs}"), 404)
    assert other_client.get("/users/me").status == 200
    assert tokens_of(admin, other["id"])[theirs]["revoked_at"] is None


def test_admin_can_revoke_anyones_token(admin, member):
    user, client = member
    token = next(iter(tokens_of(admin, user["id"])))
    assert admin.delete(f"/tokens/{token}").status == 204
    assert_unauthorized(client.get("/users/me"))
    assert tokens_of(admin, user["id"])[token]["revoked_at"] is not None


def test_admin_can_revoke_an_inactive_users_token(admin):
    user, client = make_user(admin, "member")
    token = next(iter(tokens_of(admin, user["id"])))
    assert admin.patch(f"/users/{user['id']}", {"active": False}).status == 200
    assert admin.delete(f"/tokens/{token}").status == 204
    assert admin.patch(f"/users/{user['id']}", {"active": True}).status == 200
    assert_unauthorized(client.get("/users/me"))


def test_a_token_revoked_outside_the_api_stops_working_at_once(admin):
    """The service caches checked tokens; a change made straight in the
    database reaches it through a notification within moments."""
    user, client = make_user(admin, "member")
    assert client.get("/users/me").status == 200  # now checked and cached
    token_id = next(iter(tokens_of(admin, user["id"])))
    out = subprocess.run(["psql", os.environ["DATABASE_URL"], "-XqtA", "-v", "ON_ERROR_STOP=1", "-c",
                          f"UPDATE api_tokens SET revoked_at = now() WHERE id = {token_id}"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and client.get("/users/me").status == 200:
        time.sleep(0.02)
    assert_unauthorized(client.get("/users/me"))


def test_revoke_unknown_token_is_404(admin):
    assert_problem(admin.delete("/tokens/9223372036854775807"), 404)
    assert_problem(admin.delete("/tokens/abc"), 404)


def test_deactivating_a_user_stops_their_tokens_and_reactivating_restores_them(admin, member):
    user, client = member
    second = Client(new_token(client, user["id"])["token"])
    revoked = new_token(client, user["id"])
    assert client.delete(f"/tokens/{revoked['id']}").status == 204
    assert admin.patch(f"/users/{user['id']}", {"active": False}).status == 200
    for c in (client, second):
        assert_unauthorized(c.get("/users/me"))
        assert_unauthorized(c.post(f"/users/{user['id']}/tokens", {"name": "x"}))
    listed = tokens_of(admin, user["id"])  # still listed
    assert len(listed) == 3
    assert admin.patch(f"/users/{user['id']}", {"active": True}).status == 200
    for c in (client, second):
        assert c.get("/users/me").json["id"] == user["id"]
    # A revoked token stays revoked.
    assert_unauthorized(Client(revoked["token"]).get("/users/me"))


# ------------------------------------------------------------------- auth

@pytest.fixture(scope="module")
def ids(admin):
    """Existing ids for every path parameter, and spoiled credentials."""
    user, user_client = make_user(admin, "member")
    token = new_token(admin, user["id"], "target")
    item = assert_json(admin.post("/lookups/source", {"label": unique("Source")}), 201)
    account = assert_json(admin.post("/accounts", {"name": unique("Account"), "external_id": unique("ext")}), 201)
    product = assert_json(admin.post("/lookups/product", {"label": unique("Product"), "unit_price": "5.00"}), 201)
    opportunity = assert_json(admin.post("/opportunities", {
        "account_id": account["id"], "external_id": unique("deal"), "lines": [{"product_id": product["id"]}]}), 201)
    report = assert_json(admin.post("/forecast-reports", {"name": unique("Report"), "period": "this_month",
                                                          "shared": True}), 201)
    revoked = new_token(admin, user["id"], "revoked")
    assert admin.delete(f"/tokens/{revoked['id']}").status == 204
    gone, _ = make_user(admin, "admin")
    gone_token = new_token(admin, gone["id"])
    assert admin.patch(f"/users/{gone['id']}", {"active": False}).status == 200
    return {
        "user": user, "user_client": user_client, "token": token, "item": item, "account": account,
        "product": product, "opportunity": opportunity, "report": report,
        "revoked": revoked["token"], "inactive": gone_token["token"], "intruder": unique("intruder"),
    }


# (method, path pattern as in api/app/routes.c, concrete path, body)
PROTECTED = [
    ("GET", "/users", "/users", None),
    ("POST", "/users", "/users", lambda i: {"name": i["intruder"], "email": f"{i['intruder']}@example.com"}),
    ("GET", "/users/me", "/users/me", None),
    ("GET", "/users/:id", "/users/{user}", None),
    ("PATCH", "/users/:id", "/users/{user}", lambda i: {"name": i["intruder"]}),
    ("GET", "/users/:id/tokens", "/users/{user}/tokens", None),
    ("POST", "/users/:id/tokens", "/users/{user}/tokens", lambda i: {"name": i["intruder"]}),
    ("DELETE", "/tokens/:id", "/tokens/{token}", None),
    ("GET", "/lookups", "/lookups", None),
    ("GET", "/lookups/:table", "/lookups/source", None),
    ("POST", "/lookups/:table", "/lookups/source", lambda i: {"label": i["intruder"]}),
    ("GET", "/lookups/:table/:item_id", "/lookups/source/{item}", None),
    ("PATCH", "/lookups/:table/:item_id", "/lookups/source/{item}", lambda i: {"label": i["intruder"]}),
    ("DELETE", "/lookups/:table/:item_id", "/lookups/source/{item}", None),
    ("GET", "/accounts", "/accounts", None),
    ("POST", "/accounts", "/accounts", lambda i: {"name": i["intruder"]}),
    ("PUT", "/accounts/by-external-id/:external_id", "/accounts/by-external-id/{external_id}",
     lambda i: {"name": i["intruder"]}),
    ("GET", "/accounts/:id", "/accounts/{account}", None),
    ("PATCH", "/accounts/:id", "/accounts/{account}", lambda i: {"name": i["intruder"]}),
    ("DELETE", "/accounts/:id", "/accounts/{account}", None),
    ("GET", "/accounts/:id/opportunities", "/accounts/{account}/opportunities", None),
    ("GET", "/opportunities", "/opportunities", None),
    ("POST", "/opportunities", "/opportunities", lambda i: {"account_id": i["account"]["id"], "name": i["intruder"]}),
    ("PUT", "/opportunities/by-external-id/:external_id", "/opportunities/by-external-id/{deal}",
     lambda i: {"account_id": i["account"]["id"], "name": i["intruder"]}),
    ("GET", "/opportunities/:id", "/opportunities/{opportunity}", None),
    ("PATCH", "/opportunities/:id", "/opportunities/{opportunity}", lambda i: {"name": i["intruder"]}),
    ("DELETE", "/opportunities/:id", "/opportunities/{opportunity}", None),
    ("GET", "/opportunities/:id/history", "/opportunities/{opportunity}/history", None),
    ("GET", "/changes", "/changes", None),
    ("GET", "/opportunities/:id/lines", "/opportunities/{opportunity}/lines", None),
    ("POST", "/opportunities/:id/lines", "/opportunities/{opportunity}/lines",
     lambda i: {"product_id": i["product"]["id"], "description": i["intruder"]}),
    ("PUT", "/opportunities/:id/lines", "/opportunities/{opportunity}/lines",
     lambda i: [{"product_id": i["product"]["id"], "description": i["intruder"]}]),
    ("GET", "/opportunities/:id/lines/:line_id", "/opportunities/{opportunity}/lines/{line}", None),
    ("PATCH", "/opportunities/:id/lines/:line_id", "/opportunities/{opportunity}/lines/{line}",
     lambda i: {"description": i["intruder"]}),
    ("DELETE", "/opportunities/:id/lines/:line_id", "/opportunities/{opportunity}/lines/{line}", None),
    ("POST", "/batch", "/batch", lambda i: {"operations": [
        {"method": "POST", "path": "/accounts", "body": {"name": i["intruder"]}},
        {"method": "PATCH", "path": f"/lookups/source/{i['item']['id']}", "body": {"label": i["intruder"]}}]}),
    ("GET", "/dashboard/funnel", "/dashboard/funnel", None),
    ("GET", "/dashboard/sales-grid", "/dashboard/sales-grid", None),
    ("GET", "/forecast-reports", "/forecast-reports", None),
    ("POST", "/forecast-reports", "/forecast-reports", lambda i: {"name": i["intruder"], "period": "this_month"}),
    ("GET", "/forecast-reports/:id", "/forecast-reports/{report}", None),
    ("PATCH", "/forecast-reports/:id", "/forecast-reports/{report}", lambda i: {"name": i["intruder"]}),
    ("DELETE", "/forecast-reports/:id", "/forecast-reports/{report}", None),
    ("GET", "/forecast-reports/:id/results", "/forecast-reports/{report}/results", None),
    ("GET", "/reports/forecast", "/reports/forecast?period=this_month", None),
    ("GET", "/settings", "/settings", None),
    ("PATCH", "/settings", "/settings", lambda i: {"default_close_days": 7}),
    ("GET", "/webhooks", "/webhooks", None),
    ("POST", "/webhooks", "/webhooks", lambda i: {"url": "https://example.com/h", "events": ["account"],
                                                  "description": i["intruder"]}),
    ("GET", "/webhooks/:id", "/webhooks/1", None),
    ("PATCH", "/webhooks/:id", "/webhooks/1", lambda i: {"description": i["intruder"]}),
    ("DELETE", "/webhooks/:id", "/webhooks/1", None),
    ("POST", "/webhooks/:id/ping", "/webhooks/1/ping", None),
    ("GET", "/webhooks/:id/deliveries", "/webhooks/1/deliveries", None),
    ("POST", "/webhooks/:id/deliveries/:delivery_id/retry", "/webhooks/1/deliveries/1/retry", None),
]
ADMIN_ONLY = {("POST", "/users"), ("PATCH", "/users/:id"), ("POST", "/lookups/:table"),
              ("PATCH", "/lookups/:table/:item_id"), ("DELETE", "/lookups/:table/:item_id"), ("PATCH", "/settings"),
              ("GET", "/webhooks"), ("POST", "/webhooks"), ("GET", "/webhooks/:id"), ("PATCH", "/webhooks/:id"),
              ("DELETE", "/webhooks/:id"), ("POST", "/webhooks/:id/ping"), ("GET", "/webhooks/:id/deliveries"),
              ("POST", "/webhooks/:id/deliveries/:delivery_id/retry")}
PUBLIC = [("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/openapi.yaml"), ("GET", "/metrics"),
          ("GET", "/docs")]
# Public routes whose path needs a name only the server knows; their own
# tests call them without a token (test_docs_http.py).
PUBLIC_BY_NAME = {("GET", "/docs/:asset")}
CREDENTIALS = ["none", "basic", "bearer-alone", "bearer-empty", "basic-with-secret", "unknown", "revoked",
               "inactive-user"]


def routes_in_source():
    text = (REPO / "api" / "app" / "routes.c").read_text()
    return [(m.group(1), m.group(2), m.group(3))
            for m in re.finditer(r'(?:\{|ROUTE\()"([A-Z]+)",\s*"([^"]+)",\s*ACCESS_([A-Z]+)', text)]


def concrete(path, ids):
    return path.format(user=ids["user"]["id"], token=ids["token"]["id"], item=ids["item"]["id"],
                       account=ids["account"]["id"], external_id=ids["account"]["external_id"],
                       opportunity=ids["opportunity"]["id"], line=ids["opportunity"]["lines"][0]["id"],
                       deal=ids["opportunity"]["external_id"], report=ids["report"]["id"])


def authorization(kind, ids):
    return {
        "none": None,
        "basic": "Basic x",
        "bearer-alone": "Bearer",
        "bearer-empty": "Bearer ",
        "basic-with-secret": "basic " + unknown_secret(),
        "unknown": "Bearer " + unknown_secret(),
        "revoked": "Bearer " + ids["revoked"],
        "inactive-user": "Bearer " + ids["inactive"],
    }[kind]


def test_the_route_table_of_these_tests_covers_every_route():
    source = routes_in_source()
    assert len(source) >= 20
    protected = {(m, p) for m, p, access in source if access != "PUBLIC"}
    assert protected == {(m, p) for m, p, _, _ in PROTECTED}, "update PROTECTED to match api/app/routes.c"
    admin_only = {(m, p) for m, p, access in source if access == "ADMIN"}
    assert admin_only == ADMIN_ONLY, "update ADMIN_ONLY to match api/app/routes.c"
    assert {(m, p) for m, p, access in source if access == "PUBLIC"} == set(PUBLIC) | PUBLIC_BY_NAME


def auth_cases():
    for method, pattern, path, body in PROTECTED:
        for kind in CREDENTIALS:
            yield pytest.param(method, pattern, path, body, kind, id=f"{method} {pattern} {kind}")


@pytest.mark.parametrize("method,pattern,path,body,kind", list(auth_cases()))
def test_protected_routes_refuse_bad_credentials_with_401(ids, method, pattern, path, body, kind):
    headers = {}
    value = authorization(kind, ids)
    if value is not None:
        headers["Authorization"] = value
    r = Client(None).request(method, concrete(path, ids), body=body(ids) if body else None, headers=headers)
    assert_unauthorized(r)


def assert_no_intruder(admin, ids):
    """Nothing was created or renamed with the intruder's name."""
    intruder = ids["intruder"]
    assert all(intruder not in u["email"] and u["name"] != intruder for u in list_all(admin, "/users"))
    assert all(x["label"] != intruder for x in list_all(admin, "/lookups/source"))
    assert assert_json(admin.get(f"/accounts?q={intruder}"))["data"] == []
    assert all(t["name"] != intruder for t in tokens_of(admin, ids["user"]["id"]).values())


def test_refused_requests_changed_nothing(admin, ids):
    """Runs the whole table again with a revoked token, then checks that the
    targets are exactly as they were."""
    user_before = admin.get(f"/users/{ids['user']['id']}").json
    item_before = admin.get(f"/lookups/source/{ids['item']['id']}").json
    account_before = admin.get(f"/accounts/{ids['account']['id']}").json
    opportunity_before = admin.get(f"/opportunities/{ids['opportunity']['id']}").json
    settings_before = admin.get("/settings").json
    report_before = admin.get(f"/forecast-reports/{ids['report']['id']}").json
    tokens_before = tokens_of(admin, ids["user"]["id"])
    for method, pattern, path, body in PROTECTED:
        r = Client(ids["revoked"]).request(method, concrete(path, ids), body=body(ids) if body else None)
        assert_unauthorized(r)
    assert admin.get(f"/users/{ids['user']['id']}").json == user_before
    assert admin.get(f"/lookups/source/{ids['item']['id']}").json == item_before
    assert admin.get(f"/accounts/{ids['account']['id']}").json == account_before
    assert admin.get(f"/opportunities/{ids['opportunity']['id']}").json == opportunity_before
    assert admin.get("/settings").json == settings_before
    assert admin.get(f"/forecast-reports/{ids['report']['id']}").json == report_before
    assert_no_intruder(admin, ids)
    after = tokens_of(admin, ids["user"]["id"])
    assert set(after) == set(tokens_before)
    assert after[ids["token"]["id"]]["revoked_at"] is None


@pytest.mark.parametrize("method,pattern,path,body", [r for r in PROTECTED if (r[0], r[1]) in ADMIN_ONLY],
                         ids=[f"{m} {p}" for m, p, _, _ in PROTECTED if (m, p) in ADMIN_ONLY])
def test_members_get_403_on_admin_only_routes(admin, ids, method, pattern, path, body):
    _, client = make_user(admin, "member")
    item_before = admin.get(f"/lookups/source/{ids['item']['id']}").json
    user_before = admin.get(f"/users/{ids['user']['id']}").json
    r = client.request(method, concrete(path, ids), body=body(ids) if body else None)
    assert_forbidden(r)
    assert "www-authenticate" not in r.headers
    assert admin.get(f"/lookups/source/{ids['item']['id']}").json == item_before
    assert admin.get(f"/users/{ids['user']['id']}").json == user_before
    assert_no_intruder(admin, ids)


def test_members_get_403_when_patching_themselves(member):
    user, client = member
    assert_forbidden(client.patch(f"/users/{user['id']}", {"name": unique("Me")}))
    assert_forbidden(client.patch(f"/users/{user['id']}", {"role": "admin"}))
    assert client.get("/users/me").json == user


@pytest.mark.parametrize("method,path", PUBLIC)
def test_public_routes_need_no_token(anon, method, path):
    r = anon.request(method, path)
    assert r.status == 200, r
    assert "www-authenticate" not in r.headers
    # A spoiled token does not matter on public routes either.
    r = anon.request(method, path, headers={"Authorization": "Bearer " + unknown_secret()})
    assert r.status == 200, r


def test_bearer_scheme_is_case_insensitive(member):
    user, client = member
    r = Client(None).get("/users/me", headers={"Authorization": f"bearer {client.token}"})
    assert assert_json(r)["id"] == user["id"]


def test_token_with_extra_characters_is_refused(member):
    _, client = member
    for value in (f"Bearer {client.token}x", f"Bearer {client.token[:-1]}", f"Bearer  {client.token}",
                  f"Bearer {client.token.upper()}", "Bearer " + "a" * 300):
        assert_unauthorized(Client(None).get("/users/me", headers={"Authorization": value}))


# Authentication must come before anything else a request could be told: an
# unauthenticated caller learns nothing but "401", a member nothing but "403".
@pytest.mark.parametrize("case", ["no-token-no-body", "no-token-unknown-query", "unknown-token-invalid-body",
                                  "unknown-token-bad-id", "member-invalid-body"])
def test_authentication_is_checked_before_the_request_itself(admin, case):
    anon = Client(None)
    stranger = Client(unknown_secret())
    if case == "no-token-no-body":
        assert_unauthorized(anon.request("POST", "/users"))
    elif case == "no-token-unknown-query":
        assert_unauthorized(anon.get("/users?bogus=1"))
    elif case == "unknown-token-invalid-body":
        assert_unauthorized(stranger.post("/users", {"name": ""}))
    elif case == "unknown-token-bad-id":
        assert_unauthorized(stranger.get("/users/abc"))
    else:
        _, client = make_user(admin, "member")
        assert_forbidden(client.post("/users", {"name": ""}))


# ------------------------------------------------------- create-admin CLI

def run_cli(*args, **env):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **env))


def test_create_admin_prints_one_line_with_a_working_token():
    name, mail = unique("CLI Admin"), email()
    out = run_cli("create-admin", "--name", name, "--email", mail, LOG_LEVEL="info")
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith("\n") and out.stdout.count("\n") == 1, repr(out.stdout)
    token = out.stdout.strip()
    assert SECRET.match(token), token
    client = Client(token)
    me = assert_json(client.get("/users/me"))
    assert me["name"] == name and me["email"] == mail
    assert me["role"] == "admin" and me["active"] is True and me["version"] == 1
    listed = list(tokens_of(client, me["id"]).values())
    assert len(listed) == 1 and listed[0]["revoked_at"] is None
    assert client.post("/users", {"name": unique("By CLI admin"), "email": email()}).status == 201


def test_create_admin_with_a_taken_email_fails_on_stderr(admin):
    mail = f"Taken.{uuid.uuid4().hex[:10]}@Example.com"
    new_user(admin, email=mail)
    out = run_cli("create-admin", "--name", "Again", "--email", mail.lower())
    assert out.returncode != 0
    assert out.stdout == ""
    assert mail.lower() in out.stderr and "already exists" in out.stderr, out.stderr


def test_create_admin_usage_errors():
    for args in (["create-admin"], ["create-admin", "--name", "X"], ["create-admin", "--email", email()],
                 ["create-admin", "--name", "X", "--email", email(), "--role", "member"]):
        out = run_cli(*args)
        assert out.returncode != 0, args
        assert out.stdout == ""
        assert "usage" in out.stderr, out.stderr
    out = run_cli("create-admin", "--name", "", "--email", email())
    assert out.returncode != 0 and out.stdout == "" and out.stderr.strip()


def test_create_admin_refuses_a_malformed_email(admin):
    bad = unique("not-an-email")
    out = run_cli("create-admin", "--name", "X", "--email", bad)
    assert out.returncode != 0 and out.stdout == "" and out.stderr.strip()


# ---------------------------------------- the last admin (private server)

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(url, sql):
    exe = os.path.join(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"), "psql")
    subprocess.run([exe, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                   check=True, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def private_api():
    """A server of the binary under test on a new, empty database of the
    same cluster: the only place where one admin can be the last one."""
    base = os.environ["DATABASE_URL"]
    parts = urlsplit(base)
    dbname = f"crm_private_{uuid.uuid4().hex[:12]}"
    url = urlunsplit(parts._replace(path="/" + dbname))
    psql(base, f"CREATE DATABASE {dbname}")
    port = free_port()
    log_path = Path(BIN).resolve().parent / f"test-private-{port}.log"
    env = dict(os.environ, DATABASE_URL=url, PORT=str(port), BIND="127.0.0.1", THREADS="4", LOG_LEVEL="info")
    log = open(log_path, "w")
    proc = subprocess.Popen([BIN, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        client = Client(None, base=f"http://127.0.0.1:{port}")
        for _ in range(600):
            try:
                if client.get("/healthz").status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, log_path.read_text()
            time.sleep(0.1)
        out = subprocess.run([BIN, "create-admin", "--name", "Root", "--email", "root@example.com"],
                             env=env, capture_output=True, text=True, check=True, timeout=120)
        root = Client(out.stdout.strip(), base=f"http://127.0.0.1:{port}")
        yield {"base": f"http://127.0.0.1:{port}", "root": root, "root_user": root.get("/users/me").json}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            status = proc.wait()
        log.close()
        psql(base, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        text = log_path.read_text()
        assert status == 0, f"private server exited with {status}; log: {log_path}"
        assert not re.search(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:", text), text[-4000:]
        log_path.unlink()


def active_admins(client):
    return sorted(u["id"] for u in list_all(client, "/users?active=true") if u["role"] == "admin")


def test_last_active_admin_cannot_be_demoted_or_deactivated(private_api):
    root, me = private_api["root"], private_api["root_user"]
    base = private_api["base"]
    path = f"/users/{me['id']}"
    assert active_admins(root) == [me["id"]]
    for body in ({"role": "member"}, {"active": False}, {"role": "member", "active": False}):
        doc = assert_problem(root.patch(path, body), 409)
        assert doc["type"] == "/problems/conflict"
    assert root.get(path).json == me  # nothing changed, version included
    # Other changes to the last admin are fine.
    renamed = assert_json(root.patch(path, {"name": "Root Renamed"}))
    assert renamed["version"] == me["version"] + 1
    # An inactive admin does not count as another admin.
    spare = new_user(root, role="admin", active=False)
    assert_problem(root.patch(path, {"role": "member"}), 409)
    # Once it is active, the first admin may step down, and the spare is last.
    assert root.patch(f"/users/{spare['id']}", {"active": True}).status == 200
    spare_client = Client(new_token(root, spare["id"])["token"], base=base)
    assert assert_json(root.patch(path, {"role": "member"}))["role"] == "member"
    assert_forbidden(root.patch(path, {"role": "admin"}))
    assert_problem(spare_client.patch(f"/users/{spare['id']}", {"active": False}), 409)
    assert_problem(spare_client.patch(f"/users/{spare['id']}", {"role": "member"}), 409)
    # Put things back: root is the only active admin again.
    assert spare_client.patch(path, {"role": "admin", "name": "Root"}).status == 200
    assert root.patch(f"/users/{spare['id']}", {"active": False}).status == 200
    assert active_admins(root) == [me["id"]]


def test_concurrent_demotions_never_remove_the_last_admin(private_api):
    """Two admins demote themselves at the same moment: exactly one may win."""
    root, me, base = private_api["root"], private_api["root_user"], private_api["base"]
    other = new_user(root, role="admin")
    clients = {me["id"]: root, other["id"]: Client(new_token(root, other["id"])["token"], base=base)}
    assert active_admins(root) == sorted(clients)
    for _ in range(20):
        statuses = {}
        barrier = threading.Barrier(len(clients))

        def demote(user_id):
            barrier.wait()
            statuses[user_id] = clients[user_id].patch(f"/users/{user_id}", {"role": "member"}).status

        threads = [threading.Thread(target=demote, args=(uid,)) for uid in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(statuses.values()) == [200, 409], statuses
        survivor = next(uid for uid, s in statuses.items() if s == 409)
        assert active_admins(clients[survivor]) == [survivor]
        loser = next(uid for uid in clients if uid != survivor)
        assert clients[survivor].patch(f"/users/{loser}", {"role": "admin"}).status == 200
    # Leave root as the only active admin.
    assert root.patch(f"/users/{other['id']}", {"active": False}).status == 200
    assert active_admins(root) == [me["id"]]
