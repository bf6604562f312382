"""`make run` (scripts/run.sh) stops its embedded PostgreSQL on every way
out: Ctrl-C in the terminal (SIGINT to the whole foreground group), SIGTERM
to the script alone, and the server dying by itself. Each case runs the
script as `make run` does, with its own cluster (PG_TEST_PORT+1, a folder
under pytest's tmp_path) and a free API port."""
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import BIN, Client
from private_server import _free_port

ROOT = Path(__file__).resolve().parents[2]
PG_PORT = int(os.environ.get("PG_TEST_PORT", "5440")) + 1


class RunScript:
    """scripts/run.sh in a process group of its own, as a shell's job is."""

    def __init__(self, pg_dir):
        self.pg_dir = pg_dir
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(PG_RUN_DIR=str(pg_dir), PG_RUN_PORT=str(PG_PORT), CRM_API_BIN=str(Path(BIN).resolve()),
                   PORT=str(self.port), BIND="127.0.0.1")
        self.proc = subprocess.Popen([str(ROOT / "scripts/run.sh")], cwd=ROOT, env=env, start_new_session=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self):
        return "".join(self.lines)

    def wait_serving(self, timeout=90):
        deadline = time.monotonic() + timeout
        client = Client(None, base=self.base, record=False)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"run.sh exited {self.proc.returncode} before serving:\n{self.output}")
            if "Serving on" in self.output:
                try:
                    if client.get("/healthz").status == 200:
                        return client
                except OSError:
                    pass
            time.sleep(0.2)
        pytest.fail(f"run.sh did not serve in {timeout} s:\n{self.output}")

    def wait_exit(self, timeout=60):
        status = self.proc.wait(timeout)
        self.reader.join(5)
        return status

    def server_pid(self):
        """The crm-api child of the script (the only one while it serves)."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid), "-f", "crm-api"], capture_output=True, text=True)
        pids = [int(p) for p in out.stdout.split()]
        assert len(pids) == 1, f"want one crm-api child of run.sh, found {pids}"
        return pids[0]


def pg_data_dir(pg_dir):
    out = subprocess.run([str(ROOT / "scripts/pg.sh"), "datadir", str(pg_dir)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def pg_running(pg_dir):
    """pg_ctl's own answer for the cluster (0 running, 3 stopped)."""
    data = pg_data_dir(pg_dir)
    pg_ctl = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")) / "pg_ctl"
    cmd = [str(pg_ctl), "status", "-D", str(data)]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", os.environ.get("PG_OS_USER", "postgres"), "--"] + cmd
    status = subprocess.run(cmd, capture_output=True, cwd="/").returncode
    assert status in (0, 3), f"pg_ctl status gave {status} for {data}"
    return status == 0


@pytest.fixture(scope="module")
def pg_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("run-script") / "pg"
    yield path
    subprocess.run([str(ROOT / "scripts/pg.sh"), "destroy", str(path)], cwd=ROOT, capture_output=True)


def test_ctrl_c_stops_server_and_database(pg_dir):
    run = RunScript(pg_dir)
    client = run.wait_serving()
    out = run.output
    assert "New database: demo data loaded, admin created." in out
    assert f"docs: http://127.0.0.1:{run.port}/docs" in out
    token = next(line.split()[-1] for line in out.splitlines() if "Admin token:" in line)
    assert Client(token, base=run.base, record=False).get("/accounts").status == 200
    assert client.get("/docs").status == 200
    assert pg_running(pg_dir)

    os.killpg(run.proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    assert run.wait_exit() == 130
    assert not pg_running(pg_dir), run.output
    with pytest.raises(OSError):
        client.get("/healthz")


def test_sigterm_to_the_script_alone_stops_everything(pg_dir):
    run = RunScript(pg_dir)
    run.wait_serving()
    out = run.output
    assert "New database" not in out  # the cluster of the first test, reused
    assert "Admin token:" in out  # read back from the cluster's folder
    server = run.server_pid()

    run.proc.send_signal(signal.SIGTERM)
    assert run.wait_exit() == 143
    assert not pid_alive(server)
    assert not pg_running(pg_dir), run.output


def test_server_dying_stops_database(pg_dir):
    run = RunScript(pg_dir)
    run.wait_serving()
    os.kill(run.server_pid(), signal.SIGKILL)
    status = run.wait_exit()
    assert status == 128 + signal.SIGKILL, run.output
    assert not pg_running(pg_dir), run.output


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose: it no longer serves.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1][0] != "Z"
