"""Every admin page a staff member sees in Russian is in Russian: no English words the test does not expect."""

import html
import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from crm.models import Order
from crm.services import order_delete, order_update
from reports.models import ReportSchedule
from reports.schedules import report_schedule_save
from reports.services import report_generate
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db

# Latin words that are right in a Russian page: names of things, formats, data and the language switch.
EXPECTED = {
    "CRM", "E-mail", "e-mail", "ID", "CSV", "XLSX", "JSON", "csv", "xlsx", "json",
    # The language switch names each language in itself.
    "English", "en", "ru",
    # Keys on the command palette's keyboard hints.
    "Ctrl", "Command", "Control", "Mac", "K", "esc",
    # Django's own Russian text on the user form names these sign-in methods.
    "Single", "Sing-On", "LDAP",
    # Data: group names, user names and e-mail addresses of the test's own rows.
    "Managers", "Viewers", "root", "R", "example", "com", "yolkin", "staffer", "Staffer",
}
LATIN_WORDS = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


def visible_text(page: str) -> str:
    """What a person reads: text and the placeholders/titles/labels of elements, without scripts, styles and
    icon ligatures (`<span class="material-symbols-outlined">search</span>` shows an icon, not a word)."""
    page = re.sub(r"(?s)<script.*?</script>|<style.*?</style>|<template.*?</template>|<!--.*?-->", " ", page)
    page = re.sub(r'(?s)<(span|i)[^>]*class="[^"]*material-symbols[^"]*"[^>]*>.*?</\1>', " ", page)
    page = re.sub(r'(?s)\b(?:placeholder|title|aria-label|alt)="([^"]*)"', r'> \1 <x ', page)
    page = re.sub(r"""<(?:[^>"']|"[^"]*"|'[^']*')*>""", " ", page)
    return html.unescape(page)


def english_words(page: str) -> set[str]:
    return {word for word in LATIN_WORDS.findall(visible_text(page)) if word not in EXPECTED}


@pytest.fixture
def pages(superuser):
    """Every kind of admin page, with data on it."""
    client = ClientFactory(first_name="Анатолий", last_name="Ёлкин", email="yolkin@example.com")
    order = OrderFactory(client=client, product="Ноутбук")
    order_update(order=order, status=Order.Status.COMPLETED)
    deleted = OrderFactory(client=client, product="Мышь")
    order_delete(order=deleted)
    report = report_generate(period="week", user=superuser)
    schedule = report_schedule_save(schedule=ReportSchedule(owner=superuser, recipients="yolkin@example.com"))
    staffer = User.objects.create_user("staffer", is_staff=True)  # no usable password: no hash on its page
    record = Order.history.filter(id=order.pk).order_by("history_id").first()
    return [
        reverse("admin:index"),
        reverse("admin:crm_client_changelist"),
        reverse("admin:crm_client_changelist") + "?q=nothing-matches",
        reverse("admin:crm_client_add"),
        reverse("admin:crm_client_change", args=[client.pk]),
        reverse("admin:crm_client_history", args=[client.pk]),
        reverse("admin:crm_client_import"),
        reverse("admin:crm_client_export"),
        reverse("admin:crm_order_changelist"),
        reverse("admin:crm_order_add"),
        reverse("admin:crm_order_change", args=[order.pk]),
        reverse("admin:crm_order_history", args=[order.pk]),
        reverse("admin:crm_order_history", args=[order.pk]) + f"{record.history_id}/",
        reverse("admin:crm_order_delete", args=[order.pk]),
        reverse("admin:crm_order_import"),
        reverse("admin:crm_order_export"),
        reverse("admin:crm_historicalorder_changelist"),
        reverse("admin:reports_report_changelist"),
        reverse("admin:reports_report_change", args=[report.pk]),
        reverse("admin:reports_reportschedule_changelist"),
        reverse("admin:reports_reportschedule_add"),
        reverse("admin:reports_reportschedule_change", args=[schedule.pk]),
        reverse("admin:auth_user_changelist"),
        reverse("admin:auth_user_add"),
        reverse("admin:auth_user_change", args=[staffer.pk]),
        reverse("admin:auth_group_changelist"),
        reverse("admin:auth_group_add"),
        reverse("admin:password_change"),
    ]


def test_every_admin_page_is_russian(client, superuser, pages):
    client.force_login(superuser)
    english = {}
    for url in pages:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="ru")
        assert response.status_code == 200, url
        for word in english_words(response.content.decode()):
            english.setdefault(word, url)
    assert english == {}


def test_login_page_is_russian(client):
    response = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE="ru")
    assert english_words(response.content.decode()) == set()


def test_the_check_finds_english_words():
    assert english_words('<p>Apply Filters</p><span class="material-symbols-outlined">search</span>') == {
        "Apply", "Filters",
    }
    assert english_words('<input placeholder="Type to search" value="Pending">') == {"Type", "to", "search"}
