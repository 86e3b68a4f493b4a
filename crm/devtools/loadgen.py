"""The benchmark's HTTP clients: one new connection per request, like a mobile client on a bad network.

An endpoint that answers 404 (not built yet) raises NotAvailable, which the table shows as "n/a".
"""

import http.client
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from crm.devtools.server import BENCH_PASSWORD, BENCH_USER, HOST


class NotAvailable(Exception):
    """The endpoint does not exist (yet)."""


@dataclass
class Response:
    status: int
    body: bytes
    cookies: dict[str, str]


@dataclass
class Session:
    port: int
    token: str = ""
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, data: dict | None = None, *, as_json=False, auth=True) -> Response:
        headers = {"Host": HOST}
        body = None
        if data is not None:
            body = json.dumps(data) if as_json else urlencode(data)
            headers["Content-Type"] = "application/json" if as_json else "application/x-www-form-urlencoded"
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
            if "csrftoken" in self.cookies and method == "POST":
                headers["X-CSRFToken"] = self.cookies["csrftoken"]
                headers["Referer"] = f"http://{HOST}:{self.port}/admin/"
        connection = http.client.HTTPConnection(HOST, self.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            cookies = {}
            for header in response.headers.get_all("Set-Cookie") or []:
                cookies.update({name: morsel.value for name, morsel in SimpleCookie(header).items()})
        finally:
            connection.close()
        self.cookies.update(cookies)
        if response.status == 404:
            raise NotAvailable(path)
        if response.status >= 400:
            raise RuntimeError(f"{method} {path} -> HTTP {response.status}: {payload[:200]!r}")
        return Response(response.status, payload, cookies)


@dataclass
class RateResult:
    requests: int
    errors: int
    seconds: float
    first_error: str = ""

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def post_prebuilt(port: int, request: bytes) -> int:
    """Send a whole prebuilt HTTP request on a new connection, read the whole response, return its status.

    The 8-connection run sends its requests this way rather than through http.client: the load
    generator shares the machine's cores with the server, and http.client's request building and
    header parsing took enough of them to lower the server's measured rate. The response is still
    read to the end and checked against its Content-Length.
    """
    with socket.create_connection((HOST, port), timeout=120) as sock:
        sock.sendall(request)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    head, _separator, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or not status_line[1].isdigit():
        raise RuntimeError(f"not an HTTP response: {head[:60]!r}")
    length = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.IGNORECASE)
    if length and int(length.group(1)) != len(body):
        raise RuntimeError(f"incomplete response: {len(body)} of {int(length.group(1))} bytes")
    return int(status_line[1])


def concurrent_rate(port: int, token: str, *, connections: int, requests_each: int,
                    time_limit: float = 120.0) -> RateResult | str:
    """Requests per second on the orders list with `connections` clients at once, each opening a new
    connection per request. The clients start together (a barrier); a failed request is counted and
    the client goes on; the run stops at `time_limit` seconds whatever is left."""
    Session(port, token=token).request("POST", "/api/orders/get/", {})  # warm-up; raises NotAvailable
    request = (
        f"POST /api/orders/get/ HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ).encode()
    lock = threading.Lock()
    counts = {"ok": 0, "errors": 0}
    first_error: list[str] = []
    barrier = threading.Barrier(connections + 1)
    deadline: list[float] = []

    def client():
        barrier.wait()
        for _ in range(requests_each):
            if time.perf_counter() > deadline[0]:
                return
            try:
                status = post_prebuilt(port, request)
                error = "" if status == 200 else f"HTTP {status}"
            except Exception as exception:
                error = f"{type(exception).__name__}: {str(exception)[:60]}"
            with lock:
                counts["errors" if error else "ok"] += 1
                if error and not first_error:
                    first_error.append(error)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline.append(started + time_limit)
    barrier.wait()
    for thread in threads:
        thread.join(timeout=time_limit + 30)
    elapsed = time.perf_counter() - started
    return RateResult(counts["ok"], counts["errors"], elapsed, first_error[0] if first_error else "")


def orders_rate(port: int, *, concurrent_requests: int, log):
    try:
        session = Session(port)
        token = json.loads(session.request(
            "POST", "/api/token/", {"username": BENCH_USER, "password": BENCH_PASSWORD},
            as_json=True, auth=False).body)["access"]
        log(f"8 concurrent connections on the orders list (port {port}) ...")
        return concurrent_rate(port, token, connections=8, requests_each=concurrent_requests)
    except NotAvailable:
        return "n/a"
    except Exception as error:  # The table is still worth printing.
        return f"error: {str(error)[:60]}"
