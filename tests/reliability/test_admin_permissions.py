"""Every state-changing admin URL checks the permission on the POST itself, not only in the template.

A crafted POST from a Viewer, or from a user who may only view that model, is refused (403, or a redirect)
and the database is unchanged; the same POST from a user who holds the permission does the change.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse

from crm import services
from crm.models import Client, Order
from reports.models import Report
from reports.services import report_generate
from tests.factories import ClientFactory, OrderFactory, make_user

pytestmark = pytest.mark.django_db


@dataclass
class World:
    manager: User
    superuser: User
    anna: Client  # changed once: her first history record differs from today
    archived: Client
    lonely: Client  # no orders: only a superuser may delete her
    order: Order  # changed once, like anna
    deleted_order_id: int
    report: Report
    clerk: User
    clerks: Group

    def first_record(self, row):
        return row.history.order_by("history_id").first()

    @property
    def deletion_record(self):
        return Order.history.get(id=self.deleted_order_id, history_type="-")


@pytest.fixture
def world(manager, superuser):
    anna = ClientFactory(first_name="Анна", last_name="Ёлкина", middle_name="Ивановна", email="anna@example.com")
    order = OrderFactory(client=anna, product="Ноутбук", quantity=2)
    services.client_update(client=anna, middle_name="Петровна")
    services.order_update(order=order, product="Ноутбук Pro")
    deleted = OrderFactory(client=anna, product="Мышь", price="99.90")
    deleted_order_id = deleted.pk
    services.order_delete(order=deleted)
    clerks = Group.objects.create(name="Clerks")
    return World(
        manager=manager,
        superuser=superuser,
        anna=anna,
        archived=ClientFactory(status=Client.Status.ARCHIVED),
        lonely=ClientFactory(),
        order=order,
        deleted_order_id=deleted_order_id,
        report=report_generate(period="week", user=manager),
        clerk=make_user("clerk"),
        clerks=clerks,
    )


def database_state() -> dict[str, Any]:
    """Everything a write through the admin could touch (last_login aside: logging in sets it)."""
    return {
        "clients": list(Client.objects.order_by("pk").values()),
        "orders": list(Order.objects.order_by("pk").values()),
        "client history": Client.history.count(),
        "order history": Order.history.count(),
        "reports": list(Report.objects.order_by("pk").values_list("pk", flat=True)),
        "users": list(User.objects.order_by("pk").values(
            "pk", "username", "password", "first_name", "last_name", "email", "is_staff", "is_superuser", "is_active",
        )),
        "user groups": sorted(User.groups.through.objects.values_list("user_id", "group_id")),
        "user permissions": sorted(User.user_permissions.through.objects.values_list("user_id", "permission_id")),
        "groups": list(Group.objects.order_by("pk").values_list("pk", "name")),
        "group permissions": sorted(Group.permissions.through.objects.values_list("group_id", "permission_id")),
        "admin log": LogEntry.objects.count(),
    }


def user_with(username: str, *perms: str) -> User:
    """A staff user holding exactly these permissions ("app_label.codename")."""
    user = make_user(username)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def logged_in(user: User) -> HttpClient:
    http = HttpClient(raise_request_exception=False)
    http.force_login(user)
    return http


# --- the POST bodies -------------------------------------------------------------------------------------

def client_form(client: Client, **changes) -> dict:
    data = {
        "last_name": client.last_name, "first_name": client.first_name, "middle_name": client.middle_name,
        "email": client.email, "mobile_phone": client.mobile_phone, "status": client.status,
        # The change form's read-only inline of orders still posts its management form.
        "orders-TOTAL_FORMS": "0", "orders-INITIAL_FORMS": "0", "orders-MIN_NUM_FORMS": "0",
        "orders-MAX_NUM_FORMS": "0",
    }
    return {**data, **changes}


def order_form(order, **changes) -> dict:
    data = {
        "client": order.client_id, "product": order.product, "quantity": order.quantity, "price": order.price,
        "description": order.description, "status": order.status,
    }
    return {**data, **changes}


def bulk(action: str, *rows, **extra) -> dict:
    return {"action": action, "index": "0", ACTION_CHECKBOX_NAME: [row.pk for row in rows], **extra}


DIALOG = {"_form_submitted": "1"}
NEW_CLIENT = {"last_name": "Петров", "first_name": "Пётр", "email": "petrov@example.com"}


def import_upload(content: str) -> dict:
    return {"resource": "0", "format": "0", "import_file": SimpleUploadedFile("rows.csv", content.encode())}


def import_confirmation(world: World, url_name: str, content: str) -> dict:
    """The confirmation form of a real preview, the POST that writes the rows; made by the manager, as an upload
    can only be confirmed by the user who uploaded it."""
    preview = logged_in(world.manager).post(reverse(url_name), import_upload(content))
    return preview.context["confirm_form"].initial


def user_form(user: User, **changes) -> dict:
    data = {
        "username": user.username, "first_name": "", "last_name": "", "email": "", "is_active": "on",
        "is_staff": "on", "date_joined_0": "2024-01-01", "date_joined_1": "10:00:00", "groups": [],
        "user_permissions": [],
    }
    return {**data, **changes}


# --- the table -------------------------------------------------------------------------------------------

VIEW_CLIENTS = ("crm.view_client", "crm.view_historicalclient")
VIEW_ORDERS = ("crm.view_order", "crm.view_historicalorder", "crm.view_client")
VIEW_REPORTS = ("reports.view_report",)
VIEW_USERS = ("auth.view_user", "auth.view_group")


@dataclass(frozen=True)
class Write:
    url: Callable[[World], str]
    data: Callable[[World], dict]
    # The permissions of "a user who may only view that model".
    view_only: tuple[str, ...]
    # Did the allowed user's POST do what it should?
    done: Callable[[World, Any], bool]
    allowed: str = "manager"
    denied: tuple[str, ...] = ("viewer", "view_only")
    # What the allowed POST answers: a redirect, or 200 for a page that writes nothing yet (an import preview).
    done_status: int = 302


def _url(name: str, *args: Callable[[World], Any]) -> Callable[[World], str]:
    return lambda world: reverse(name, args=[arg(world) for arg in args])


def status_of(model, pk) -> str:
    return model.objects.get(pk=pk).status


WRITES = {
    # Clients
    "client add": Write(
        _url("admin:crm_client_add"), lambda w: client_form(Client(**NEW_CLIENT, status="active")),
        VIEW_CLIENTS, lambda w, r: Client.objects.filter(email="petrov@example.com").exists(),
    ),
    "client change": Write(
        _url("admin:crm_client_change", lambda w: w.anna.pk), lambda w: client_form(w.anna, email="new@example.com"),
        VIEW_CLIENTS, lambda w, r: Client.objects.get(pk=w.anna.pk).email == "new@example.com",
    ),
    "client delete": Write(
        _url("admin:crm_client_delete", lambda w: w.lonely.pk), lambda w: {"post": "yes"},
        VIEW_CLIENTS, lambda w, r: not Client.objects.filter(pk=w.lonely.pk).exists(),
        allowed="superuser", denied=("viewer", "view_only", "manager"),
    ),
    "client history revert": Write(
        _url("admin:crm_client_simple_history", lambda w: w.anna.pk, lambda w: w.first_record(w.anna).history_id),
        lambda w: client_form(w.first_record(w.anna).instance),
        VIEW_CLIENTS, lambda w, r: Client.objects.get(pk=w.anna.pk).middle_name == "Ивановна",
    ),
    "client bulk archive": Write(
        _url("admin:crm_client_changelist"), lambda w: bulk("archive_selected", w.anna),
        VIEW_CLIENTS, lambda w, r: status_of(Client, w.anna.pk) == "archived",
    ),
    "client bulk restore": Write(
        # Posted from the archived clients' list, where they are shown (the default list shows active ones).
        lambda w: reverse("admin:crm_client_changelist") + "?status__exact=archived",
        lambda w: bulk("restore_selected", w.archived),
        VIEW_CLIENTS, lambda w, r: status_of(Client, w.archived.pk) == "active",
    ),
    "client archive button": Write(
        _url("admin:crm_client_archive", lambda w: w.anna.pk), lambda w: DIALOG,
        VIEW_CLIENTS, lambda w, r: status_of(Client, w.anna.pk) == "archived",
    ),
    "client restore button": Write(
        _url("admin:crm_client_restore", lambda w: w.archived.pk), lambda w: DIALOG,
        VIEW_CLIENTS, lambda w, r: status_of(Client, w.archived.pk) == "active",
    ),
    "client import preview": Write(
        _url("admin:crm_client_import"),
        lambda w: import_upload("Фамилия,Имя,E-mail\nПетров,Пётр,petrov@example.com\n"),
        VIEW_CLIENTS, lambda w, r: r.context["confirm_form"] is not None, done_status=200,
    ),
    "client import confirmation": Write(
        _url("admin:crm_client_process_import"),
        lambda w: import_confirmation(
            w, "admin:crm_client_import", "Фамилия,Имя,E-mail\nПетров,Пётр,petrov@example.com\n"
        ),
        VIEW_CLIENTS, lambda w, r: Client.objects.filter(email="petrov@example.com").exists(),
    ),
    # Orders
    "order add": Write(
        _url("admin:crm_order_add"), lambda w: order_form(Order(client=w.anna, product="Стол", price="10.00")),
        VIEW_ORDERS, lambda w, r: Order.objects.filter(product="Стол").exists(),
    ),
    "order change": Write(
        _url("admin:crm_order_change", lambda w: w.order.pk), lambda w: order_form(w.order, product="Стул"),
        VIEW_ORDERS, lambda w, r: Order.objects.get(pk=w.order.pk).product == "Стул",
    ),
    "order delete": Write(
        _url("admin:crm_order_delete", lambda w: w.order.pk), lambda w: {"post": "yes"},
        VIEW_ORDERS, lambda w, r: not Order.objects.filter(pk=w.order.pk).exists(),
    ),
    "order bulk delete": Write(
        _url("admin:crm_order_changelist"), lambda w: bulk("delete_selected", w.order, post="yes"),
        VIEW_ORDERS, lambda w, r: not Order.objects.filter(pk=w.order.pk).exists(),
    ),
    "order bulk completed": Write(
        _url("admin:crm_order_changelist"), lambda w: bulk("mark_completed", w.order),
        VIEW_ORDERS, lambda w, r: status_of(Order, w.order.pk) == "Completed",
    ),
    "order bulk cancelled": Write(
        _url("admin:crm_order_changelist"), lambda w: bulk("mark_cancelled", w.order),
        VIEW_ORDERS, lambda w, r: status_of(Order, w.order.pk) == "Cancelled",
    ),
    "order history revert": Write(
        _url("admin:crm_order_simple_history", lambda w: w.order.pk, lambda w: w.first_record(w.order).history_id),
        lambda w: order_form(w.first_record(w.order).instance),
        VIEW_ORDERS, lambda w, r: Order.objects.get(pk=w.order.pk).product == "Ноутбук",
    ),
    "deleted order history revert": Write(
        _url("admin:crm_order_simple_history", lambda w: w.deleted_order_id, lambda w: w.deletion_record.history_id),
        lambda w: order_form(w.deletion_record.instance),
        VIEW_ORDERS, lambda w, r: Order.objects.filter(pk=w.deleted_order_id, product="Мышь").exists(),
    ),
    "deleted order restore button": Write(
        _url("admin:crm_historicalorder_restore_order", lambda w: w.deletion_record.pk), lambda w: DIALOG,
        VIEW_ORDERS, lambda w, r: Order.objects.filter(pk=w.deleted_order_id).exists(),
    ),
    "order import preview": Write(
        _url("admin:crm_order_import"), lambda w: import_upload("E-mail клиента,Товар,Цена\nanna@example.com,Чай,10\n"),
        VIEW_ORDERS, lambda w, r: r.context["confirm_form"] is not None, done_status=200,
    ),
    "order import confirmation": Write(
        _url("admin:crm_order_process_import"),
        lambda w: import_confirmation(
            w, "admin:crm_order_import", "E-mail клиента,Товар,Цена\nanna@example.com,Чай,10\n"
        ),
        VIEW_ORDERS, lambda w, r: Order.objects.filter(product="Чай").exists(),
    ),
    # Reports
    **{
        f"report {period} button": Write(
            _url(f"admin:reports_report_make_{period}_report"), lambda w: DIALOG,
            VIEW_REPORTS, lambda w, r, period=period: Report.objects.filter(period=period).exists(),
        )
        for period in ("week", "month", "year")
    },
    "report delete": Write(
        _url("admin:reports_report_delete", lambda w: w.report.pk), lambda w: {"post": "yes"},
        VIEW_REPORTS, lambda w, r: not Report.objects.exists(),
        allowed="superuser", denied=("viewer", "view_only", "manager"),
    ),
    "report bulk delete": Write(
        _url("admin:reports_report_changelist"), lambda w: bulk("delete_selected", w.report, post="yes"),
        VIEW_REPORTS, lambda w, r: not Report.objects.exists(),
        allowed="superuser", denied=("viewer", "view_only", "manager"),
    ),
    # Users and groups: only users holding the auth permissions (none of the staff groups do).
    "user add": Write(
        _url("admin:auth_user_add"),
        lambda w: {"username": "newbie", "password1": "Xy7-long-password", "password2": "Xy7-long-password",
                   "usable_password": "true"},
        VIEW_USERS, lambda w, r: User.objects.filter(username="newbie").exists(),
        allowed="superuser", denied=("viewer", "view_only", "manager"),
    ),
    "user change": Write(
        _url("admin:auth_user_change", lambda w: w.clerk.pk), lambda w: user_form(w.clerk, is_superuser="on"),
        VIEW_USERS, lambda w, r: User.objects.get(pk=w.clerk.pk).is_superuser,
        allowed="superuser", denied=("viewer", "view_only", "manager"),
    ),
    "user password": Write(
        _url("admin:auth_user_password_change", lambda w: w.clerk.pk),
        lambda w: {"password1": "Xy7-long-password", "password2": "Xy7-long-password", "usable_password": "true"},
        VIEW_USERS, lambda w, r: User.objects.get(pk=w.clerk.pk).check_password("Xy7-long-password"),
        allowed="superuser", denied=("viewer", "view_only", "manager"),
    ),
    "user delete": Write(
        _url("admin:auth_user_delete", lambda w: w.clerk.pk), lambda w: {"post": "yes"},
        VIEW_USERS, lambda w, r: not User.objects.filter(pk=w.clerk.pk).exists(),
        allowed="superuser", denied=("viewer", "view_only", "manager"),
    ),
    "user bulk delete": Write(
        _url("admin:auth_user_changelist"), lambda w: bulk("delete_selected", w.clerk, post="yes"),
        VIEW_USERS, lambda w, r: not User.objects.filter(pk=w.clerk.pk).exists(),
        allowed="superuser", denied=("viewer", "view_only", "manager"),
    ),
    "group add": Write(
        _url("admin:auth_group_add"), lambda w: {"name": "Auditors", "permissions": []},
        VIEW_USERS, lambda w, r: Group.objects.filter(name="Auditors").exists(),
        allowed="superuser", denied=("viewer", "view_only", "manager"),
    ),
    "group change": Write(
        _url("admin:auth_group_change", lambda w: w.clerks.pk),
        lambda w: {"name": "Clerks", "permissions": list(
            Permission.objects.filter(content_type__app_label="crm").values_list("pk", flat=True)
        )},
        VIEW_USERS, lambda w, r: w.clerks.permissions.exists(),
        allowed="superuser", denied=("viewer", "view_only", "manager"),
    ),
    "group delete": Write(
        _url("admin:auth_group_delete", lambda w: w.clerks.pk), lambda w: {"post": "yes"},
        VIEW_USERS, lambda w, r: not Group.objects.filter(pk=w.clerks.pk).exists(),
        allowed="superuser", denied=("viewer", "view_only", "manager"),
    ),
    "group bulk delete": Write(
        _url("admin:auth_group_changelist"), lambda w: bulk("delete_selected", w.clerks, post="yes"),
        VIEW_USERS, lambda w, r: not Group.objects.filter(pk=w.clerks.pk).exists(),
        allowed="superuser", denied=("viewer", "view_only", "manager"),
    ),
}

DENIALS = [(name, who) for name, write in WRITES.items() for who in write.denied]


def user_named(who: str, write: Write, world: World, request) -> User:
    if who == "view_only":
        return user_with("view_only", *write.view_only)
    return request.getfixturevalue(who)


@pytest.mark.parametrize("name, who", DENIALS, ids=[f"{name}-by-{who}" for name, who in DENIALS])
def test_a_crafted_post_without_the_permission_is_refused_and_changes_nothing(world, request, name, who):
    write = WRITES[name]
    url, data = write.url(world), write.data(world)
    http = logged_in(user_named(who, write, world, request))
    before = database_state()

    response = http.post(url, data)

    assert response.status_code in (302, 403), (response.status_code, response.content.decode()[:1000])
    assert database_state() == before


@pytest.mark.parametrize("name", WRITES)
def test_the_same_post_works_for_a_user_with_the_permission(world, name):
    write = WRITES[name]
    url, data = write.url(world), write.data(world)
    http = logged_in(getattr(world, write.allowed))

    response = http.post(url, data)

    assert response.status_code == write.done_status, (response.status_code, response.content.decode()[:3000])
    assert write.done(world, response)


def test_the_add_order_button_needs_the_add_permission(world, viewer):
    response = logged_in(viewer).get(reverse("admin:crm_client_add_order", args=[world.anna.pk]))
    assert response.status_code == 403


# --- reading needs the view permission -------------------------------------------------------------------

READS = {
    "client export": (_url("admin:crm_client_export"), "post", {"format": "0", "resource": "0"}),
    "order export": (_url("admin:crm_order_export"), "post", {"format": "0", "resource": "0"}),
    "report export": (_url("admin:reports_report_export"), "post", {"format": "0", "resource": "0"}),
    "report download": (_url("admin:reports_report_download_text", lambda w: w.report.pk), "get", {}),
    "deleted orders": (_url("admin:crm_historicalorder_changelist"), "get", {}),
    "order history": (_url("admin:crm_order_history", lambda w: w.order.pk), "get", {}),
    "order history record": (
        _url("admin:crm_order_simple_history", lambda w: w.order.pk, lambda w: w.first_record(w.order).history_id),
        "get", {},
    ),
}


@pytest.mark.parametrize("name", READS)
def test_staff_without_the_view_permission_read_nothing(world, nobody, name):
    url, method, data = READS[name]
    response = getattr(logged_in(nobody), method)(url(world), data)
    assert response.status_code == 403


@pytest.mark.parametrize("name", READS)
def test_a_viewer_reads(world, viewer, name):
    url, method, data = READS[name]
    response = getattr(logged_in(viewer), method)(url(world), data)
    assert response.status_code == 200


# --- the history revert, in detail -----------------------------------------------------------------------

def revert_deleted_order(world: World, user: User):
    record = world.deletion_record
    url = reverse("admin:crm_order_simple_history", args=[world.deleted_order_id, record.history_id])
    return logged_in(user).post(url, order_form(record.instance))


def test_bringing_back_a_deleted_order_by_a_revert_needs_the_add_permission(world):
    changer = user_with("changer", "crm.view_order", "crm.change_order", "crm.view_historicalorder")
    before = database_state()

    assert revert_deleted_order(world, changer).status_code == 403
    assert database_state() == before

    changer.user_permissions.add(Permission.objects.get(codename="add_order"))
    changer = User.objects.get(pk=changer.pk)  # a fresh permission cache
    assert revert_deleted_order(world, changer).status_code == 302
    assert Order.objects.filter(pk=world.deleted_order_id).exists()


def test_a_revert_that_brings_an_order_back_goes_through_the_restore_service_and_is_recorded(world):
    response = revert_deleted_order(world, world.manager)

    restored = Order.objects.get(pk=world.deleted_order_id)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:crm_order_change", args=[restored.pk])
    assert restored.product == "Мышь" and str(restored.total_price) == "99.90"
    assert "мышь" in restored.search_text  # rebuilt by the service, not copied from nowhere
    assert restored.history.first().history_user == world.manager
    assert not Order.history.filter(id=restored.pk, history_type="-").exclude(
        history_date__lt=restored.history.first().history_date
    ).exists()


def test_a_deleted_client_comes_back_by_a_revert_under_its_old_id_through_the_service(world):
    lonely_id = world.lonely.pk
    services.client_delete(client=world.lonely)
    record = Client.history.get(id=lonely_id, history_type="-")
    url = reverse("admin:crm_client_simple_history", args=[lonely_id, record.history_id])
    changer = user_with("changer", "crm.view_client", "crm.change_client", "crm.view_historicalclient")
    before = database_state()

    assert logged_in(changer).post(url, client_form(record.instance)).status_code == 403
    assert database_state() == before

    response = logged_in(world.manager).post(url, client_form(record.instance, email=" Back@Example.com "))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:crm_client_change", args=[lonely_id])
    back = Client.objects.get(pk=lonely_id)
    assert back.email == "back@example.com"  # normalised by client_update, like every write
    assert back.history.first().history_user == world.manager


def test_a_revert_of_a_deleted_order_applies_the_changes_made_on_the_form(world):
    record = world.deletion_record
    url = reverse("admin:crm_order_simple_history", args=[world.deleted_order_id, record.history_id])

    response = logged_in(world.manager).post(url, order_form(record.instance, quantity=3))

    assert response.status_code == 302
    restored = Order.objects.get(pk=world.deleted_order_id)
    assert restored.quantity == 3 and str(restored.total_price) == "299.70"


def test_a_revert_with_invalid_values_is_a_form_error_and_changes_nothing(world):
    record = world.first_record(world.order)
    url = reverse("admin:crm_order_simple_history", args=[world.order.pk, record.history_id])
    before = database_state()

    response = logged_in(world.manager).post(url, order_form(record.instance, quantity="0", price="-1"))

    assert response.status_code == 200
    assert {"quantity", "price"} <= set(response.context["adminform"].form.errors)
    assert database_state() == before


def test_a_revert_of_a_client_is_refused_when_the_email_now_belongs_to_another_client(world):
    record = world.first_record(world.anna)
    ClientFactory(email="taken@example.com")
    url = reverse("admin:crm_client_simple_history", args=[world.anna.pk, record.history_id])
    before = database_state()

    response = logged_in(world.manager).post(url, client_form(record.instance, email="Taken@Example.com"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert database_state() == before


def test_the_revert_button_is_shown_only_to_users_who_may_revert(world, viewer):
    record = world.first_record(world.order)
    url = reverse("admin:crm_order_simple_history", args=[world.order.pk, record.history_id])

    assert 'name="_save"' in logged_in(world.manager).get(url).content.decode()
    viewer_page = logged_in(viewer).get(url)
    assert viewer_page.status_code == 200 and 'name="_save"' not in viewer_page.content.decode()
    # A deleted order: the button needs the add permission as well.
    deleted_url = reverse(
        "admin:crm_order_simple_history", args=[world.deleted_order_id, world.deletion_record.history_id]
    )
    changer = user_with("changer", "crm.view_order", "crm.change_order", "crm.view_historicalorder")
    assert 'name="_save"' not in logged_in(changer).get(deleted_url).content.decode()
    assert 'name="_save"' in logged_in(world.manager).get(deleted_url).content.decode()


@override_settings(SIMPLE_HISTORY_REVERT_DISABLED=True)
def test_with_reverts_disabled_even_a_manager_cannot_revert(world):
    record = world.first_record(world.order)
    url = reverse("admin:crm_order_simple_history", args=[world.order.pk, record.history_id])
    before = database_state()

    assert logged_in(world.manager).post(url, order_form(record.instance)).status_code == 403
    assert database_state() == before


# --- pages no one may write through ----------------------------------------------------------------------

NOBODY_WRITES = {
    "report add": (_url("admin:reports_report_add"), {"period": "week"}),
    "report change": (_url("admin:reports_report_change", lambda w: w.report.pk), {"period": "year"}),
    "deleted order change": (
        _url("admin:crm_historicalorder_change", lambda w: w.deletion_record.pk), {"product": "Взлом"},
    ),
    "deleted order delete": (_url("admin:crm_historicalorder_delete", lambda w: w.deletion_record.pk), {"post": "yes"}),
    "deleted order add": (_url("admin:crm_historicalorder_add"), {"product": "Взлом"}),
}


@pytest.mark.parametrize("name", NOBODY_WRITES)
def test_frozen_records_are_not_written_even_by_a_superuser(world, name):
    url, data = NOBODY_WRITES[name]
    before = database_state()
    response = logged_in(world.superuser).post(url(world), data)
    assert response.status_code == 403
    assert database_state() == before
