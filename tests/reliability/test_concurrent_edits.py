"""Concurrent edits of one row: every accepted write survives, an archive stays archived, and the
admin refuses a form rendered before someone else's save instead of silently overwriting it.

The API races run against a real gunicorn (several worker processes, so really at the same moment)
on a file database: SQLite in a temporary file, or in the PostgreSQL leg the test database itself.
"""

import functools
import http.client
import json
import re
import threading
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db import connection
from django.urls import reverse

from crm import services
from crm.devtools import operations
from crm.devtools import server as devserver
from crm.importexport.resources import OrderResource
from crm.models import Client, Order
from tests.factories import ClientFactory, OrderFactory
from tests.importexport.conftest import import_bytes

ROUNDS = 6
WORKERS = 4
EDITOR, PASSWORD = "racer", "racer-pass-12345"
CLIENT_FIELDS = ("first_name", "last_name", "middle_name", "mobile_phone", "email")
CLIENT_HISTORY = (*CLIENT_FIELDS, "status")
ORDER_HISTORY = ("client_id", "product", "quantity", "price", "description", "status")


def tag(number: int) -> str:
    """A word part unique to a round that is no substring of another round's (so a search tells them apart)."""
    return "абвгдежзиклмнопрстуфхцчшщэюя"[number] * 3


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------
class Server:
    def __init__(self, env: dict[str, str], port: int):
        self.env, self.port, self.token = env, port, ""

    def call(self, method: str, path: str, data: dict | None = None) -> tuple[int, dict]:
        headers = {"Host": devserver.HOST, "Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        connection = http.client.HTTPConnection(devserver.HOST, self.port, timeout=60)
        try:
            connection.request(method, path, body=json.dumps(data) if data is not None else None, headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            connection.close()

    def ok(self, method: str, path: str, data: dict | None = None) -> dict:
        status, body = self.call(method, path, data)
        assert status == 200, (method, path, status, body)
        return body

    def shell(self, code: str) -> str:
        """Run Python in a process of the server's own configuration (its database) and return what it printed."""
        return devserver.manage(self.env, "shell", "-c", code, capture=True).strip().splitlines()[-1]

    def history(self, model: str, ids: list[int], fields: tuple[str, ...]) -> dict[int, list[list]]:
        """{id: [[history_type, *fields], ...]} of the rows, oldest record first."""
        code = (
            "import json\n"
            f"from crm.models import {model}\n"
            f"records = {model}.history.filter(id__in={ids!r}).order_by('history_id')\n"
            f"rows = records.values_list('id', 'history_type', *{list(fields)!r})\n"
            "print(json.dumps([[str(value) for value in row] for row in rows]))\n"
        )
        history = {}
        for row_id, *values in json.loads(self.shell(code)):
            history.setdefault(int(row_id), []).append(values)
        return history


def _database_url(tmp_path) -> str:
    if connection.vendor != "postgresql":
        return f"sqlite:///{tmp_path / 'edits.sqlite3'}"
    settings = connection.settings_dict  # the test database: the server commits into it
    password = f":{quote(settings['PASSWORD'])}" if settings["PASSWORD"] else ""
    return (f"postgres://{quote(settings['USER'])}{password}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}")


@pytest.fixture(scope="module")
def server(tmp_path_factory, django_db_setup, django_db_blocker):
    env = devserver.server_env(_database_url(tmp_path_factory.mktemp("edits")))
    env["SQLITE_BUSY_TIMEOUT"] = "60"
    if connection.vendor != "postgresql":
        devserver.manage(env, "migrate", "--noinput", "-v0")
    port = devserver.free_port()
    process = devserver.start_server(env, port, workers=WORKERS)
    server = Server(env, port)
    try:
        server.shell(
            "from django.contrib.auth.models import User\n"
            f"User.objects.create_superuser('{EDITOR}', '{EDITOR}@example.com', '{PASSWORD}'); print('ok')\n"
        )
        server.token = server.ok("POST", "/api/token/", {"username": EDITOR, "password": PASSWORD})["access"]
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)
        if connection.vendor == "postgresql":
            # The rows the server committed into the shared test database go, so later tests start empty.
            from django.contrib.auth.models import User
            from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

            with django_db_blocker.unblock():
                Order.objects.all().delete()
                Client.objects.all().delete()
                Order.history.all().delete()
                Client.history.all().delete()
                OutstandingToken.objects.filter(user__username=EDITOR).delete()
                User.objects.filter(username=EDITOR).delete()


def at_once(calls: list) -> list:
    """Run the calls in threads released together; their results in the same order."""
    barrier = threading.Barrier(len(calls), timeout=60)
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def edit(server: Server, path: str, fields: dict):
    return functools.partial(server.call, "POST", path, fields)


def assert_one_change_per_record(history: list[list], changed_per_write: int = 1):
    """Each write changed one field, so each history record differs from the one before in at most that
    field: a record that also reverts another field was saved from a stale copy."""
    for before, after in zip(history, history[1:]):
        differing = [index for index, (old, new) in enumerate(zip(before[1:], after[1:])) if old != new]
        assert len(differing) <= changed_per_write, (before, after)


def new_client(server: Server, label: str) -> int:
    return server.ok("POST", "/api/clients/add/", {
        "first_name": "Иван", "last_name": "Гонкин", "middle_name": "Иванович", "mobile_phone": "+7 900 000-00-00",
        "email": f"{label}@example.com",
    })["id"]


# ---------------------------------------------------------------------------
# API: different fields at the same moment
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_concurrent_edits_of_different_client_fields_all_survive(server):
    client_id = new_client(server, "different-fields")
    path = f"/api/clients/edit/{client_id}/"
    for number in range(ROUNDS):
        wanted = {
            "first_name": f"Имя{tag(number)}", "last_name": f"Фамилия{tag(number)}",
            "middle_name": f"Отчество{tag(number)}", "mobile_phone": f"+790000000{number:02d}",
            "email": f"racer-{number}@example.com",
        }
        answers = at_once([edit(server, path, {name: value}) for name, value in wanted.items()])
        assert answers == [(200, {"success": True, "id": client_id})] * len(wanted)
        assert server.ok("GET", f"/api/clients/get/{client_id}/")["client"] == {"id": client_id, **wanted}
        # The search text was rebuilt from the row as it is, with both new names in it.
        found = server.ok("POST", "/api/clients/get/", {"search": f"{wanted['first_name']} {wanted['last_name']}"})
        assert [row["id"] for row in found["clients"]] == [client_id]

    history = server.history("Client", [client_id], CLIENT_HISTORY)[client_id]
    assert len(history) == 1 + ROUNDS * len(CLIENT_FIELDS)  # every accepted write has its record
    assert history[-1][1:] == [*wanted.values(), "active"]
    assert_one_change_per_record(history)


@pytest.mark.slow
def test_concurrent_edits_of_different_order_fields_all_survive(server):
    client_id = new_client(server, "order-owner")
    order = {"client": client_id, "product": "Ноутбук", "price": "10.00"}
    order_id = server.ok("POST", "/api/orders/add/", order)["id"]
    path = f"/api/orders/edit/{order_id}/"
    statuses = ("Completed", "Cancelled", "Pending")
    for number in range(ROUNDS):
        wanted = {
            "product": f"Товар{tag(number)}", "quantity": number + 2, "price": f"{number + 1}.25",
            "description": f"Описание{tag(number)}", "status": statuses[number % 3],
        }
        answers = at_once([edit(server, path, {name: value}) for name, value in wanted.items()])
        assert answers == [(200, {"success": True, "id": order_id})] * len(wanted)
        order = server.ok("GET", f"/api/orders/get/{order_id}/")
        assert {name: order[name] for name in wanted} == wanted
        assert Decimal(order["total_price"]) == wanted["quantity"] * Decimal(wanted["price"])
        found = server.ok("POST", "/api/orders/get/", {"search": f"{wanted['product']} {wanted['description']}"})
        assert [row["id"] for row in found["orders"]] == [order_id]

    history = server.history("Order", [order_id], ORDER_HISTORY)[order_id]
    assert len(history) == 1 + ROUNDS * len(wanted)
    assert_one_change_per_record(history)


# ---------------------------------------------------------------------------
# API: the same field at the same moment
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_concurrent_edits_of_the_same_field_leave_one_of_them_and_record_each(server):
    client_id = new_client(server, "same-field")
    path = f"/api/clients/edit/{client_id}/"
    sent = []
    for number in range(ROUNDS):
        names = [f"Имя{tag(number)}{'абвг'[writer]}" for writer in range(WORKERS)]
        answers = at_once([edit(server, path, {"first_name": name}) for name in names])
        assert answers == [(200, {"success": True, "id": client_id})] * WORKERS
        # The API has no version: the last writer wins, and it is one of this round's writers.
        client = server.ok("GET", f"/api/clients/get/{client_id}/")["client"]
        assert client["first_name"] in names
        assert client["last_name"] == "Гонкин" and client["email"] == "same-field@example.com"
        sent.append((names, client["first_name"]))

    history = server.history("Client", [client_id], CLIENT_HISTORY)[client_id][1:]
    assert len(history) == ROUNDS * WORKERS
    for number, (names, winner) in enumerate(sent):
        records = history[number * WORKERS:(number + 1) * WORKERS]
        assert sorted(record[1] for record in records) == sorted(names)  # each accepted write recorded
        assert records[-1][1] == winner  # the last record is the row
    assert {tuple(record[2:]) for record in history} == {
        ("Гонкин", "Иванович", "+79000000000", "same-field@example.com", "active")  # the phone as stored
    }


# ---------------------------------------------------------------------------
# API: an archive racing edits of other fields
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_an_archive_racing_edits_stays_archived_and_keeps_the_edits(server):
    client_ids = [new_client(server, f"archive-race-{number}") for number in range(ROUNDS)]
    for number, client_id in enumerate(client_ids):
        wanted = {"first_name": f"Имя{tag(number)}", "last_name": f"Фамилия{tag(number)}",
                  "mobile_phone": f"+790011111{number:02d}"}
        calls = [edit(server, f"/api/clients/edit/{client_id}/", {name: value}) for name, value in wanted.items()]
        archive = functools.partial(server.call, "DELETE", f"/api/clients/delete/{client_id}/")
        calls.insert(number % len(calls), archive)  # the archive comes first, last and in between
        answers = at_once(calls)
        assert all(status == 200 for status, _ in answers), answers
        archived = server.ok("POST", "/api/clients/get/", {"status": "archived", "search": f"archive-race-{number}@"})
        assert [row["id"] for row in archived["clients"]] == [client_id]
        client = server.ok("GET", f"/api/clients/get/{client_id}/")["client"]
        assert {name: client[name] for name in wanted} == wanted

    for client_id, history in server.history("Client", client_ids, CLIENT_HISTORY).items():
        assert history[-1][-1] == "archived"
        assert_one_change_per_record(history)


# ---------------------------------------------------------------------------
# Services: only the given fields are written
# ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_an_edit_from_a_stale_copy_writes_only_its_own_field():
    client = ClientFactory(first_name="Иван", last_name="Старый")
    stale = Client.objects.get(pk=client.pk)
    services.client_update(client=client, last_name="Новый")
    services.client_update(client=stale, first_name="Пётр")
    row = Client.objects.get(pk=client.pk)
    assert (row.first_name, row.last_name) == ("Пётр", "Новый")
    assert "новый" in row.search_text and "петр" in row.search_text
    assert (stale.first_name, stale.last_name) == ("Пётр", "Новый")  # the caller's copy is the row now
    record = row.history.latest("history_id")
    assert (record.first_name, record.last_name) == ("Пётр", "Новый")


@pytest.mark.django_db
def test_an_edit_from_a_copy_read_before_the_archive_does_not_undo_it():
    client = ClientFactory()
    stale = Client.objects.get(pk=client.pk)
    services.client_archive(client=client)
    services.client_update(client=stale, first_name="Пётр")
    assert Client.objects.get(pk=client.pk).status == Client.Status.ARCHIVED
    services.client_restore(client=Client.objects.get(pk=client.pk))
    services.client_archive(client=stale)  # stale says archived, the row says active
    assert Client.objects.get(pk=client.pk).status == Client.Status.ARCHIVED


@pytest.mark.django_db
def test_an_order_edit_from_a_stale_copy_keeps_the_other_fields_and_reads_the_total_back():
    order = OrderFactory(quantity=1, price=Decimal("10.00"))
    stale = Order.objects.get(pk=order.pk)
    services.order_update(order=order, price="2.50")
    services.order_update(order=stale, quantity=4)
    row = Order.objects.get(pk=order.pk)
    assert (row.quantity, row.price, row.total_price) == (4, Decimal("2.50"), Decimal("10.00"))
    assert stale.total_price == Decimal("10.00")


@pytest.mark.django_db
def test_bulk_status_change_records_the_rows_as_they_are():
    client = ClientFactory(first_name="Иван")
    selected = Client.objects.filter(pk=client.pk)
    services.client_update(client=Client.objects.get(pk=client.pk), first_name="Пётр")
    assert services.clients_set_status(clients=selected, status=Client.Status.ARCHIVED) == 1
    record = client.history.latest("history_id")
    assert (record.first_name, record.status) == ("Пётр", Client.Status.ARCHIVED)


@pytest.mark.django_db
def test_every_write_path_moves_the_version_on():
    order = OrderFactory()
    client = order.client
    versions = [Order.objects.get(pk=order.pk).version]
    services.order_update(order=order, quantity=2)
    versions.append(Order.objects.get(pk=order.pk).version)
    services.orders_set_status(orders=Order.objects.filter(pk=order.pk), status=Order.Status.COMPLETED)
    versions.append(Order.objects.get(pk=order.pk).version)
    import_bytes(OrderResource, f"ID,Товар\n{order.pk},Планшет\n")
    versions.append(Order.objects.get(pk=order.pk).version)
    assert Order.objects.get(pk=order.pk).product == "Планшет"
    assert versions == sorted(set(versions)) and len(versions) == 4

    client_versions = [Client.objects.get(pk=client.pk).version]
    for write in (
        lambda: services.client_update(client=client, first_name="Пётр"),
        lambda: services.client_archive(client=client),
        lambda: services.clients_set_status(clients=Client.objects.filter(pk=client.pk), status="active"),
    ):
        write()
        client_versions.append(Client.objects.get(pk=client.pk).version)
    assert client_versions == sorted(set(client_versions))


# ---------------------------------------------------------------------------
# Admin: a stale change form is refused, a fresh one saves
# ---------------------------------------------------------------------------
def _form_fields(html: str) -> dict[str, str]:
    parser = operations.FormParser()
    parser.feed(html)
    return {name: value for name, value in parser.fields if name not in ("_addanother", "_continue")}


def _open_form(client, url: str) -> dict[str, str]:
    response = client.get(url)
    assert response.status_code == 200
    fields = _form_fields(response.content.decode())
    assert re.fullmatch(r"\d+", fields["seen_version"])
    return fields


@pytest.mark.django_db
def test_a_stale_order_form_is_refused_with_who_and_when_and_saves_nothing(client, manager):
    client.force_login(manager)
    order = OrderFactory(product="Ноутбук", quantity=1)
    url = reverse("admin:crm_order_change", args=[order.pk])
    form = _open_form(client, url)
    services.order_update(order=order, quantity=5)  # someone else saves meanwhile
    # Records in the history carry no user outside a request: name the other user as the admin would.
    order.history.filter(pk=order.history.latest("history_id").pk).update(history_user=manager)

    response = client.post(url, {**form, "product": "Планшет"}, HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 200
    page = response.content.decode()
    assert f"Заказ изменил {manager.username} в " in page
    assert "перезагрузите страницу, чтобы увидеть изменения" in page
    assert 'value="Планшет"' in page  # the user's input stays in the form
    row = Order.objects.get(pk=order.pk)
    assert (row.product, row.quantity) == ("Ноутбук", 5)


@pytest.mark.django_db
def test_a_fresh_order_form_saves(client, manager):
    client.force_login(manager)
    order = OrderFactory(product="Ноутбук")
    url = reverse("admin:crm_order_change", args=[order.pk])
    services.order_update(order=order, quantity=5)
    form = _open_form(client, url)

    response = client.post(url, {**form, "product": "Планшет"})

    assert response.status_code == 302
    row = Order.objects.get(pk=order.pk)
    assert (row.product, row.quantity) == ("Планшет", 5)


@pytest.mark.django_db
def test_a_client_form_opened_before_an_archive_is_refused(client, manager):
    client.force_login(manager)
    customer = ClientFactory(first_name="Иван")
    url = reverse("admin:crm_client_change", args=[customer.pk])
    form = _open_form(client, url)
    services.clients_set_status(clients=Client.objects.filter(pk=customer.pk), status=Client.Status.ARCHIVED)

    response = client.post(url, {**form, "first_name": "Пётр"}, HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 200
    assert "Клиента изменил" in response.content.decode()
    row = Client.objects.get(pk=customer.pk)
    assert (row.first_name, row.status) == ("Иван", Client.Status.ARCHIVED)

    form = _open_form(client, url)
    response = client.post(url, {**form, "first_name": "Пётр"})
    assert response.status_code == 302
    assert Client.objects.get(pk=customer.pk).first_name == "Пётр"


@pytest.mark.django_db
def test_an_order_form_opened_before_an_import_is_refused(client, manager):
    client.force_login(manager)
    order = OrderFactory(product="Ноутбук")
    url = reverse("admin:crm_order_change", args=[order.pk])
    form = _open_form(client, url)
    import_bytes(OrderResource, f"ID,Описание\n{order.pk},Из файла\n")

    response = client.post(url, {**form, "product": "Планшет"})

    assert response.status_code == 200
    assert Order.objects.get(pk=order.pk).product == "Ноутбук"


@pytest.mark.django_db
def test_the_service_refuses_a_stale_version_itself():
    order = OrderFactory()
    seen = Order.objects.get(pk=order.pk).version
    services.order_update(order=order, quantity=3)
    with pytest.raises(services.EditConflict):
        services.order_update(order=Order.objects.get(pk=order.pk), expected_version=seen, quantity=9)
    assert Order.objects.get(pk=order.pk).quantity == 3
    fresh = Order.objects.get(pk=order.pk)
    services.order_update(order=fresh, expected_version=fresh.version, quantity=9)
    assert Order.objects.get(pk=order.pk).quantity == 9


@pytest.mark.django_db
def test_reverting_to_a_history_record_still_saves(client, manager):
    client.force_login(manager)
    customer = ClientFactory(first_name="Иван")
    services.client_update(client=customer, first_name="Пётр")
    first = customer.history.earliest("history_id")
    url = reverse("admin:crm_client_simple_history", args=[customer.pk, first.history_id])
    form = _open_form(client, url)
    assert form["seen_version"] == str(Client.objects.get(pk=customer.pk).version)

    response = client.post(url, form)

    assert response.status_code == 302
    assert Client.objects.get(pk=customer.pk).first_name == "Иван"
