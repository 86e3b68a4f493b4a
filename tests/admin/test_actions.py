"""Admin writes go through the services: forms, bulk actions, archive/restore, deletes, history, lockout."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import override_settings
from django.urls import reverse

from crm.models import Client, Order
from crm.services import order_delete, order_update
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db

CLIENT_FORM = {
    "last_name": "Петров",
    "first_name": "Пётр",
    "middle_name": "",
    "email": "Petrov@Example.com",
    "mobile_phone": "+7 (900) 123-45-67",
    "status": "active",
    # The read-only inline of orders still posts its management form.
    "orders-TOTAL_FORMS": "0",
    "orders-INITIAL_FORMS": "0",
    "orders-MIN_NUM_FORMS": "0",
    "orders-MAX_NUM_FORMS": "0",
}


def test_manager_adds_a_client_through_the_service(manager_client, manager):
    response = manager_client.post(reverse("admin:crm_client_add"), CLIENT_FORM)
    assert response.status_code == 302, response.content.decode()[:2000]
    client = Client.objects.get()
    assert client.email == "petrov@example.com"  # normalised like every entry point
    assert "петров" in client.search_text
    record = client.history.get()
    assert record.history_type == "+" and record.history_user == manager


def test_duplicate_email_is_a_field_error_not_a_crash(manager_client):
    ClientFactory(email="petrov@example.com")
    response = manager_client.post(reverse("admin:crm_client_add"), CLIENT_FORM)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "email" in form.errors
    assert form.non_field_errors() == []
    assert Client.objects.count() == 1


def test_editing_a_client_keeps_its_own_email_and_records_who_changed_what(manager_client, manager, client_with_orders):
    data = {**CLIENT_FORM, "email": client_with_orders.email, "first_name": "Анатолий", "last_name": "Ёлкин",
            "middle_name": "Петрович"}
    data.update({"orders-TOTAL_FORMS": "2", "orders-INITIAL_FORMS": "2"})
    response = manager_client.post(reverse("admin:crm_client_change", args=[client_with_orders.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    client_with_orders.refresh_from_db()
    assert client_with_orders.middle_name == "Петрович"
    latest = client_with_orders.history.first()
    assert latest.history_user == manager
    changes = latest.diff_against(latest.prev_record).changed_fields
    assert "middle_name" in changes
    html = manager_client.get(reverse("admin:crm_client_history", args=[client_with_orders.pk])).content.decode()
    assert "manager" in html and "Петрович" in html


def test_invalid_order_is_a_form_error(manager_client, client_with_orders):
    response = manager_client.post(reverse("admin:crm_order_add"), {
        "client": client_with_orders.pk, "product": "Стол", "quantity": "0", "price": "10.005",
        "description": "", "status": "Pending",
    })
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "quantity" in errors and "price" in errors


def test_manager_adds_an_order_and_the_total_is_computed(manager_client, manager, client_with_orders):
    response = manager_client.post(reverse("admin:crm_order_add"), {
        "client": client_with_orders.pk, "product": " Стол ", "quantity": "3", "price": "100.50",
        "description": "", "status": "Pending",
    })
    assert response.status_code == 302
    order = Order.objects.get(product="Стол")
    assert str(order.total_price) == "301.50"
    assert order.history.get().history_user == manager


@pytest.mark.parametrize("action, status", [
    ("mark_completed", "Completed"), ("mark_cancelled", "Cancelled"), ("mark_pending", "Pending"),
])
def test_bulk_status_actions(manager_client, manager, action, status):
    orders = [OrderFactory(status="Pending" if status != "Pending" else "Completed") for _ in range(3)]
    untouched = OrderFactory(status="Cancelled" if status != "Cancelled" else "Completed")
    response = manager_client.post(reverse("admin:crm_order_changelist"), {
        "action": action, ACTION_CHECKBOX_NAME: [order.pk for order in orders],
    })
    assert response.status_code == 302
    assert set(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)) == {status}
    untouched.refresh_from_db()
    assert untouched.status != status
    for order in orders:
        record = order.history.first()
        assert record.status == status and record.history_user == manager


def test_viewer_cannot_run_bulk_actions(viewer_client):
    order = OrderFactory()
    response = viewer_client.post(reverse("admin:crm_order_changelist"), {
        "action": "mark_completed", ACTION_CHECKBOX_NAME: [order.pk],
    })
    order.refresh_from_db()
    assert order.status == "Pending"
    assert response.status_code in (200, 302, 403)


def test_viewer_cannot_save_forms(viewer_client, client_with_orders):
    response = viewer_client.post(reverse("admin:crm_client_change", args=[client_with_orders.pk]),
                                  {**CLIENT_FORM, "email": "new@example.com"})
    assert response.status_code == 403
    client_with_orders.refresh_from_db()
    assert client_with_orders.email == "yolkin@example.com"


def test_bulk_archive_and_restore(manager_client):
    clients = [ClientFactory() for _ in range(2)]
    ids = [c.pk for c in clients]
    url = reverse("admin:crm_client_changelist")
    manager_client.post(url, {"action": "archive_selected", ACTION_CHECKBOX_NAME: ids})
    assert set(Client.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"archived"}
    # Restored from the archived clients' list, where they are now shown.
    manager_client.post(url + "?status__exact=archived", {"action": "restore_selected", ACTION_CHECKBOX_NAME: ids})
    assert set(Client.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"active"}


def test_archive_and_restore_one_client_from_its_page(manager_client, client_with_orders):
    archive_url = reverse("admin:crm_client_archive", args=[client_with_orders.pk])
    # Without the dialog's confirmation nothing happens.
    assert manager_client.get(archive_url).status_code == 200
    client_with_orders.refresh_from_db()
    assert client_with_orders.status == "active"
    response = manager_client.post(archive_url, {"_form_submitted": "1"})
    assert response.status_code == 302
    client_with_orders.refresh_from_db()
    assert client_with_orders.status == "archived"
    assert client_with_orders.orders.count() == 2
    response = manager_client.post(reverse("admin:crm_client_restore", args=[client_with_orders.pk]),
                                   {"_form_submitted": "1"}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == reverse("admin:crm_client_change", args=[client_with_orders.pk])
    client_with_orders.refresh_from_db()
    assert client_with_orders.status == "active"


def test_viewer_cannot_archive(viewer_client, client_with_orders):
    response = viewer_client.post(reverse("admin:crm_client_archive", args=[client_with_orders.pk]),
                                  {"_form_submitted": "1"})
    assert response.status_code == 403
    client_with_orders.refresh_from_db()
    assert client_with_orders.status == "active"


def test_add_order_button_opens_the_order_form_for_this_client(manager_client, client_with_orders):
    response = manager_client.get(reverse("admin:crm_client_add_order", args=[client_with_orders.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:crm_order_add") + f"?client={client_with_orders.pk}"


def test_managers_cannot_delete_clients(manager_client, client_with_orders):
    response = manager_client.post(reverse("admin:crm_client_delete", args=[client_with_orders.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Client.objects.filter(pk=client_with_orders.pk).exists()


def test_superuser_cannot_delete_a_client_with_orders(client, superuser, client_with_orders):
    client.force_login(superuser)
    url = reverse("admin:crm_client_delete", args=[client_with_orders.pk])
    response = client.post(url, {"post": "yes"}, follow=True)
    assert Client.objects.filter(pk=client_with_orders.pk).exists()
    assert "archive the client instead" in response.content.decode() or "архивируйте" in response.content.decode()


def test_superuser_deletes_a_client_without_orders(client, superuser):
    lonely = ClientFactory()
    client.force_login(superuser)
    response = client.post(reverse("admin:crm_client_delete", args=[lonely.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Client.objects.filter(pk=lonely.pk).exists()
    assert lonely.history.filter(history_type="-").exists() or Client.history.filter(id=lonely.pk, history_type="-").exists()


def test_deleted_order_is_listed_and_restored_under_its_old_id(manager_client, manager, client_with_orders):
    order = client_with_orders.orders.get(product="Ноутбук")
    order_id = order.pk
    response = manager_client.post(reverse("admin:crm_order_delete", args=[order_id]), {"post": "yes"})
    assert response.status_code == 302
    assert not Order.objects.filter(pk=order_id).exists()

    deleted_list = reverse("admin:crm_historicalorder_changelist")
    html = manager_client.get(deleted_list).content.decode()
    assert "Ноутбук" in html and "Мышь" not in html
    record = Order.history.get(id=order_id, history_type="-")
    restore_url = reverse("admin:crm_historicalorder_restore_order", args=[record.pk])
    assert restore_url in html

    response = manager_client.post(restore_url, {"_form_submitted": "1"})
    assert response.status_code == 302
    restored = Order.objects.get(pk=order_id)
    assert restored.product == "Ноутбук" and str(restored.total_price) == "3000.00"
    assert restored.client_id == client_with_orders.pk
    assert "Ноутбук" not in manager_client.get(deleted_list).content.decode()
    assert restored.history.first().history_user == manager


def test_viewer_sees_deleted_orders_but_cannot_restore(viewer_client, client_with_orders):
    order = client_with_orders.orders.first()
    order_id = order.pk
    order.delete()
    html = viewer_client.get(reverse("admin:crm_historicalorder_changelist")).content.decode()
    record = Order.history.get(id=order_id, history_type="-")
    restore_url = reverse("admin:crm_historicalorder_restore_order", args=[record.pk])
    assert restore_url not in html
    assert viewer_client.post(restore_url, {"_form_submitted": "1"}).status_code == 403
    assert not Order.objects.filter(pk=order_id).exists()


def test_deleted_orders_are_found_by_the_clients_name(manager_client, client_with_orders):
    other = ClientFactory(first_name="Борис", last_name="Другов", email="drugov@example.com")
    for order in [*client_with_orders.orders.all(), OrderFactory(client=other, product="Кофемашина")]:
        order_delete(order=order)
    deleted_list = reverse("admin:crm_historicalorder_changelist")

    html = manager_client.get(deleted_list, {"q": "ёлкин"}).content.decode()
    assert "Ноутбук" in html and "Мышь" in html and "Кофемашина" not in html
    assert "Товар, описание, ФИО или e-mail клиента." in html  # what the search box searches
    html = manager_client.get(deleted_list, {"q": "анатолий мышь"}).content.decode()
    assert "Мышь" in html and "Ноутбук" not in html and "Кофемашина" not in html
    assert "Кофемашина" in manager_client.get(deleted_list, {"q": "другов"}).content.decode()


def test_service_level_changes_show_in_the_admin_history(manager_client, client_with_orders):
    order = client_with_orders.orders.get(product="Мышь")
    order_update(order=order, product="Мышь беспроводная")
    record = order.history.first()
    assert record.history_type == "~" and record.product == "Мышь беспроводная"
    html = manager_client.get(reverse("admin:crm_order_history", args=[order.pk])).content.decode()
    assert "Мышь беспроводная" in html


def test_api_changes_are_recorded_with_their_user(client, manager, client_with_orders):
    """An edit through the API (session auth here) is recorded in the history with the user."""
    client.force_login(manager)
    order = client_with_orders.orders.get(product="Мышь")
    response = client.post(f"/api/orders/edit/{order.pk}/", {"product": "Коврик"})
    if response.status_code == 404:
        pytest.skip("the API is not wired yet")
    assert response.status_code == 200, response.content
    record = order.history.first()
    assert record.product == "Коврик" and record.history_user == manager


@override_settings(AXES_FAILURE_LIMIT=3)
def test_admin_login_locks_out_after_repeated_failures(client, manager):
    url = reverse("admin:login")
    for _ in range(3):
        response = client.post(url, {"username": "manager", "password": "wrong", "next": "/admin/"})
    response = client.post(url, {"username": "manager", "password": "secret-pass-1", "next": "/admin/"})
    assert response.status_code == 429
    html = response.content.decode()
    assert 'id="lockout-message"' in html
    assert "unfold" in html  # the themed layout, not a bare text response
    assert "_auth_user_id" not in client.session


def test_admin_login_works_before_the_limit(client, manager):
    url = reverse("admin:login")
    client.post(url, {"username": "manager", "password": "wrong", "next": "/admin/"})
    response = client.post(url, {"username": "manager", "password": "secret-pass-1", "next": "/admin/"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(manager.pk)


def test_client_page_offers_archive_or_restore_by_status(manager_client, client_with_orders):
    change_url = reverse("admin:crm_client_change", args=[client_with_orders.pk])
    archive_url = reverse("admin:crm_client_archive", args=[client_with_orders.pk])
    restore_url = reverse("admin:crm_client_restore", args=[client_with_orders.pk])
    html = manager_client.get(change_url).content.decode()
    assert archive_url in html and restore_url not in html
    manager_client.post(archive_url, {"_form_submitted": "1"})
    html = manager_client.get(change_url).content.decode()
    assert restore_url in html and archive_url not in html
