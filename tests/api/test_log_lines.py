"""Log lines have a bound (api/log.c) and are never cut: with LOG_FORMAT=json
every line is a whole JSON object, whatever the request sent. A method is
logged as sent up to 1,024 bytes; a longer one (libmicrohttpd takes any
token its request line can hold) is logged as "-"."""
import json
import socket
import uuid

import pytest

from private_server import PrivateServer


@pytest.fixture
def json_log_server():
    server = PrivateServer(env={"LOG_FORMAT": "json"})
    try:
        yield server
    finally:
        server.stop(grace=5)
        server.log_path.unlink(missing_ok=True)


def raw_status(port, method, request_id):
    head = f"{method} /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: {request_id}\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.encode())
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return int(out.split(b" ", 2)[1])


def test_access_lines_stay_whole_json_with_any_method(json_log_server):
    ids = {size: uuid.uuid4().hex for size in (1024, 1025, 20000)}
    for size, request_id in ids.items():
        assert raw_status(json_log_server.port, "M" * size, request_id) == 405
    assert json_log_server.stop() == 0
    lines = json_log_server.log_path.read_text().splitlines()
    access = {}
    for line in lines:
        if not line.startswith("{"):
            continue  # not ours (libpq prints notices on its own)
        doc = json.loads(line)  # whole, never cut
        if "method" in doc:
            access[doc["request_id"]] = doc
    assert access[ids[1024]]["method"] == "M" * 1024
    assert access[ids[1025]]["method"] == "-"
    assert access[ids[20000]]["method"] == "-"
    assert all(access[i]["status"] == 405 for i in ids.values())
