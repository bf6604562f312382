"""Helpers of the fault suite: clusters, server processes, raw HTTP probes.

Everything here is bounded in time: every socket has a timeout, every wait
a deadline, so a hung server makes a test fail instead of hanging the run.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.abspath(os.environ.get("CRM_API_BIN", os.path.join(ROOT, "bin", "crm-api")))
RUN_DIR = os.path.abspath(os.environ.get("FAULTS_RUN_DIR", os.path.join(os.path.dirname(BIN), "faults")))
PG_SH = os.path.join(ROOT, "scripts", "pg.sh")
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


def parse_ports(text):
    """'18082,18084-18099' -> [18082, 18084, ..., 18099]"""
    ports = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-")
            ports.extend(range(int(lo), int(hi) + 1))
        elif part:
            ports.append(int(part))
    return ports


API_PORTS = parse_ports(os.environ.get("FAULTS_API_PORTS", "18082,18084-18099"))
_next_port = [0]


def port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def next_api_port():
    """Each server of the run gets a port of its own (no reuse, no TIME_WAIT),
    passing over ports something else listens on."""
    for _ in range(len(API_PORTS)):
        port = API_PORTS[_next_port[0] % len(API_PORTS)]
        _next_port[0] += 1
        if port_free(port):
            return port
    raise RuntimeError(f"no free port among FAULTS_API_PORTS {API_PORTS}")


def record_pid(pid):
    """scripts/test-faults.sh stops every process listed here (pid and
    executable) that is still running when the run ends."""
    os.makedirs(RUN_DIR, exist_ok=True)
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return
    with open(os.path.join(RUN_DIR, "pids"), "a") as f:
        f.write(f"{pid} {exe}\n")


def unique(prefix="x"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# ---------------------------------------------------------------- PostgreSQL

class Cluster:
    """A throwaway PostgreSQL cluster run by scripts/pg.sh."""

    def __init__(self, name, port):
        self.dir = os.path.join(ROOT, name)
        self.port = port
        self.url = None

    def _pg(self, *args, timeout=180):
        out = subprocess.run([PG_SH, *args], capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"pg.sh {' '.join(args)} failed:\n{out.stderr[-3000:]}")
        return out.stdout.strip()

    def create(self):
        subprocess.run([PG_SH, "destroy", self.dir], capture_output=True, timeout=180)
        self.start()
        return self

    def start(self, timeout=180):
        self.url = self._pg("start", self.dir, str(self.port), timeout=timeout)
        return self.url

    def stop(self):
        self._pg("stop", self.dir)

    def datadir(self):
        return self._pg("datadir", self.dir)

    def postmaster_pid(self):
        with open(os.path.join(self.datadir(), "postmaster.pid")) as f:
            return int(f.readline().strip())

    def psql(self, sql, timeout=30):
        """Runs sql, returns the rows as lists of strings (unaligned, tab-separated)."""
        cmd = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
               "-d", self.url, "-c", sql]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/")
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr}")
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def accepting(self):
        """True when the cluster answers a query."""
        try:
            return self.psql("select 1", timeout=5) == [["1"]]
        except Exception:
            return False


# ------------------------------------------------------------------- server

def proc_status(pid, field):
    """A field of /proc/PID/status in kB (VmRSS...) or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


class Server:
    """bin/crm-api serve with its own environment, port and log file."""

    def __init__(self, database_url, name, **env):
        self.port = next_api_port()
        self.name = name
        os.makedirs(os.path.join(RUN_DIR, "logs"), exist_ok=True)
        self.log_path = os.path.join(RUN_DIR, "logs", f"{name}-{self.port}.log")
        self.env = dict(os.environ)
        self.env.update({"DATABASE_URL": database_url, "PORT": str(self.port), "BIND": "127.0.0.1",
                         "THREADS": "2", "LOG_LEVEL": "warning"})
        self.env.update({k: str(v) for k, v in env.items()})
        self.proc = None
        self.exit_status = None

    @property
    def pid(self):
        return self.proc.pid

    def start(self, timeout=30):
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen([BIN, "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=ROOT)
        log.close()
        record_pid(self.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited at start ({self.proc.returncode}):\n{self.log_tail()}")
            status, _, _ = get(self.port, "/healthz", timeout=1)
            if status == 200:
                return self
            time.sleep(0.1)
        raise RuntimeError(f"server not up after {timeout}s:\n{self.log_tail()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def fds(self):
        return fd_count(self.pid)

    def rss_kb(self):
        return proc_status(self.pid, "VmRSS")

    def threads(self):
        return proc_status(self.pid, "Threads")

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout=15):
        """SIGTERM then wait; SIGKILL when it does not exit. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.exit_status = self.proc.returncode
        return self.exit_status

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def create_admin(database_url):
    out = subprocess.run([BIN, "create-admin", "--name", "Faults Admin", "--email", f"{unique('faults')}@example.com"],
                         check=True, capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, DATABASE_URL=database_url, LOG_LEVEL="error"))
    return out.stdout.strip()


# --------------------------------------------------------------------- HTTP

def get(port, path, token=None, timeout=2.0, headers=None):
    """One request on a new connection. Returns (status, headers dict, body)
    or (None, None, 'ExceptionName: ...') when no complete answer came."""
    return request(port, "GET", path, token=token, timeout=timeout, headers=headers)


def request(port, method, path, token=None, body=None, timeout=2.0, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload
    except Exception as e:  # noqa: BLE001 - every failure is a figure here
        return None, None, f"{type(e).__name__}: {e}"
    finally:
        conn.close()


def wait_for_200(port, path, token, deadline_s, per_request_s=1.0, pause_s=0.05):
    """Polls until a 200 or deadline_s from now. Returns (seconds taken or None,
    attempts, last failure)."""
    t0 = time.monotonic()
    attempts, last = 0, None
    while time.monotonic() - t0 < deadline_s:
        attempts += 1
        left = deadline_s - (time.monotonic() - t0)
        status, _, body = get(port, path, token, timeout=max(0.05, min(per_request_s, left)))
        if status == 200:
            return time.monotonic() - t0, attempts, None
        last = status if status is not None else body
        time.sleep(pause_s)
    return None, attempts, last


def wait_until(predicate, timeout, pause=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(pause)


def run_threads(targets):
    """Starts daemon threads (so a stuck one never blocks the exit)."""
    threads = [threading.Thread(target=t, args=a, daemon=True) for t, a in targets]
    for t in threads:
        t.start()
    return threads


def join_all(threads, timeout):
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return [t for t in threads if t.is_alive()]


# -------------------------------------------------------------------- data

class Api:
    """A keep-alive client for seeding (one per thread)."""

    def __init__(self, port, token, timeout=30):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.token = token

    def call(self, method, path, body=None, headers=None):
        hdrs = {"Authorization": f"Bearer {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        self.conn.request(method, path, body=data, headers=hdrs)
        resp = self.conn.getresponse()
        payload = resp.read()
        return resp.status, json.loads(payload) if payload else None

    def ok(self, method, path, body=None, want=(200, 201)):
        status, doc = self.call(method, path, body)
        if status not in want:
            raise RuntimeError(f"{method} {path} -> {status} {doc}")
        return doc

    def close(self):
        self.conn.close()


def seed(port, token, owners=6, accounts=120, opportunities=600, workers=4):
    """Owners, accounts and opportunities with a priced line each, closing
    over the next 12 months, so that reports have work to do. Returns
    {'owner_ids', 'account_ids', 'opportunity_ids'}."""
    import datetime
    api = Api(port, token)
    owner_ids = [api.ok("POST", "/users", {"name": unique("Owner"), "email": f"{unique('o')}@example.com",
                                           "role": "member"})["id"] for _ in range(owners)]
    product = api.ok("POST", "/lookups/product", {"label": unique("Product"), "unit_price": "125.50"})["id"]
    api.close()
    today = datetime.date.today()
    account_ids, opportunity_ids = [], []
    lock = threading.Lock()
    errors = []

    def work(k):
        c = Api(port, token)
        try:
            mine = []
            for i in range(k, accounts, workers):
                mine.append(c.ok("POST", "/accounts", {"name": unique("Seed Account")})["id"])
            with lock:
                account_ids.extend(mine)
            opps = []
            for i in range(k, opportunities, workers):
                body = {"account_id": mine[i % len(mine)], "owner_id": owner_ids[i % owners],
                        "close_date": (today + datetime.timedelta(days=(i * 7) % 360)).isoformat(),
                        "lines": [{"product_id": product, "quantity": 1 + i % 5}]}
                opps.append(c.ok("POST", "/opportunities", body)["id"])
            with lock:
                opportunity_ids.extend(opps)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        finally:
            c.close()

    join_all(run_threads([(work, (k,)) for k in range(workers)]), 300)
    if errors:
        raise errors[0]
    return {"owner_ids": owner_ids, "account_ids": sorted(account_ids), "opportunity_ids": sorted(opportunity_ids),
            "product_id": product}
