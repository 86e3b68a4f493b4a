"""The benchmark's timed operations: every API call, report and admin page, taking turns between servers."""

import json
import re
import time
from html.parser import HTMLParser

from crm.devtools.loadgen import NotAvailable, Session
from crm.devtools.server import BENCH_PASSWORD, BENCH_USER


class FormParser(HTMLParser):
    """The fields of the first form with a submit button: what a browser would send."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_value: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind not in ("submit", "button", "file"):
                self.fields.append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._select_value = name, None
        elif tag == "option" and self._select:
            label_value = attrs.get("value", "")
            if (self._select_value is None and label_value) or "selected" in attrs:
                self._select_value = label_value

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.fields.append((self._select, self._select_value or ""))
            self._select = None


def csv_format_value(html: str) -> str | None:
    """The value of the CSV option in import-export's format choice."""
    match = re.search(r'<option value="([^"]*)"[^>]*>\s*csv\s*</option>', html, re.I)
    return match.group(1) if match else None


def admin_login(session: Session) -> None:
    page = session.request("GET", "/admin/login/", auth=False)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    if not token:
        raise RuntimeError("no CSRF token on the admin login page")
    session.request(
        "POST", "/admin/login/?next=/admin/", auth=False,
        data={"csrfmiddlewaretoken": token.group(1).decode(), "username": BENCH_USER,
              "password": BENCH_PASSWORD, "next": "/admin/"},
    )
    if "sessionid" not in session.cookies:
        raise RuntimeError("admin login failed")


def export_orders_csv(session: Session) -> int:
    page = session.request("GET", "/admin/crm/order/export/", auth=False)
    html = page.body.decode("utf-8", "replace")
    form = FormParser()
    form.feed(html)
    fields = dict(form.fields)
    csv_value = csv_format_value(html)
    if csv_value is not None:
        fields["format"] = csv_value
    response = session.request("POST", "/admin/crm/order/export/", data=fields, auth=False)
    return len(response.body)


def interleaved(calls: list, times: int) -> list[list[float]]:
    """Time each call `times` times, taking turns (a, b, a, b, ...), so that a machine which speeds up
    or slows down during the run affects every call alike: the ratios between them stay fair."""
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(times):
        for call, call_samples in zip(calls, samples):
            started = time.perf_counter()
            call()
            call_samples.append((time.perf_counter() - started) * 1000)
    return samples


def run_operations(ports: list[int], *, repeat: int, log, export: bool = True
                   ) -> list[list[tuple[str, list[float] | str]]]:
    """Every operation against each server (one port each), their timed requests taking turns; one list of
    (operation, samples or an error text) per server. The data used (a client, a phone) come from the first."""
    apis = [Session(port) for port in ports]
    results: list[list[tuple[str, list[float] | str]]] = [[] for _ in ports]

    def measure(name: str, operation, times: int = repeat, sessions=None):
        sessions = sessions or apis
        if any(session is None for session in sessions):
            for server_results in results:
                server_results.append((name, "n/a"))
            log(f"  {name}: n/a")
            return
        calls, errors = [], []
        for session in sessions:
            try:
                operation(session)  # warm-up, and a check that the endpoint exists
                calls.append(lambda session=session: operation(session))
                errors.append(None)
            except NotAvailable:
                calls.append(None)
                errors.append("n/a")
            except Exception as error:  # One broken operation must not stop the others.
                calls.append(None)
                errors.append(f"error: {str(error)[:60]}")
        try:
            timings = interleaved([call for call in calls if call is not None], times)
        except Exception as error:  # A request that fails while timed spoils the row for every server.
            calls, errors = [None] * len(calls), [f"error: {str(error)[:60]}"] * len(calls)
        for server_results, call, error in zip(results, calls, errors):
            server_results.append((name, timings.pop(0) if call is not None else error))
        log(f"  {name}: done")

    def token(api):
        response = api.request("POST", "/api/token/", {"username": BENCH_USER, "password": BENCH_PASSWORD},
                               as_json=True, auth=False)
        api.token = json.loads(response.body)["access"]

    measure("token", token)
    if not all(api.token for api in apis):
        log("No token: the API operations are n/a.")

    def post(path, data=None):
        return lambda api: api.request("POST", path, data or {})

    first_clients = {}
    try:
        # The oldest clients: generated ones, the same in a reused data set as in a new one (the clients this
        # benchmark adds are the newest, with look-alike phones).
        first_clients = json.loads(apis[0].request("POST", "/api/clients/get/", {"order_by": "id"}).body)
    except Exception:
        pass
    clients = first_clients.get("clients") or [{}]
    phone = next((c.get("mobile_phone") for c in clients if c.get("mobile_phone")), "+79001234567")
    digits = re.sub(r"\D", "", phone)[-7:]
    client_id = clients[0].get("id", 1)

    measure("client list", post("/api/clients/get/"))
    measure("client search 'анатолий'", post("/api/clients/get/", {"search": "анатолий"}))
    measure(f"client search phone '{digits}'", post("/api/clients/get/", {"search": digits}))
    measure("client page start_id=10000", post("/api/clients/get/", {"start_id": 10000}))
    measure("order list", post("/api/orders/get/"))
    measure("order list status=Completed", post("/api/orders/get/", {"status": "Completed"}))
    measure("order list order_by=-total_price", post("/api/orders/get/", {"order_by": "-total_price"}))
    measure("order page start_id=100000", post("/api/orders/get/", {"start_id": 100000}))
    measure("order search 'ноутбук'", post("/api/orders/get/", {"search": "ноутбук"}))
    measure("orders of one client", post("/api/orders/get/", {"client_id": client_id}))

    added_client, serial = {}, iter(range(10**9))
    run_tag = f"{time.time_ns() % 10**12}"

    def new_client(api, label="bench"):
        email = f"{label}.{run_tag}.{next(serial)}@example.com"
        response = api.request("POST", "/api/clients/add/", {
            "first_name": "Тест", "last_name": "Замеров", "email": email,
            "mobile_phone": f"+7999{next(serial) % 10**7:07d}"})
        return {"id": json.loads(response.body)["id"], "email": email}

    def add_client(api):
        client = new_client(api)
        added_client.setdefault(api.port, client)

    def edit_client(api):
        client = added_client.get(api.port, {"id": client_id})
        # With the e-mail: its uniqueness check is the part of an edit that could grow with the table.
        fields = {"last_name": "Замеренный", **({"email": client["email"]} if "email" in client else {})}
        api.request("POST", f"/api/clients/edit/{client['id']}/", fields)

    measure("add client", add_client)
    measure("get client", lambda api: api.request("POST", f"/api/clients/get/{added_client.get(api.port, {}).get('id', client_id)}/", {}))
    measure("edit client", edit_client)
    # Each delete takes a row of its own, added beforehand (untimed): the warm-up and `repeat` timed calls.
    doomed_clients = {}
    for api in apis:
        try:
            doomed_clients[api.port] = [new_client(api, "doomed")["id"] for _ in range(repeat + 1)]
        except Exception:
            doomed_clients[api.port] = []
    measure("delete client", lambda api: api.request("DELETE", f"/api/clients/delete/{doomed_clients[api.port].pop()}/"))

    added_order = {}

    def add_order(api):
        response = api.request("POST", "/api/orders/add/",
                               {"client": client_id, "product": "Ноутбук для теста", "quantity": "2", "price": "1500.00"})
        added_order.setdefault(api.port, json.loads(response.body)["id"])

    measure("add order", add_order)
    measure("get order", lambda api: api.request("POST", f"/api/orders/get/{added_order.get(api.port, 1)}/", {}))
    measure("edit order", lambda api: api.request("POST", f"/api/orders/edit/{added_order.get(api.port, 1)}/",
                                                  {"quantity": "3", "description": "Изменено"}))
    doomed_orders = {}
    for api in apis:
        try:
            doomed_orders[api.port] = [json.loads(api.request("POST", "/api/orders/add/", {
                "client": client_id, "product": "Заказ на удаление", "quantity": "1", "price": "100.00"}).body)["id"]
                for _ in range(repeat + 1)]
        except Exception:
            doomed_orders[api.port] = []
    measure("delete order", lambda api: api.request("DELETE", f"/api/orders/delete/{doomed_orders[api.port].pop()}/"))
    for period in ("week", "month", "year"):
        measure(f"report {period}", post("/api/reports/new/", {"period": period}), max(3, repeat // 4))

    admins = []
    for port in ports:
        admin = Session(port)
        try:
            admin_login(admin)
        except Exception as error:
            log(f"Admin login on port {port} failed ({error}); the admin operations are n/a.")
            admin = None
        admins.append(admin)
    for name, path in (("admin client list", "/admin/crm/client/"), ("admin order list", "/admin/crm/order/"),
                       ("admin dashboard", "/admin/")):
        measure(name, lambda admin, path=path: admin.request("GET", path, auth=False), max(3, repeat // 4), admins)
    if export:
        measure("export all orders (CSV)", export_orders_csv, 1, admins)
    return results
