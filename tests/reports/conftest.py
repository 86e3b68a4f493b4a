"""Fixtures for the report tests: a fixed "now" and helpers that place rows at exact moments."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm.models import Client, Order
from tests.factories import ClientFactory, OrderFactory

MOSCOW = ZoneInfo("Europe/Moscow")
# 17 December 2024, 21:00 in Moscow (18:00 UTC): the moment the reports in these tests are made.
NOW = datetime(2024, 12, 17, 21, 0, tzinfo=MOSCOW)
LONG_AGO = datetime(2020, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def moscow_time_zone(settings):
    """The contract's time zone, whatever the environment says."""
    settings.TIME_ZONE = "Europe/Moscow"


def make_client(*, added_at: datetime = LONG_AGO, **fields) -> Client:
    return ClientFactory(added_at=added_at, **fields)


def make_order(
    *,
    created_at: datetime,
    client: Client | None = None,
    product: str = "Ноутбук",
    quantity: int = 1,
    price: str = "100.00",
    status: str = Order.Status.PENDING,
) -> Order:
    return OrderFactory(
        client=client or make_client(),
        product=product,
        quantity=quantity,
        price=Decimal(price),
        status=status,
        created_at=created_at,
    )
