"""An admin address with an id that is not a number (or names no row) is a 404 or a redirect, never a 500."""

import pytest
from django.test import Client as HttpClient

from crm import services
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

BAD_IDS = ["abc", "-1", "1.5", "99999999999999999999999", "%20"]

# {id} is the bad id; {order} and {record} a real order and one of its history records.
ADDRESSES = [
    "/admin/crm/client/{id}/change/",
    "/admin/crm/client/{id}/delete/",
    "/admin/crm/client/{id}/history/",
    "/admin/crm/client/{id}/history/1/",
    "/admin/crm/client/{id}/archive/",
    "/admin/crm/client/{id}/restore/",
    "/admin/crm/client/{id}/add_order/",
    "/admin/crm/order/{id}/change/",
    "/admin/crm/order/{id}/delete/",
    "/admin/crm/order/{id}/history/",
    "/admin/crm/order/{id}/history/{record}/",
    "/admin/crm/order/{order}/history/{id}/",
    "/admin/crm/historicalorder/{id}/restore_order/",
    "/admin/crm/historicalorder/{id}/change/",
    "/admin/reports/report/{id}/change/",
    "/admin/reports/report/{id}/delete/",
    "/admin/reports/report/{id}/download_text/",
    "/admin/auth/user/{id}/change/",
    "/admin/auth/user/{id}/password/",
    "/admin/auth/group/{id}/change/",
]

DATA = {"_form_submitted": "1", "post": "yes", "product": "Взлом", "quantity": "1", "price": "1"}


@pytest.fixture
def no_debug(settings):
    settings.DEBUG = False


@pytest.fixture
def order(db):
    order = OrderFactory()
    services.order_update(order=order, product="Ноутбук Pro")
    return order


@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize("who", ["superuser", "manager"])
def test_a_bad_id_in_an_admin_address_is_a_404_or_a_redirect(no_debug, request, order, who, address):
    http = HttpClient(raise_request_exception=False)
    http.force_login(request.getfixturevalue(who))
    wrong = []
    for bad_id in BAD_IDS:
        url = address.format(id=bad_id, order=order.pk, record=order.history.first().history_id)
        for method in ("get", "post"):
            response = getattr(http, method)(url, DATA if method == "post" else {})
            if response.status_code == 302:
                # Django's own answer: back to a list with "… doesn't exist. Perhaps it was deleted?"
                shown = [str(message) for message in response.wsgi_request._messages]
                if not shown:
                    wrong.append((method, url, "a redirect without a message"))
            elif response.status_code not in (403, 404):
                wrong.append((method, url, response.status_code))
    assert wrong == []
