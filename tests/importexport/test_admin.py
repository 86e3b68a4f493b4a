"""The admin's import (preview, then confirm) and export buttons, through the Django test client."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.models import Client, Order
from tests.importexport.conftest import client_rows

pytestmark = pytest.mark.django_db

CSV, XLSX, JSON = "0", "1", "2"  # the formats' positions in the admin's select


def upload(client, url_name, content: bytes, name="clients.csv", fmt=CSV):
    return client.post(
        reverse(url_name),
        {"resource": "0", "format": fmt, "import_file": SimpleUploadedFile(name, content)},
    )


def page_messages(response):
    return [str(message) for message in response.context["messages"]]


def test_import_page_renders(client, manager):
    client.force_login(manager)

    assert client.get(reverse("admin:crm_client_import")).status_code == 200
    assert client.get(reverse("admin:crm_order_import")).status_code == 200


def test_preview_then_confirm_imports_clients_with_history_of_the_user(client, manager):
    client.force_login(manager)
    with open("fixtures/sample_clients.xlsx", "rb") as sample:
        preview = upload(client, "admin:crm_client_import", sample.read(), "sample_clients.xlsx", XLSX)

    assert preview.status_code == 200
    assert "Предпросмотр, строк: 8; новых: 8, изменённых: 0, без изменений: 0, с ошибками: 0." in page_messages(preview)[0]
    assert not Client.objects.exists()
    confirm_form = preview.context["confirm_form"]

    done = client.post(reverse("admin:crm_client_process_import"), confirm_form.initial)

    assert done.status_code == 302 and done.url == reverse("admin:crm_client_changelist")
    assert Client.objects.count() == 8
    assert set(Client.history.values_list("history_user__username", flat=True)) == {"manager"}


def test_preview_of_a_bad_file_lists_every_bad_row_and_offers_no_confirmation(client, manager, sample_data):
    client.force_login(manager)
    before = client_rows()
    content = (
        "E-mail клиента;Товар;Количество;Цена;Статус\r\n"
        "ivanov@example.com;Чай;1;10;Завершён\r\n"
        "ivanov@example.com;Кофе;1;дорого;\r\n"
        "ghost@example.com;Сахар;1;5;\r\n"
        "ivanov@example.com;Соль;1;5;Потерян\r\n"
    ).encode("cp1251")

    response = upload(client, "admin:crm_order_import", content, "orders.csv")

    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    invalid = {row.number: row.error_dict for row in response.context["result"].invalid_rows}
    assert sorted(invalid) == [3, 4, 5]
    assert "Предпросмотр, строк: 4; новых: 1, изменённых: 0, без изменений: 0, с ошибками: 3." in page_messages(response)[0]
    html = response.content.decode()
    assert "Введите сумму, например 89 990,50" in html and "Нет клиента с e-mail ghost@example.com." in html
    assert Order.objects.count() == 4 and client_rows() == before


def test_a_file_missing_the_key_column_is_an_error_on_the_form(client, manager):
    client.force_login(manager)

    response = upload(client, "admin:crm_client_import", "Фамилия,Имя\nИванов,Иван\n".encode())

    assert "клиенты сопоставляются по e-mail" in str(response.context["form"].errors)
    assert response.context["result"] is None


def test_confirming_a_file_that_became_invalid_writes_nothing(client, manager, sample_data):
    client.force_login(manager)
    preview = upload(client, "admin:crm_order_import", "E-mail клиента,Товар,Цена\nsergey@example.com,Чай,10\n".encode())
    confirm = preview.context["confirm_form"].initial
    Order.objects.filter(client=sample_data["plain"]).delete()
    Client.objects.filter(pk=sample_data["plain"].pk).delete()  # the client disappears before confirmation

    done = client.post(reverse("admin:crm_order_process_import"), confirm, follow=True)

    assert "Ничего не импортировано." in page_messages(done)[0]
    assert not Order.objects.filter(product="Чай").exists()


def test_viewer_cannot_import_but_can_export(client, viewer):
    client.force_login(viewer)

    assert client.get(reverse("admin:crm_client_import")).status_code == 403
    assert client.get(reverse("admin:crm_client_export")).status_code == 200


def test_export_respects_the_lists_search(client, manager, sample_data):
    client.force_login(manager)
    # Фёдорова is archived: the list (and so its export) shows her once asked for every status.
    url = reverse("admin:crm_client_export") + "?q=федорова&status__exact=all"

    response = client.post(url, {"resource": "0", "format": CSV})

    text = streamed(response).decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert "alena@example.com" in text and "ivanov@example.com" not in text


def test_export_respects_the_lists_filters_and_escapes_formulae_in_xlsx(client, manager, sample_data):
    client.force_login(manager)
    url = reverse("admin:crm_order_export") + "?status__exact=Pending"

    response = client.post(url, {"resource": "0", "format": XLSX})

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    products = [row[5] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(products) == ["'@SUM(A1)", "Мышь; беспроводная"]


def test_export_of_orders_costs_few_queries(client, manager, sample_data, django_assert_max_num_queries):
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        response = client.post(reverse("admin:crm_order_export"), {"resource": "0", "format": JSON})
    assert response.content.decode().count('"Товар"') == 4


def streamed(response) -> bytes:
    assert response.streaming, "a CSV export must stream"
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    ("url_name", "resource_class", "model"),
    [("admin:crm_order_export", "OrderResource", Order), ("admin:crm_client_export", "ClientResource", Client)],
)
def test_csv_export_streams_the_same_file_import_export_would_build(
    client, manager, sample_data, url_name, resource_class, model
):
    from crm.importexport import resources
    from tests.importexport.conftest import export_bytes

    client.force_login(manager)
    # Every client: the client list (and so its export) shows active ones unless asked for every status.
    every_row = "?status__exact=all" if model is Client else ""

    response = client.post(reverse(url_name) + every_row, {"resource": "0", "format": CSV})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    assert response["Content-Disposition"].endswith(".csv")
    body = streamed(response)
    # The list's order (newest first) through import-export's own export() and our CsvFormat.
    assert body == export_bytes(getattr(resources, resource_class), "csv", model.objects.order_by("-id"))
    assert body.startswith("\ufeff".encode())
    assert ("'@SUM(A1)" if model is Order else "'=HYPERLINK").encode() in body  # formulae escaped


def test_csv_export_of_many_rows_comes_in_pieces_with_bounded_queries(
    client, manager, django_assert_max_num_queries
):
    from tests.factories import ClientFactory, OrderFactory

    client.force_login(manager)
    buyers = [ClientFactory() for _ in range(3)]
    for index in range(1200):
        OrderFactory(client=buyers[index % 3], product=f"Товар {index}")

    with django_assert_max_num_queries(12):
        response = client.post(reverse("admin:crm_order_export"), {"resource": "0", "format": CSV})
        pieces = list(response.streaming_content)

    assert len(pieces) > 2  # the BOM, then a piece per few hundred rows
    lines = b"".join(pieces).decode("utf-8-sig").splitlines()
    assert len(lines) == 1201 and lines[1].split(";")[0] == str(Order.objects.order_by("-id").first().pk)


def test_csv_export_respects_the_lists_filters_and_search(client, manager, sample_data):
    client.force_login(manager)

    response = client.post(reverse("admin:crm_order_export") + "?status__exact=Pending", {"resource": "0", "format": CSV})
    text = streamed(response).decode("utf-8-sig")
    assert "'@SUM(A1)" in text and "Мышь; беспроводная" in text and "Ноутбук" not in text

    response = client.post(reverse("admin:crm_order_export") + "?q=ноутбук", {"resource": "0", "format": CSV})
    text = streamed(response).decode("utf-8-sig")
    assert len(text.splitlines()) == 2 and "Ноутбук" in text


def test_xlsx_and_json_exports_are_built_whole(client, manager, sample_data):
    client.force_login(manager)
    for fmt in (XLSX, JSON):
        response = client.post(reverse("admin:crm_order_export"), {"resource": "0", "format": fmt})
        assert response.status_code == 200 and not response.streaming
