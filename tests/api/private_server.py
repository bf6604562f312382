"""A throwaway instance of the binary under test on its own port, for
cases that may hang a worker or that need a database of their own; and a
throwaway database of the test cluster."""
import contextlib
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from conftest import BIN, Client

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateServer:
    """The binary under test on a free port, with the shared test database
    unless env says otherwise. Stopped with SIGTERM (SIGKILL if that hangs)."""

    def __init__(self, env=None):
        if "DATABASE_URL" not in os.environ:
            pytest.skip("DATABASE_URL not set (run through scripts/test-api.sh)")
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(BIN).resolve().parent / f"test-private-{self.port}.log"
        self.log = open(self.log_path, "wb")
        env = dict(os.environ, PORT=str(self.port), BIND="127.0.0.1", THREADS="2", LOG_LEVEL="info", **(env or {}))
        self.proc = subprocess.Popen([BIN, "serve"], stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        probe = Client(None, base=self.base)
        while True:
            try:
                if probe.get("/healthz").status == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"private server did not start; log: {self.log_path}")
            time.sleep(0.1)

    def stop(self, grace=10):
        """Returns the exit status after SIGTERM, or None when it had to be killed."""
        status = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                status = self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        else:
            status = self.proc.returncode
        self.log.close()
        return status

    def sanitizer_reports(self):
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines()
                if "AddressSanitizer" in line or "LeakSanitizer" in line or "runtime error:" in line]


def psql(url, sql):
    subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                   check=True, capture_output=True, text=True, timeout=60)


@contextlib.contextmanager
def private_database():
    """A new, empty database of the test cluster (its URL); dropped after."""
    base = os.environ["DATABASE_URL"]
    name = f"crm_private_{uuid.uuid4().hex[:12]}"
    psql(base, f"CREATE DATABASE {name}")
    try:
        yield urlunsplit(urlsplit(base)._replace(path="/" + name)), name
    finally:
        psql(base, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
