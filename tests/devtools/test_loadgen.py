"""The benchmark's load generator against a stub server: every response counted, short bodies refused."""

import pytest

from crm.devtools import loadgen
from crm.devtools.server import HOST


class _OrdersListStub:
    """A loopback HTTP server standing in for gunicorn: every third orders list answers 500, and with
    `truncate` the body is shorter than its Content-Length says."""

    def __init__(self, *, truncate=False):
        import http.server
        import threading

        calls = {"count": 0}
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                with lock:
                    calls["count"] += 1
                    number = calls["count"]
                assert self.headers["Authorization"] == "Bearer token-1"
                failing = self.path != "/api/orders/get/" or number % 3 == 0
                body = b'{"orders":[]}'
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", str(len(body) + (5 if truncate else 0)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.port = self.server.server_address[1]
        self.calls = calls
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_the_concurrent_rate_counts_every_response_and_each_failure():
    stub = _OrdersListStub()
    try:
        result = loadgen.concurrent_rate(stub.port, "token-1", connections=4, requests_each=6)
    finally:
        stub.close()
    # 1 warm-up (call 1) then 24 timed requests (calls 2-25): calls 3, 6, …, 24 answer 500.
    assert stub.calls["count"] == 25
    assert (result.requests, result.errors) == (16, 8)
    assert result.first_error == "HTTP 500"
    assert result.per_second > 0


def test_a_response_shorter_than_its_content_length_is_an_error():
    stub = _OrdersListStub(truncate=True)
    try:
        request = b"POST /api/orders/get/ HTTP/1.1\r\nAuthorization: Bearer token-1\r\nContent-Length: 0\r\n\r\n"
        with pytest.raises(RuntimeError, match="incomplete response"):
            loadgen.post_prebuilt(stub.port, request)
    finally:
        stub.close()
