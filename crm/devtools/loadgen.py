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


def run_together(client, *, connections: int, barrier: threading.Barrier, deadline: list[float], seconds: float,
                 grace: float) -> float:
    """Start `connections` threads running `client`, release them together through `barrier` with the
    deadline set `seconds` ahead, wait for them (at most `grace` seconds past it); return the seconds it took."""
    threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline.append(started + seconds)
    barrier.wait()
    for thread in threads:
        thread.join(timeout=seconds + grace)
    return time.perf_counter() - started


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

    elapsed = run_together(client, connections=connections, barrier=barrier, deadline=deadline, seconds=time_limit,
                           grace=30)
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


class KeepAliveConnection:
    """One client on one persistent connection: send a prebuilt request, read exactly one response (by its
    Content-Length), and open a new connection only when the server closes it (gunicorn's sync workers do
    after every response; threaded and async workers keep it open)."""

    def __init__(self, port: int):
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""
        self.connects = 0

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def _read_until(self, marker: bytes) -> int:
        while (index := self.buffer.find(marker)) < 0:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("connection closed mid-response")
            self.buffer += data
        return index

    def post(self, request: bytes) -> int:
        """Send the request, read the whole response, return its status."""
        if self.sock is None:
            self.sock = socket.create_connection((HOST, self.port), timeout=120)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.connects += 1
        try:
            self.sock.sendall(request)
            end = self._read_until(b"\r\n\r\n")
        except (ConnectionError, OSError):
            if self.buffer:
                raise
            # A kept connection the server had closed meanwhile: once more on a new one.
            self.close()
            return self.post(request)
        head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
        status_line = head.split(b"\r\n", 1)[0].split()
        if len(status_line) < 2 or not status_line[1].isdigit():
            raise RuntimeError(f"not an HTTP response: {head[:60]!r}")
        length = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.IGNORECASE)
        closing = re.search(rb"\r\nconnection:\s*close", head, re.IGNORECASE)
        if length:
            wanted = int(length.group(1))
            while len(self.buffer) < wanted:
                data = self.sock.recv(65536)
                if not data:
                    raise RuntimeError(f"incomplete response: {len(self.buffer)} of {wanted} bytes")
                self.buffer += data
            self.buffer = self.buffer[wanted:]
        elif closing:
            while data := self.sock.recv(65536):
                self.buffer += data
            self.buffer = b""
        else:
            raise RuntimeError("a kept-alive response without Content-Length")
        if closing:
            self.close()
        return int(status_line[1])


def keep_alive_rate(port: int, request: bytes, *, connections: int, seconds: float) -> RateResult:
    """Requests per second with `connections` clients, each on its own kept-alive connection, for `seconds`
    seconds (they start together; a failed request is counted and the client goes on)."""
    lock = threading.Lock()
    counts = {"ok": 0, "errors": 0, "connects": 0}
    first_error: list[str] = []
    barrier = threading.Barrier(connections + 1)
    deadline: list[float] = []

    def client():
        connection = KeepAliveConnection(port)
        ok = errors = 0
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            try:
                status = connection.post(request)
                error = "" if status == 200 else f"HTTP {status}"
            except Exception as exception:
                connection.close()
                error = f"{type(exception).__name__}: {str(exception)[:60]}"
            if error:
                errors += 1
                with lock:
                    if not first_error:
                        first_error.append(error)
            else:
                ok += 1
        connection.close()
        with lock:
            counts["ok"] += ok
            counts["errors"] += errors
            counts["connects"] += connection.connects

    elapsed = run_together(client, connections=connections, barrier=barrier, deadline=deadline, seconds=seconds,
                           grace=150)
    result = RateResult(counts["ok"], counts["errors"], elapsed, first_error[0] if first_error else "")
    result.connects = counts["connects"]
    return result


def orders_list_request(token: str, *, keep_alive: bool = True) -> bytes:
    """The orders list as one prebuilt HTTP/1.1 request."""
    return (
        f"POST /api/orders/get/ HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    ).encode()


def bench_token(port: int) -> str:
    session = Session(port)
    response = session.request("POST", "/api/token/", {"username": BENCH_USER, "password": BENCH_PASSWORD},
                               as_json=True, auth=False)
    return json.loads(response.body)["access"]


# A loopback server that answers every request at once with the same bytes, in its own process: what the load
# generator reaches against it is its own ceiling, the rate above which it would measure itself, not the server.
TRIVIAL_SERVER = r"""
import asyncio, sys
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            writer.write(RESPONSE)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.sleep(float(sys.argv[1]))
asyncio.run(main())
"""


def generator_ceiling(*, connections: int = 8, seconds: float = 5.0) -> RateResult:
    """The load generator's own ceiling: keep_alive_rate against TRIVIAL_SERVER."""
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", TRIVIAL_SERVER, str(seconds + 60)], stdout=subprocess.PIPE,
                               text=True)
    try:
        port = int(process.stdout.readline())
        return keep_alive_rate(port, orders_list_request("x"), connections=connections, seconds=seconds)
    finally:
        process.terminate()
        process.wait(timeout=10)
