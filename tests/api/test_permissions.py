"""Who may call what: anonymous 401 everywhere, Viewers read, Managers and superusers do everything, no group 403."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.models import Client, Order
from reports.models import Report
from tests.api.conftest import Api, assert_error
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(db):
    client = ClientFactory()
    order = OrderFactory(client=client)
    now = timezone.now()
    report = Report.objects.create(
        period="week", period_start=now - timedelta(days=7), period_end=now, created_at=now, new_orders_count=1,
        new_clients_count=1, total_orders_sum=Decimal("1500"), avg_order_sum=Decimal("1500"),
        completed_orders_count=0,
    )
    return {"client": client, "order": order, "report": report}


# (name, method, path template, body, is a write)
CALLS = [
    ("client add", "post", "/api/clients/add/", {"first_name": "Иван", "last_name": "Петров",
                                                 "email": "new@example.com"}, True),
    ("client get", "post", "/api/clients/get/{client}/", None, False),
    ("client get (GET)", "get", "/api/clients/get/{client}/", None, False),
    ("client list", "post", "/api/clients/get/", {}, False),
    ("client list (GET)", "get", "/api/clients/get/", None, False),
    ("client edit", "post", "/api/clients/edit/{client}/", {"first_name": "Пётр"}, True),
    ("client delete", "delete", "/api/clients/delete/{client}/", None, True),
    ("order add", "post", "/api/orders/add/", {"client": "{client}", "product": "Мышь", "price": "5"}, True),
    ("order get", "post", "/api/orders/get/{order}/", None, False),
    ("order get (GET)", "get", "/api/orders/get/{order}/", None, False),
    ("order list", "post", "/api/orders/get/", {}, False),
    ("order list (GET)", "get", "/api/orders/get/", None, False),
    ("order edit", "post", "/api/orders/edit/{order}/", {"product": "Клавиатура"}, True),
    ("order delete", "delete", "/api/orders/delete/{order}/", None, True),
    ("report new", "post", "/api/reports/new/", {"period": "week"}, True),
    ("report list", "get", "/api/reports/get/", None, False),
    ("report list (POST)", "post", "/api/reports/get/", None, False),
    ("report download", "get", "/api/reports/get/{report}/", None, False),
]
CALL_IDS = [call[0] for call in CALLS]


def _call(api: Api, objects, method, path, body):
    ids = {name: obj.pk for name, obj in objects.items()}
    path = path.format(**ids)
    if body is not None:
        body = {key: value.format(**ids) if isinstance(value, str) else value for key, value in body.items()}
    if method == "post":
        return api.post(path, body, form=True)
    return getattr(api, method)(path)


def _state():
    return (list(Client.objects.values()), list(Order.objects.values()), Report.objects.count())


@pytest.mark.parametrize("method, path, body, write", [call[1:] for call in CALLS], ids=CALL_IDS)
def test_anonymous_gets_401_everywhere(objects, method, path, body, write):
    before = _state()

    response = _call(Api(), objects, method, path, body)

    assert_error(response, 401)
    assert _state() == before


@pytest.mark.parametrize("method, path, body, write", [call[1:] for call in CALLS], ids=CALL_IDS)
def test_viewer_reads_but_cannot_write(viewer_api, objects, method, path, body, write):
    before = _state()

    response = _call(viewer_api, objects, method, path, body)

    if write:
        assert_error(response, 403)
        assert _state() == before
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("user_api", ["manager_api", "superuser_api"])
@pytest.mark.parametrize("method, path, body, write", [call[1:] for call in CALLS], ids=CALL_IDS)
def test_manager_and_superuser_do_everything(request, user_api, objects, method, path, body, write):
    response = _call(request.getfixturevalue(user_api), objects, method, path, body)

    assert response.status_code == 200, response.content[:300]


@pytest.mark.parametrize("method, path, body, write", [call[1:] for call in CALLS], ids=CALL_IDS)
def test_user_without_permissions_gets_403_everywhere(nobody_api, objects, method, path, body, write):
    before = _state()

    assert_error(_call(nobody_api, objects, method, path, body), 403)
    assert _state() == before


def test_a_single_model_permission_is_enough_for_its_calls(nobody, objects):
    from django.contrib.auth.models import Permission

    nobody.user_permissions.add(Permission.objects.get(codename="view_order"))
    api = Api(nobody)

    assert api.get("/api/orders/get/").status_code == 200
    assert_error(api.get("/api/clients/get/"), 403)
    assert_error(api.post("/api/orders/add/", {"client": objects["client"].pk, "product": "x", "price": "1"}), 403)


def test_schema_and_docs_are_public(anonymous_api):
    assert anonymous_api.get("/api/schema/").status_code == 200
    assert anonymous_api.get("/api/docs/").status_code == 200
