"""The README's examples, run as a user would, against the suite's server:
examples/forecast-to-csv.sh (curl) and examples/sync.py (standard library,
SQLite), so that they cannot rot."""
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import API_URL, make_account, unique

ROOT = Path(__file__).resolve().parents[2]
FORECAST_TO_CSV = ROOT / "examples/forecast-to-csv.sh"
SYNC = ROOT / "examples/sync.py"


def run_example(cmd, token, cwd, **env):
    full_env = {k: v for k, v in os.environ.items() if k != "CRM_API_TOKEN"}
    full_env["CRM_API_URL"] = API_URL
    if token is not None:
        full_env["CRM_API_TOKEN"] = token
    full_env.update(env)
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=full_env, capture_output=True, timeout=300)


# --- forecast-to-csv.sh -------------------------------------------------------

@pytest.fixture(scope="module")
def report(admin):
    r = admin.post("/forecast-reports", {"name": unique("Pipeline/Q1 \"EU\""), "period": "next_12_months",
                                         "split_by": "owner"})
    assert r.status == 201, r
    return r.json


def api_csv(admin, report_id):
    r = admin.get(f"/forecast-reports/{report_id}/results?format=csv")
    assert r.status == 200, r
    name = re.fullmatch(r'attachment; filename="([^"]+)"', r.headers["content-disposition"]).group(1)
    return r.body, name


def test_forecast_to_csv_writes_the_file_the_api_names(admin, admin_token, report, tmp_path):
    expected, name = api_csv(admin, report["id"])
    assert "/" not in name and name.endswith(".csv")
    out = run_example([FORECAST_TO_CSV, report["id"]], admin_token, tmp_path)
    assert out.returncode == 0, out.stderr
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert (tmp_path / name).read_bytes() == expected
    assert expected.startswith(b"owner,") and b"\r\n" in expected  # RFC 4180 lines


def test_forecast_to_csv_to_stdout_and_to_a_named_file(admin, admin_token, report, tmp_path):
    expected, _ = api_csv(admin, report["id"])
    out = run_example([FORECAST_TO_CSV, report["id"], "-"], admin_token, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout == expected
    out = run_example([FORECAST_TO_CSV, report["id"], "pipeline.csv"], admin_token, tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "pipeline.csv").read_bytes() == expected


def test_forecast_to_csv_reports_the_problem_and_writes_nothing(admin_token, report, tmp_path):
    # Unknown report: the API's 404 problem reaches the user.
    out = run_example([FORECAST_TO_CSV, "999999999"], admin_token, tmp_path)
    assert out.returncode == 1
    assert b"HTTP 404" in out.stderr and b"No forecast report has this id." in out.stderr
    # A bad token: 401 with its detail.
    out = run_example([FORECAST_TO_CSV, report["id"]], "crm_not-a-token", tmp_path)
    assert out.returncode == 1 and b"HTTP 401" in out.stderr
    # No token, a bad id, too many arguments: usage errors before any request.
    out = run_example([FORECAST_TO_CSV, report["id"]], None, tmp_path)
    assert out.returncode != 0 and b"CRM_API_TOKEN" in out.stderr
    assert run_example([FORECAST_TO_CSV, "12x"], admin_token, tmp_path).returncode == 2
    assert run_example([FORECAST_TO_CSV, "1", "a", "b"], admin_token, tmp_path).returncode == 2
    # Nothing reachable: a clear message, exit 1.
    out = run_example([FORECAST_TO_CSV, report["id"]], admin_token, tmp_path, CRM_API_URL="http://127.0.0.1:9")
    assert out.returncode == 1 and b"could not reach" in out.stderr
    assert list(tmp_path.iterdir()) == []


# --- sync.py ------------------------------------------------------------------

def sync(db_path, token, *args):
    out = run_example([sys.executable, SYNC, "--db", db_path, *args], token, db_path.parent)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.decode().splitlines()
    summary = {}
    for line in lines:
        m = re.fullmatch(r"(\w+): (full|incremental since \S+): (\d+) read, (\d+) written \((\d+) tombstones\)", line)
        assert m, line
        summary[m.group(1)] = (m.group(2).split()[0], int(m.group(3)), int(m.group(4)), int(m.group(5)))
    assert set(summary) == {"accounts", "opportunities"}
    return summary


def all_rows(client, resource):
    rows, cursor = {}, None
    while True:
        path = f"/{resource}?include_deleted=true&limit=500" + (f"&cursor={cursor}" if cursor else "")
        r = client.get(path)
        assert r.status == 200, r
        rows.update({item["id"]: item for item in r.json["data"]})
        cursor = r.json["next_cursor"]
        if cursor is None:
            return rows


def local(db_path, resource, record_id):
    with sqlite3.connect(db_path) as db:
        return db.execute(f"SELECT version, deleted_at, name, doc FROM {resource} WHERE id = ?",
                          (record_id,)).fetchone()


def local_versions(db_path, resource):
    with sqlite3.connect(db_path) as db:
        return dict(db.execute(f"SELECT id, version FROM {resource}"))


def new_opportunity(client, account, **fields):
    r = client.post("/opportunities", {"account_id": account["id"], "name": unique("Deal"), **fields})
    assert r.status == 201, r
    return r.json


def test_sync_full_then_incremental_with_tombstones(admin, admin_token, tmp_path):
    kept, changed, doomed = (make_account(admin) for _ in range(3))
    product = admin.post("/lookups/product", {"label": unique("Seats"), "unit_price": "1234.57"})
    assert product.status == 201, product
    deal = new_opportunity(admin, kept, lines=[{"product_id": product.json["id"], "quantity": 3}])
    db_path = tmp_path / "crm.sqlite"
    time.sleep(1.1)  # the API's Date has whole seconds: the run begins after these writes

    first = sync(db_path, admin_token)
    assert first["accounts"][0] == "full" and first["opportunities"][0] == "full"
    # The local copy is the API's, record for record and version for version.
    for resource in ("accounts", "opportunities"):
        api = all_rows(admin, resource)
        assert local_versions(db_path, resource) == {i: row["version"] for i, row in api.items()}
    assert first["accounts"][1] >= 3 and first["opportunities"][1] >= 1
    # Money is kept exact, as the API's decimal text.
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT value FROM opportunities WHERE id = ?", (deal["id"],)).fetchone() == ("3703.71",)

    time.sleep(1.1)  # past the second in which the first run began
    r = admin.patch(f"/accounts/{changed['id']}", {"name": unique("Renamed")})
    assert r.status == 200, r
    renamed = r.json
    assert admin.delete(f"/accounts/{doomed['id']}").status == 204
    assert admin.delete(f"/opportunities/{deal['id']}").status == 204
    fresh = make_account(admin)

    # --overlap 0: this run reads only what changed since the first began.
    second = sync(db_path, admin_token, "--overlap", "0")
    assert second["accounts"][0] == "incremental"
    # read, written, tombstones: changed, doomed and fresh, nothing else
    assert second["accounts"][1:] == (3, 3, 1)
    assert second["opportunities"][1:] == (1, 1, 1)
    assert local(db_path, "accounts", changed["id"])[:3] == (renamed["version"], None, renamed["name"])
    gone = local(db_path, "accounts", doomed["id"])
    assert gone[0] == doomed["version"] + 1 and gone[1] is not None
    assert local(db_path, "opportunities", deal["id"])[1] is not None
    assert local(db_path, "accounts", fresh["id"])[0] == fresh["version"]
    assert local(db_path, "accounts", kept["id"])[0] == kept["version"]


def test_sync_overlap_catches_a_late_commit(admin, admin_token, tmp_path):
    """The hazard the overlap is for: a transaction that began before a run
    commits after it, with an updated_at older than the run's start. With
    the default overlap the next run gets it; with none it is lost."""
    account = make_account(admin)
    with_overlap, without = tmp_path / "overlap.sqlite", tmp_path / "none.sqlite"
    sync(with_overlap, admin_token)
    sync(without, admin_token)

    late = subprocess.Popen(["psql", os.environ["DATABASE_URL"], "-XqtA", "-v", "ON_ERROR_STOP=1"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        late.stdin.write("BEGIN;\n"
                         f"UPDATE accounts SET name = 'Late commit', updated_at = now(), version = version + 1"
                         f" WHERE id = {int(account['id'])};\n"
                         "\\echo updated\n")
        late.stdin.flush()
        assert late.stdout.readline().strip() == "updated"
        time.sleep(1.1)  # the runs below begin after the transaction's now()
        sync(with_overlap, admin_token)
        sync(without, admin_token, "--overlap", "0")
        late.stdin.write("COMMIT;\n")
        late.stdin.close()
        assert late.wait(30) == 0, late.stderr.read()
    finally:
        if late.poll() is None:
            late.kill()
    committed = admin.get(f"/accounts/{account['id']}").json
    assert committed["name"] == "Late commit"

    sync(with_overlap, admin_token)
    assert local(with_overlap, "accounts", account["id"])[:3] == (committed["version"], None, "Late commit")
    sync(without, admin_token, "--overlap", "0")
    assert local(without, "accounts", account["id"])[0] == account["version"]  # missed: why the overlap exists


def test_sync_failure_keeps_the_last_good_state(admin, admin_token, tmp_path):
    db_path = tmp_path / "crm.sqlite"
    sync(db_path, admin_token)
    with sqlite3.connect(db_path) as db:
        before = db.execute("SELECT * FROM sync_state ORDER BY resource").fetchall()
    out = run_example([sys.executable, SYNC, "--db", db_path], "crm_revoked-or-wrong", tmp_path)
    assert out.returncode != 0
    assert b"HTTP 401" in out.stderr
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT * FROM sync_state ORDER BY resource").fetchall() == before
    out = run_example([sys.executable, SYNC, "--db", db_path], None, tmp_path)
    assert out.returncode != 0 and b"CRM_API_TOKEN" in out.stderr


def test_examples_use_only_what_the_readme_promises():
    # sync.py: Python's standard library only; forecast-to-csv.sh: bash and curl.
    imports = re.findall(r"^(?:import|from) (\w+)", SYNC.read_text(), re.M)
    assert set(imports) <= set(sys.stdlib_module_names), imports
    assert "python" not in FORECAST_TO_CSV.read_text()
