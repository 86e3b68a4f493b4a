"""The report pages of the staff UI, through the Django test client: manager vs viewer vs superuser."""

from datetime import timedelta

import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from reports.models import Report
from reports.services import report_generate
from tests.reports.conftest import NOW, make_order

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:reports_report_changelist"
MAKE_BUTTONS = {
    "week": "admin:reports_report_make_week_report",
    "month": "admin:reports_report_make_month_report",
    "year": "admin:reports_report_make_year_report",
}


@pytest.fixture
def report(manager):
    make_order(created_at=NOW - timedelta(hours=1), product="Ноутбук", quantity=2, price="1500.00")
    return report_generate(period="month", user=manager, now=NOW)


def test_changelist_shows_period_date_author_figures_and_the_buttons_to_a_manager(client, manager, report):
    client.force_login(manager)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    page = response.content.decode()
    # 2 × 1500.00: the total and (one order) the average, as money in the admin's language.
    assert "manager" in page and "3\xa0000,00\xa0₽" in page
    for url_name in MAKE_BUTTONS.values():
        assert reverse(url_name) in page
    assert reverse("admin:reports_report_download_text", args=[report.pk]) in page
    assert reverse("admin:reports_report_export") in page


def test_viewer_sees_the_list_and_download_but_no_create_buttons(client, viewer, report):
    client.force_login(viewer)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    page = response.content.decode()
    for url_name in MAKE_BUTTONS.values():
        assert reverse(url_name) not in page
    assert reverse("admin:reports_report_download_text", args=[report.pk]) in page


@pytest.mark.parametrize("period", ["week", "month", "year"])
def test_viewer_cannot_make_a_report_by_a_direct_post(client, viewer, period):
    client.force_login(viewer)
    response = client.post(reverse(MAKE_BUTTONS[period]), {"_form_submitted": "1"})
    assert response.status_code == 403
    assert Report.objects.count() == 0


@pytest.mark.parametrize("period", ["week", "month", "year"])
def test_manager_makes_a_report_with_one_button_and_is_sent_back_to_the_list(client, manager, period):
    client.force_login(manager)
    response = client.post(reverse(MAKE_BUTTONS[period]), {"_form_submitted": "1"}, follow=True)
    report = Report.objects.get()
    assert (report.period, report.created_by) == (period, manager)
    assert response.redirect_chain == [(reverse(CHANGELIST), 302)]
    assert f"Отчёт #{report.pk} готов." in [str(message) for message in response.context["messages"]]


def test_the_button_first_asks_for_confirmation_and_makes_nothing(client, manager):
    client.force_login(manager)
    response = client.get(reverse(MAKE_BUTTONS["week"]))
    assert response.status_code == 200
    assert 'name="_form_submitted"' in response.content.decode()
    assert Report.objects.count() == 0


def test_confirmation_dialog_submitted_through_htmx_redirects_with_a_header(client, manager):
    client.force_login(manager)
    response = client.post(reverse(MAKE_BUTTONS["year"]), {"_form_submitted": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse(CHANGELIST)
    assert Report.objects.get().period == "year"


@pytest.mark.parametrize("user_fixture", ["viewer", "manager", "superuser"])
def test_download_gives_the_text_file_to_anyone_who_may_view_reports(client, request, report, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    response = client.get(reverse("admin:reports_report_download_text", args=[report.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="report_{report.pk}.txt"'
    text = response.content.decode("utf-8")
    assert text.startswith("Отчет за период: Месяц\nДата создания: 17 декабря 2024 года, 21:00\n")
    assert "Сумма новых заказов: 3000.00\n" in text


def test_download_is_refused_to_staff_without_view_permission(client, nobody, report):
    client.force_login(nobody)
    response = client.get(reverse("admin:reports_report_download_text", args=[report.pk]))
    assert response.status_code == 403


def test_download_of_an_unknown_report_is_404(client, viewer):
    client.force_login(viewer)
    assert client.get(reverse("admin:reports_report_download_text", args=[999999])).status_code == 404
    assert client.get("/admin/reports/report/abc/download_text/").status_code == 404


def test_anonymous_is_sent_to_login_and_gets_no_file(client, report):
    response = client.get(reverse("admin:reports_report_download_text", args=[report.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_report_page_is_read_only_with_the_text_and_a_download_button(client, manager, report):
    client.force_login(manager)
    response = client.get(reverse("admin:reports_report_change", args=[report.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("admin:reports_report_download_text", args=[report.pk]) in page
    assert "Кол-во выполненных заказов: 0" in page
    assert 'name="_save"' not in page
    assert 'name="_continue"' not in page


def test_viewer_sees_the_report_page_read_only_with_the_download_button(client, viewer, report):
    client.force_login(viewer)
    response = client.get(reverse("admin:reports_report_change", args=[report.pk]))
    assert response.status_code == 200
    assert reverse("admin:reports_report_download_text", args=[report.pk]) in response.content.decode()


def test_nobody_can_edit_or_add_a_report(client, superuser, report):
    client.force_login(superuser)
    change = client.post(reverse("admin:reports_report_change", args=[report.pk]), {"period": "year"})
    assert change.status_code == 403
    assert client.get(reverse("admin:reports_report_add")).status_code == 403
    report.refresh_from_db()
    assert report.period == "month"


def test_only_a_superuser_may_delete_a_report(client, manager, superuser, report):
    delete_url = reverse("admin:reports_report_delete", args=[report.pk])
    client.force_login(manager)
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert Report.objects.filter(pk=report.pk).exists()
    client.force_login(superuser)
    assert client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not Report.objects.filter(pk=report.pk).exists()


@pytest.mark.parametrize("file_format, content_type", [(0, "text/csv"), (1, "application/vnd.openxmlformats")])
def test_viewer_exports_the_list(client, viewer, report, file_format, content_type):
    client.force_login(viewer)
    response = client.post(
        reverse("admin:reports_report_export"),
        {
            "format": str(file_format),
            "resource": "0",
            **{f"reportresource_{name}": "on" for name in ("id", "period", "created_by", "total_orders_sum")},
        },
    )
    assert response.status_code == 200, response.content[:2000]
    assert response["Content-Type"].startswith(content_type)
    if file_format == 0:
        text = response.content.decode("utf-8")
        assert "period" in text and "month" in text and "manager" in text and "3000.00" in text
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        header, row = [cell.value for cell in sheet[1]], [cell.value for cell in sheet[2]]
        assert row[header.index("period")] == "month" and row[header.index("created_by")] == "manager"
        assert Decimal(str(row[header.index("total_orders_sum")])) == Decimal("3000.00")


def test_changelist_query_count_does_not_grow_with_the_reports(client, manager, django_assert_max_num_queries):
    client.force_login(manager)
    for day in range(30):
        report_generate(period="week", user=manager, now=NOW - timedelta(days=day))
    with django_assert_max_num_queries(12):
        assert client.get(reverse(CHANGELIST)).status_code == 200
