"""A webhook receiver for the tests: an HTTP server on a free loopback
port that records every request and answers from a script of statuses
(then 200), or hangs while `hang` is set. And the signature check as a
receiver's author writes it (Standard Webhooks)."""
import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify_signature(secret, headers, body, tolerance=300):
    """True when webhook-signature holds a v1 HMAC-SHA256 of
    "id.timestamp.body" keyed with the secret's bytes, and the timestamp is
    within tolerance seconds of now."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split())


class Receiver:
    def __init__(self, statuses=()):
        self.statuses = list(statuses)  # answered in turn, then 200
        self.requests = []  # (monotonic time, headers dict (lower-case), body bytes)
        self.hang = threading.Event()  # set: requests wait (up to 30 s) instead of answering
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append((time.monotonic(), {k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.arrived.notify_all()
                deadline = time.monotonic() + 30
                while receiver.hang.is_set() and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count, timeout=20):
        """The first count requests, waiting up to timeout seconds for them."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"receiver got {len(self.requests)} request(s), expected {count}")
                self.arrived.wait(left)
            return list(self.requests[:count])

    def events(self):
        with self.lock:
            return [json.loads(body) for _, _, body in self.requests]

    def close(self):
        self.hang.clear()
        self.server.shutdown()
        self.server.server_close()
