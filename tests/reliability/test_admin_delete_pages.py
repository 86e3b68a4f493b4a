"""The delete pages load Django's JavaScript catalogue before any script that calls gettext.

unfold adds the list filters' scripts (calendar.js, DateTimeShortcuts.js: they call gettext as they load) to a
model admin's media once its list has been shown; its delete pages did not load the catalogue, and the browser
logged "gettext is not defined".
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.staticfiles import finders
from django.urls import reverse

from reports.services import report_generate
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db

SCRIPT_SRC = re.compile(r'<script[^>]*\ssrc="([^"]+)"')


def calls_gettext(src: str) -> bool:
    if not src.startswith(settings.STATIC_URL):
        return False
    path = finders.find(src.removeprefix(settings.STATIC_URL).split("?")[0])
    return path is not None and "gettext" in Path(path).read_text(encoding="utf-8", errors="replace")


def delete_page(http, who, kind):
    """The page as a user reaches it: from the list (which is what adds the filters' scripts)."""
    if kind == "client":
        http.get(reverse("admin:crm_client_changelist"))
        return http.get(reverse("admin:crm_client_delete", args=[ClientFactory().pk]))
    if kind == "order":
        http.get(reverse("admin:crm_order_changelist"))
        return http.get(reverse("admin:crm_order_delete", args=[OrderFactory().pk]))
    if kind == "orders (bulk)":
        http.get(reverse("admin:crm_order_changelist"))
        return http.post(reverse("admin:crm_order_changelist"), {
            "action": "delete_selected", "index": "0", ACTION_CHECKBOX_NAME: [OrderFactory().pk, OrderFactory().pk],
        })
    if kind == "report":
        http.get(reverse("admin:reports_report_changelist"))
        return http.get(reverse("admin:reports_report_delete", args=[report_generate(period="week", user=who).pk]))
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["client", "order", "orders (bulk)", "report"])
def test_delete_page_loads_the_javascript_catalogue_before_scripts_that_use_gettext(client, superuser, kind):
    client.force_login(superuser)

    response = delete_page(client, superuser, kind)

    assert response.status_code == 200
    assert "delete-confirmation" in response.content.decode()
    scripts = SCRIPT_SRC.findall(response.content.decode())
    catalogue = reverse("admin:jsi18n")
    assert catalogue in scripts
    using_gettext = [src for src in scripts if calls_gettext(src)]
    assert all(scripts.index(catalogue) < scripts.index(src) for src in using_gettext), (scripts, using_gettext)
