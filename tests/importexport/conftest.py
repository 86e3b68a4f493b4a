import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from crm.importexport.formats import CsvFormat, JsonFormat, XlsxFormat, export_options
from crm.models import Client, Order
from crm.importexport.resources import ClientResource, OrderResource
from tests.factories import ClientFactory, OrderFactory

FORMATS = {"csv": CsvFormat, "xlsx": XlsxFormat, "json": JsonFormat}


def at(day, hour=10, minute=0, second=0):
    """An aware time with whole seconds (files keep seconds, not microseconds)."""
    return timezone.make_aware(dt.datetime(2024, 3, day, hour, minute, second))


def export_bytes(resource_class, fmt: str, queryset=None) -> bytes:
    """Export as the admin does: the resource's dataset through our format class."""
    file_format = FORMATS[fmt]()
    resource = resource_class()
    queryset = queryset if queryset is not None else resource_class._meta.model.objects.order_by("id")
    dataset = resource.export(queryset, **export_options(file_format))
    data = file_format.export_data(dataset)
    return data.encode("utf-8") if isinstance(data, str) else data


def import_bytes(resource_class, data: bytes | str, fmt: str = "csv", *, dry_run=False, **kwargs):
    if isinstance(data, str):
        data = data.encode("utf-8")
    dataset = FORMATS[fmt]().create_dataset(data)
    return resource_class().import_data(dataset, dry_run=dry_run, **kwargs)


def client_rows():
    return sorted(
        Client.objects.values_list(
            "last_name", "first_name", "middle_name", "email", "mobile_phone", "status", "added_at", "search_text"
        )
    )


def order_rows():
    return sorted(
        Order.objects.values_list(
            "client__email", "product", "quantity", "price", "total_price", "description", "status", "created_at",
            "search_text",
        )
    )


@pytest.fixture
def sample_data(db):
    """Clients and orders with the awkward values a real file has: Cyrillic, ё, formulas (also after a `,` or
    `;`, where a reader splitting on them would start a cell), empties."""
    ivanov = ClientFactory(
        last_name="Иванов", first_name="Иван", middle_name="", email="ivanov@example.com",
        mobile_phone="+7 (900) 123-45-67", added_at=at(1),
    )
    fedorova = ClientFactory(
        last_name="Фёдорова", first_name="Алёна", middle_name="=HYPERLINK(\"http://evil\")", email="alena@example.com",
        mobile_phone="", added_at=at(2, 23, 59, 59), status=Client.Status.ARCHIVED,
    )
    plain = ClientFactory(last_name="O'Brien", first_name="Сергей", middle_name="'quoted", email="sergey@example.com",
                          mobile_phone="89001112233", added_at=at(3))
    OrderFactory(client=ivanov, product="Ноутбук", quantity=2, price=Decimal("1500.50"), description="",
                 created_at=at(5, 21), status=Order.Status.COMPLETED)
    OrderFactory(client=ivanov, product="@SUM(A1)", quantity=1, price=Decimal("0.00"),
                 description="- пункт первый\n- пункт второй\n'=уже с апострофом", created_at=at(6),
                 status=Order.Status.PENDING)
    OrderFactory(client=fedorova, product="Монитор \"27\"", quantity=3, price=Decimal("99999999.99"),
                 description="+1 подарок;=HYPERLINK(\"http://evil\"), \"-5%\",'x,\t@y", created_at=at(7, 0, 0, 1),
                 status=Order.Status.CANCELLED)
    OrderFactory(client=plain, product="Мышь; беспроводная", quantity=1, price=Decimal("990.10"),
                 description="Доставка, этаж 3", created_at=at(8))
    return {"ivanov": ivanov, "fedorova": fedorova, "plain": plain}


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted by their English msgids (Django's own are translated to Russian otherwise)."""
    with translation.override("en"):
        yield


@pytest.fixture
def wipe():
    def _wipe():
        Order.objects.all().delete()
        Client.objects.all().delete()
        Order.history.all().delete()
        Client.history.all().delete()

    return _wipe


__all__ = ["ClientResource", "OrderResource"]
