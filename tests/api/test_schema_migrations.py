"""The SQL of db/ as the binary applies it (`crm-api migrate`, also run by
`serve`): the schema files once each, recorded with their SHA-256, then
the functions files, again whenever their checksum changed.

A new database and one migrated the way installations were before db/
was split (the db/migrations/ files, taken from the git history, applied
as the binary of then applied them), then migrated by this binary, end
with the same catalog. A schema file changed after it was applied stops
the start-up; migrating again changes nothing."""
import difflib
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BIN
from private_server import PG_BIN, _free_port, private_database, psql

REPO = Path(__file__).resolve().parents[2]
LEGACY = "db/migrations"


def git(*args):
    out = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return out.stdout


def legacy_migrations():
    """[(name, text)] of db/migrations/ as it was in the commit before the
    one that removed it."""
    if shutil.which("git") is None:
        pytest.fail("this test reads db/migrations/ from the git history, and git is not installed")
    try:
        removal = git("rev-list", "-1", "HEAD", "--", LEGACY).strip()
    except RuntimeError as e:
        pytest.fail(f"this test reads {LEGACY}/ from the git history, which is not available here "
                    f"(run it in a git clone): {e}")
    if not removal:
        pytest.fail(f"this test reads {LEGACY}/ from the git history, and no commit of it is here "
                    "(a shallow clone? fetch the history: git fetch --unshallow)")
    if git("ls-tree", "--name-only", removal, LEGACY + "/").strip():
        pytest.fail(f"{LEGACY}/ is still in the last commit that touched it ({removal}): "
                    "this test needs the commit that removed it")
    before = removal + "^"
    names = sorted(git("ls-tree", "--name-only", before, LEGACY + "/").split())
    assert names, f"no {LEGACY}/ files in {before}"
    return [(Path(n).name, git("show", f"{before}:{n}")) for n in names]


def psql_file(url, text):
    """Runs a script in one transaction, as the binary ran a migration."""
    subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-d", url, "-f", "-"],
                   input=text, check=True, capture_output=True, text=True, timeout=120)


def psql_rows(url, sql):
    out = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url,
                          "-c", sql], check=True, capture_output=True, text=True, timeout=60)
    return out.stdout.splitlines()


def migrate_the_old_way(url, migrations):
    """What the binary did before the split: a table of applied file names,
    each file run and recorded in one transaction."""
    psql(url, "CREATE TABLE schema_migrations (version text PRIMARY KEY, "
              "applied_at timestamptz NOT NULL DEFAULT now())")
    for name, text in migrations:
        psql_file(url, f"{text}\n;\nINSERT INTO schema_migrations (version) VALUES ('{name}');\n")


def migrate(url, command="migrate", **env):
    return subprocess.run([BIN, command], env=dict(os.environ, DATABASE_URL=url, LOG_LEVEL="info", **env),
                          capture_output=True, text=True, timeout=120)


def migrated(url):
    out = migrate(url)
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def catalog(url):
    """pg_dump --schema-only without what legitimately differs between two
    databases: comments, blank lines, the database's name and the random
    key of pg_dump's \\restrict lines."""
    out = subprocess.run([os.path.join(PG_BIN, "pg_dump"), "--schema-only", "--no-owner", "--no-privileges",
                          "--no-comments", "-d", url], check=True, capture_output=True, text=True, timeout=120)
    lines = [line for line in out.stdout.splitlines()
             if line.strip() and not line.startswith(("--", "\\restrict ", "\\unrestrict "))]
    return [re.sub(r"crm_private_[0-9a-f]+", "DB", line) for line in lines]


def applied(url):
    """schema_migrations as {version: checksum}."""
    return dict(row.split("|") for row in psql_rows(url, "SELECT version, checksum FROM schema_migrations"))


def schema_files():
    return sorted((REPO / "db" / "schema").glob("*.sql"))


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_same_catalog(upgraded, fresh):
    a, b = catalog(upgraded), catalog(fresh)
    if a != b:
        diff = "\n".join(difflib.unified_diff(a, b, "upgraded", "new", lineterm="", n=2))
        pytest.fail(f"the upgraded database differs from a new one:\n{diff[:6000]}")


@pytest.fixture(scope="module")
def fresh():
    with private_database() as (url, _):
        migrated(url)
        yield url


def test_a_new_database_records_every_schema_file_with_its_checksum(fresh):
    assert applied(fresh) == {p.name: sha256(p) for p in schema_files()}


@pytest.mark.parametrize("applied_before", [None, 9])
def test_an_upgraded_database_ends_identical_to_a_new_one(fresh, applied_before):
    """None: every db/migrations/ file was applied (the last installations);
    9: one migrated before the monthly totals (0010) and with a deal, which
    the upgrade counts into them."""
    migrations = legacy_migrations()
    if applied_before is not None:
        migrations = [m for m in migrations if int(m[0][:4]) <= applied_before]
    with private_database() as (url, _):
        migrate_the_old_way(url, migrations)
        if applied_before is not None:
            psql(url, """
              INSERT INTO users (name, email, role) VALUES ('Old', 'old@example.com', 'admin');
              INSERT INTO accounts (name, owner_id) SELECT 'Old account', id FROM users;
              INSERT INTO opportunities (account_id, name, owner_id, status_id, close_date, forecast_id,
                                         probability, value, created_by)
              SELECT a.id, 'Old deal', a.owner_id,
                     (SELECT id FROM lookup_items WHERE kind = 'opportunity-status' AND label = 'Proposal'),
                     '2026-05-17', (SELECT id FROM lookup_items WHERE kind = 'opportunity-forecast' AND is_default),
                     50, 120.00, a.owner_id
                FROM accounts a""")
        out = migrated(url)
        assert "changed after it was applied" not in out.stderr + out.stdout
        assert applied(url) == applied(fresh)
        assert_same_catalog(url, fresh)
        if applied_before is not None:
            assert psql_rows(url, "SELECT deals, value FROM opportunity_totals") == ["1|120.00"]
            assert psql_rows(url, "SELECT count(*) FROM opportunity_totals_mismatches()") == ["0"]


def test_migrating_again_changes_nothing(fresh):
    rows = "SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version"
    before_rows, before_catalog = psql_rows(fresh, rows), catalog(fresh)
    out = migrated(fresh)
    assert "applied migration" not in out.stdout + out.stderr
    assert psql_rows(fresh, rows) == before_rows
    assert catalog(fresh) == before_catalog


def functions_checksum():
    """What the binary records in schema_functions: one SHA-256 over the
    name and SHA-256 of every db/functions/ file, in the Makefile's order."""
    makefile = (REPO / "Makefile").read_text()
    names = re.search(r"^FUNCTIONS\s*:=\s*\$\(addprefix db/functions/,(.*?)\)\s*$", makefile, re.M | re.S)
    listed = names.group(1).replace("\\\n", " ").split()
    text = "".join(f"db/functions/{n} {sha256(REPO / 'db' / 'functions' / n)}\n" for n in listed)
    return hashlib.sha256(text.encode()).hexdigest()


def test_functions_are_applied_again_only_when_they_changed(fresh):
    """Replacing a trigger function locks its table: instances restarting
    on the same version must not queue behind each other's writes, so the
    functions run again only when their checksum changed (or a schema file
    was applied)."""
    rows = "SELECT checksum, applied_at FROM schema_functions"
    before = psql_rows(fresh, rows)
    assert len(before) == 1 and before[0].split("|")[0] == functions_checksum()
    migrated(fresh)
    assert psql_rows(fresh, rows) == before
    # A function replaced by hand (or an older release's body) with the
    # recorded checksum no longer current: the next migrate restores it.
    psql(fresh, "UPDATE schema_functions SET checksum = 'older'")
    psql(fresh, "CREATE OR REPLACE FUNCTION api_field_error(field text, message text) RETURNS jsonb "
                "LANGUAGE sql IMMUTABLE AS $$ SELECT '[]'::jsonb $$")
    migrated(fresh)
    after = psql_rows(fresh, rows)
    assert len(after) == 1 and after[0].split("|")[0] == functions_checksum() and after != before
    assert psql_rows(fresh, "SELECT api_field_error('f', 'm')::text") == ['[{"field": "f", "message": "m"}]']


@pytest.mark.parametrize("command", ["migrate", "serve"])
def test_a_schema_file_changed_after_it_was_applied_stops_the_start(command):
    path = REPO / "db" / "schema" / "0005_opportunities.sql"
    recorded = "0" * 64
    with private_database() as (url, _):
        migrated(url)
        psql(url, f"UPDATE schema_migrations SET checksum = '{recorded}' WHERE version = '{path.name}'")
        out = migrate(url, command, PORT=str(_free_port()))
        log = out.stdout + out.stderr
        assert out.returncode == 1, log
        assert f"db/schema/{path.name} was changed after it was applied" in log, log
        assert recorded in log and sha256(path) in log, log
        assert applied(url)[path.name] == recorded
