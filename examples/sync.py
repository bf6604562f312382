#!/usr/bin/env python3
"""Keeps a local SQLite copy of the CRM's accounts and opportunities.

    CRM_API_TOKEN=... examples/sync.py [--db crm.sqlite] [--overlap SECONDS]

The first run is a full load: every page of /accounts and /opportunities,
following next_cursor. Each later run asks only for what changed since the
previous run began (`updated_since`), deletions included as tombstones
(`include_deleted=true`, rows with `deleted_at` set). It starts OVERLAP
seconds (default 300) before that moment, because a transaction that began
earlier can commit later with an older `updated_at`; reading a record twice
is harmless, since a local row is only ever replaced by a higher `version`.

Env: CRM_API_TOKEN (required), CRM_API_URL (default http://127.0.0.1:8080).
Python's standard library only. Prints one summary line per resource.
"""
import argparse
import datetime
import email.utils
import json
import os
import sqlite3
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

PAGE_SIZE = 500
RESOURCES = {
    # resource: the columns kept beside the full JSON document
    "accounts": ("name", "external_id", "owner_id"),
    "opportunities": ("name", "external_id", "account_id", "owner_id", "value", "close_date"),
}


class ApiError(Exception):
    pass


class Api:
    def __init__(self, base, token):
        self.base = base.rstrip("/")
        self.token = token

    def get(self, path, params):
        """GET with retries on 503/429 and network errors; returns (json, server time)."""
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.token}",
                                                       "Accept": "application/json"})
        for attempt in range(5):
            try:
                with urllib.request.urlopen(request, timeout=60) as resp:
                    server_time = email.utils.parsedate_to_datetime(resp.headers["Date"])
                    return json.load(resp), server_time
            except urllib.error.HTTPError as e:
                body = e.read().decode("utf-8", "replace")
                if e.code in (429, 503) and attempt < 4:
                    time.sleep(int(e.headers.get("Retry-After") or 1))
                    continue
                raise ApiError(f"GET {path}: HTTP {e.code}: {body[:1000]}") from None
            except (urllib.error.URLError, OSError) as e:
                if attempt < 4:
                    time.sleep(2 ** attempt)
                    continue
                raise ApiError(f"GET {path}: {e}") from None
        raise AssertionError("unreachable")


def open_db(path):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE IF NOT EXISTS sync_state (resource TEXT PRIMARY KEY, last_start TEXT NOT NULL)")
    for resource, columns in RESOURCES.items():
        extra = "".join(f", {c}" for c in columns)
        db.execute(f"CREATE TABLE IF NOT EXISTS {resource} (id INTEGER PRIMARY KEY, version INTEGER NOT NULL,"
                   f" updated_at TEXT NOT NULL, deleted_at TEXT{extra}, doc TEXT NOT NULL)")
    return db


def store(db, resource, item):
    """Inserts or replaces one record unless the local copy is as new; True if written."""
    columns = ("id", "version", "updated_at", "deleted_at") + RESOURCES[resource]
    # Money stays text ("1234.50"): exact, never a float.
    values = [item.get(c) for c in columns] + [json.dumps(item, sort_keys=True)]
    placeholders = ", ".join("?" for _ in values)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:] + ("doc",))
    cur = db.execute(f"INSERT INTO {resource} ({', '.join(columns)}, doc) VALUES ({placeholders})"
                     f" ON CONFLICT (id) DO UPDATE SET {updates} WHERE excluded.version > {resource}.version",
                     values)
    return cur.rowcount == 1


def sync_resource(api, db, resource, overlap):
    params = {"include_deleted": "true", "limit": PAGE_SIZE}
    row = db.execute("SELECT last_start FROM sync_state WHERE resource = ?", (resource,)).fetchone()
    if row:
        since = datetime.datetime.fromisoformat(row[0]) - datetime.timedelta(seconds=overlap)
        params["updated_since"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    started = None
    written = deleted = seen = 0
    cursor = None
    while True:
        page, server_time = api.get(f"/{resource}", dict(params, **({"cursor": cursor} if cursor else {})))
        started = started or server_time
        for item in page["data"]:
            seen += 1
            if store(db, resource, item):
                written += 1
                deleted += item.get("deleted_at") is not None
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # The next run starts where this one began (by the server's clock, less
    # its overlap); committed together with the rows it covers.
    db.execute("INSERT INTO sync_state VALUES (?, ?)"
               " ON CONFLICT (resource) DO UPDATE SET last_start = excluded.last_start",
               (resource, started.astimezone(datetime.timezone.utc).isoformat()))
    db.commit()
    mode = f"incremental since {params['updated_since']}" if row else "full"
    print(f"{resource}: {mode}: {seen} read, {written} written ({deleted} tombstones)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="crm.sqlite", help="the SQLite file (default crm.sqlite)")
    parser.add_argument("--overlap", type=int, default=300, help="seconds re-read before the last run (default 300)")
    args = parser.parse_args()
    token = os.environ.get("CRM_API_TOKEN")
    if not token:
        sys.exit("set CRM_API_TOKEN to an API token (make run prints one)")
    api = Api(os.environ.get("CRM_API_URL", "http://127.0.0.1:8080"), token)
    db = open_db(args.db)
    try:
        for resource in RESOURCES:
            sync_resource(api, db, resource, args.overlap)
    except ApiError as e:
        db.rollback()
        sys.exit(f"sync stopped; this resource keeps what the last finished run wrote: {e}")
    finally:
        db.close()


if __name__ == "__main__":
    main()
