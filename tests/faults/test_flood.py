"""Connection floods and slow clients (SPEC §10, connection limits).

A client that opens more connections than MAX_CONNECTIONS, or holds them
half-sent, is refused or timed out, and the server answers again normally as
soon as they are gone: no number of connections and no slow client ever
leaves it hung.
"""
import errno
import os
import selectors
import socket
import time

import pytest

import faultlib

pytestmark = pytest.mark.flood

CONNECTION_TIMEOUT = 3
MAX_CONNECTIONS = 1024
FLOOD = int(os.environ.get("FAULTS_FLOOD", "1100"))
HOLD_S = 2.0
ENV = dict(THREADS=2, MAX_CONNECTIONS=MAX_CONNECTIONS, CONNECTION_TIMEOUT=CONNECTION_TIMEOUT, SHUTDOWN_TIMEOUT=3)
PARTIAL_REQUEST = b"GET /accounts HTTP/1.1\r\nHost: x\r\n"  # the blank line never comes
FD_SLACK = 2  # descriptors the server may keep above its baseline afterwards


class Flood:
    """Many non-blocking sockets in one process, each with a request whose
    headers are never finished."""

    def __init__(self, port, count):
        self.port, self.count = port, count
        self.sel = selectors.DefaultSelector()
        self.pending = {}  # socket -> None, connecting
        self.held = {}  # socket -> None, connected and half-sent
        self.refused = self.timed_out = self.local_errors = 0
        self.closed_by_server = self.answered = 0
        self.first_closed_at = None

    def open(self, connect_timeout=3.0):
        addr = ("127.0.0.1", self.port)
        for _ in range(self.count):
            try:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            except OSError:
                self.local_errors += 1
                continue
            s.setblocking(False)
            rc = s.connect_ex(addr)
            if rc in (0, errno.EINPROGRESS):
                self.pending[s] = None
                self.sel.register(s, selectors.EVENT_WRITE)
            else:
                self.refused += 1
                s.close()
        deadline = time.monotonic() + connect_timeout
        while self.pending and time.monotonic() < deadline:
            for key, _ in self.sel.select(timeout=0.1):
                s = key.fileobj
                if s not in self.pending:
                    continue
                del self.pending[s]
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    self.refused += 1
                    self.sel.unregister(s)
                    s.close()
                    continue
                try:
                    s.send(PARTIAL_REQUEST)
                except OSError:
                    self.refused += 1
                    self.sel.unregister(s)
                    s.close()
                    continue
                self.held[s] = None
                self.sel.modify(s, selectors.EVENT_READ)
        for s in list(self.pending):
            self.timed_out += 1
            self.sel.unregister(s)
            s.close()
        self.pending.clear()
        return self

    def watch(self, seconds, since):
        """Notes the held sockets the server answers or closes meanwhile."""
        end = time.monotonic() + seconds
        while self.held:
            left = end - time.monotonic()
            for key, _ in self.sel.select(timeout=max(0.0, min(left, 0.1))):
                s = key.fileobj
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if data:
                    self.answered += 1
                    continue
                self.closed_by_server += 1
                if self.first_closed_at is None:
                    self.first_closed_at = time.monotonic() - since
                self.sel.unregister(s)
                del self.held[s]
                s.close()
            if left <= 0:
                break

    def close(self):
        for s in list(self.held):
            self.sel.unregister(s)
            s.close()
        self.held.clear()
        self.sel.close()

    def summary(self):
        return (f"{self.count} sockets: {len(self.held) + self.closed_by_server} connected, "
                f"{self.refused} refused, {self.timed_out} connect timeouts, {self.local_errors} local errors; "
                f"{self.closed_by_server} closed by the server, {self.answered} got bytes")


def baseline(server, token):
    """Descriptors of an idle server that has served a request."""
    status, _, body = faultlib.get(server.port, "/accounts", token, timeout=5)
    assert status == 200, body
    time.sleep(0.2)
    return server.fds()


def fds_back(server, base, timeout):
    """Waits for the descriptor count to come back near the baseline."""
    t0 = time.monotonic()
    faultlib.wait_until(lambda: (server.fds() or 0) <= base + FD_SLACK, timeout)
    return server.fds(), time.monotonic() - t0


@pytest.mark.deadline(60)
def test_flood_then_release(shared_pg, shared_token, servers, figures):
    server = servers(shared_pg.url, **ENV)
    base = baseline(server, shared_token)
    flood = Flood(server.port, FLOOD).open()
    held_at = time.monotonic()
    during = faultlib.get(server.port, "/accounts", shared_token, timeout=1)
    peak = server.fds()
    flood.watch(HOLD_S - (time.monotonic() - held_at), held_at)
    figures(flood.summary())
    figures(f"server descriptors: {base} before, {peak} while held; a new client meanwhile: "
            f"{during[0] if during[0] is not None else during[2]}")
    flood.close()
    took, attempts, last = faultlib.wait_for_200(server.port, "/accounts", shared_token,
                                                 CONNECTION_TIMEOUT + 2, per_request_s=1.0)
    figures(f"after the release: GET /accounts 200 after {took:.2f} s ({attempts} tries)" if took is not None else
            f"after the release: no 200 within {CONNECTION_TIMEOUT + 2} s ({attempts} tries, last: {last})")
    alive = server.alive()
    fds, waited = fds_back(server, base, CONNECTION_TIMEOUT + 2) if alive else (None, 0)
    figures(f"server alive: {alive}; descriptors {fds} (baseline {base}) {waited:.1f} s after")
    assert took is not None, f"server did not answer within {CONNECTION_TIMEOUT + 2} s of the release: {last}"
    assert alive, "server died"
    assert fds <= base + FD_SLACK, f"descriptors {fds}, baseline {base}"


@pytest.mark.deadline(60)
def test_flood_held_until_the_server_times_it_out(shared_pg, shared_token, servers, figures):
    server = servers(shared_pg.url, **ENV)
    base = baseline(server, shared_token)
    flood = Flood(server.port, FLOOD).open()
    held_at = time.monotonic()
    # The connections over the limit wait to be accepted until the first
    # ones are timed out, then sit their own CONNECTION_TIMEOUT.
    cut_by = 2 * CONNECTION_TIMEOUT + 2
    try:
        took, attempts, last = faultlib.wait_for_200(server.port, "/accounts", shared_token,
                                                     CONNECTION_TIMEOUT + 2, per_request_s=1.0)
        figures(f"flood still open: GET /accounts 200 {took:.2f} s after the flood began holding ({attempts} tries)"
                if took is not None else
                f"flood still open: no 200 within {CONNECTION_TIMEOUT + 2} s ({attempts} tries, last: {last})")
        flood.watch(cut_by - (time.monotonic() - held_at), held_at)
        figures(flood.summary() + (f" (the first after {flood.first_closed_at:.2f} s)" if flood.first_closed_at
                                   else ""))
    finally:
        still_open = len(flood.held)
        flood.close()
    alive = server.alive()
    fds, waited = fds_back(server, base, CONNECTION_TIMEOUT + 2) if alive else (None, 0)
    figures(f"{still_open} flood connections still open {cut_by} s after the flood began holding; server alive: "
            f"{alive}; descriptors {fds} (baseline {base}) {waited:.1f} s after the client closed them")
    assert took is not None, (f"server did not answer within CONNECTION_TIMEOUT + 2 = {CONNECTION_TIMEOUT + 2} s "
                              f"while the flood was held: {last}")
    assert alive, "server died"
    assert still_open == 0, f"{still_open} half-sent connections still open after {cut_by} s"
    assert fds <= base + FD_SLACK, f"descriptors {fds}, baseline {base}"


class Trickle:
    """Connections that send a head at once, then the rest a byte at a time."""

    def __init__(self, port, payloads):
        self.socks, self.left, self.cut = [], [], 0
        for head, rest in payloads:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            if head:
                s.sendall(head)
            s.setblocking(False)
            self.socks.append(s)
            self.left.append(rest)

    def step(self):
        for i, s in enumerate(self.socks):
            if s is None or not self.left[i]:
                continue
            try:
                s.send(self.left[i][:1])
                self.left[i] = self.left[i][1:]
            except OSError:
                self.cut += 1
                s.close()
                self.socks[i] = None

    def close(self):
        for s in self.socks:
            if s is not None:
                s.close()


def trickle_and_probe(server, token, payloads, seconds, figures, what):
    """Trickles a byte per second per connection for `seconds`; meanwhile a
    GET every 0.25 s on a new connection must answer 200 fast."""
    base = baseline(server, token)
    trickle = Trickle(server.port, payloads)
    latencies, misses = [], []
    t_end = time.monotonic() + seconds
    next_byte = time.monotonic()
    try:
        while time.monotonic() < t_end:
            if time.monotonic() >= next_byte:
                trickle.step()
                next_byte += 1.0
            t0 = time.monotonic()
            status, _, body = faultlib.get(server.port, "/accounts", token, timeout=2)
            latencies.append(time.monotonic() - t0)
            if status != 200:
                misses.append(status if status is not None else body)
            time.sleep(0.25)
    finally:
        trickle.close()
    took, attempts, last = faultlib.wait_for_200(server.port, "/accounts", token, 2, per_request_s=1.0)
    alive = server.alive()
    fds, _ = fds_back(server, base, CONNECTION_TIMEOUT + 2) if alive else (None, 0)
    lat = sorted(latencies)
    figures(f"{len(payloads)} {what} for {seconds} s, {trickle.cut} cut by the server; "
            f"{len(latencies)} GETs meanwhile: {len(misses)} not 200, latency median "
            f"{lat[len(lat) // 2] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms")
    figures(f"after they stopped: 200 after {took:.2f} s" if took is not None else f"after: no 200 ({last})")
    figures(f"server alive: {alive}; descriptors {fds} (baseline {base})")
    assert not misses, f"GETs failed while the {what} trickled: {misses[:5]}"
    assert lat[-1] < 1.0, f"a GET took {lat[-1]:.2f} s while the {what} trickled"
    assert took is not None, f"no 200 after the {what} stopped: {last}"
    assert alive, "server died"
    assert fds <= base + FD_SLACK, f"descriptors {fds}, baseline {base}"


@pytest.mark.deadline(40)
def test_slow_headers(shared_pg, shared_token, servers, figures):
    server = servers(shared_pg.url, **ENV)
    request = (f"GET /accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {shared_token}\r\n"
               f"X-Slow: {'a' * 100}\r\n\r\n").encode()
    trickle_and_probe(server, shared_token, [(b"", request)] * 4, 2 * CONNECTION_TIMEOUT, figures,
                      "slow-header connections")


@pytest.mark.deadline(40)
def test_slow_body(shared_pg, shared_token, servers, figures):
    server = servers(shared_pg.url, **ENV)
    body = b'{"name": "' + b"s" * 88 + b'"}'
    assert len(body) == 100
    head = (f"POST /accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {shared_token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n").encode()
    trickle_and_probe(server, shared_token, [(head, body)] * 4, 2 * CONNECTION_TIMEOUT, figures,
                      "slow-body POSTs (Content-Length: 100)")
