"""Headless Chromium driven through the DevTools protocol over a pipe
(--remote-debugging-pipe: file descriptors 3 and 4, messages ended by a NUL
byte), so no port is opened and nothing beyond the standard library is
needed. Every event is kept for the test to inspect afterwards."""
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

# No first-run chores, no background traffic of the browser's own, and no
# name but 127.0.0.1 resolves: a request to another host fails on the spot
# instead of leaving the machine (the tests still see that it was tried).
FLAGS = [
    "--headless=new",
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


class ProtocolError(Exception):
    pass


class Chromium:
    """A browser process and its DevTools connection; use as a context manager."""

    def __init__(self, window=(1280, 2000)):
        self.profile = tempfile.mkdtemp(prefix="crm-chromium-")
        self._log = open(os.path.join(self.profile, "stderr.log"), "w+b")  # a file: a full pipe would stall it
        self.events = []  # every event received, in order: {"method", "params", "sessionId"?}
        self._next_id = 0
        self._buffer = b""
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def pipe_ends_at_3_and_4():  # where Chromium looks for them, in the child before exec
            read_end = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            write_end = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
             f"--window-size={window[0]},{window[1]}", "about:blank"],
            preexec_fn=pipe_ends_at_3_and_4, close_fds=False,  # Python's own descriptors are close-on-exec
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Asks the browser to quit, kills it if it will not, removes its profile."""
        if self.process.poll() is None:
            try:
                self.call("Browser.close", timeout=10)
            except (ProtocolError, OSError, TimeoutError):
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def _send(self, method, params, session):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._to_browser, data):]
        return self._next_id

    def _receive(self, deadline):
        """The next message from the browser; events are also kept in self.events."""
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from Chromium in time")
            if not select.select([self._from_browser], [], [], left)[0]:
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise ProtocolError("Chromium closed the DevTools pipe: " + self._stderr_tail())
            self._buffer += chunk
        text, self._buffer = self._buffer.split(b"\0", 1)
        message = json.loads(text)
        if "method" in message:
            self.events.append(message)
        return message

    def _stderr_tail(self):
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-2000:]

    def call(self, method, params=None, session=None, timeout=30):
        """Sends a command and returns its result (a dict)."""
        wanted = self._send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            message = self._receive(deadline)
            if message.get("id") != wanted:
                continue
            if "error" in message:
                raise ProtocolError(f"{method}: {message['error']}")
            return message["result"]

    def open_page(self):
        """Opens a blank tab and returns the session id that drives it."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        return self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def evaluate(self, session, expression, timeout=30):
        """The value of a JavaScript expression in the page (awaited, by value)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True}, session, timeout)
        if "exceptionDetails" in result:
            raise ProtocolError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_until(self, session, expression, timeout=60, interval=0.25):
        """Polls expression until it is truthy; returns its last value (falsy after timeout)."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(session, expression)
            if value:
                return value
            time.sleep(interval)
        return value

    def events_named(self, method, session=None):
        """The params of every event of that name (of one session when given)."""
        return [e["params"] for e in self.events
                if e["method"] == method and (session is None or e.get("sessionId") == session)]
