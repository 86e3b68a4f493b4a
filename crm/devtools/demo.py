"""The Russian demo set (fixtures/demo.json, dates relative to today) and the demo manager account."""

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from crm.models import Client, Order, normalize_email

DEMO_USERNAME = "test"
DEMO_PASSWORD = "test"


def demo_file() -> Path:
    """The demo set shipped with the project."""
    return Path(settings.BASE_DIR) / "fixtures" / "demo.json"


def load_demo(path: str | Path, *, if_empty: bool = False) -> tuple[int, int] | None:
    """Load the demo set at `path` in one transaction; the clients and orders created, or None when `if_empty`
    and the database already has a client. Clients already present (same e-mail) are skipped with their orders."""
    if if_empty and Client.objects.exists():
        return None
    with open(path, encoding="utf-8") as fh:
        demo = json.load(fh)
    now = timezone.now()
    with transaction.atomic():
        return _load(demo, now)


def _moment(row: dict, now: datetime) -> datetime:
    """`days_ago` days before now, at the row's hour:minute in the server's time zone."""
    local_now = timezone.localtime(now)
    return (local_now - timedelta(days=row["days_ago"])).replace(
        hour=row.get("hour", 12), minute=row.get("minute", 0), second=0, microsecond=0
    )


def _timeline_end(demo: dict, now: datetime) -> datetime:
    """The `now` the demo's days count back from: today, or yesterday while today's working day is still ahead.

    The whole set moves back together, so orders keep their working-day times (not all piled up at the moment of
    loading, as at 02:00) and still come after their clients.
    """
    end = now
    while max(_moment(row, end) for row in [*demo["clients"], *demo["orders"]]) > now:
        end -= timedelta(days=1)
    return end


def _load(demo: dict, now: datetime) -> tuple[int, int]:
    now = _timeline_end(demo, now)
    emails = [normalize_email(row["email"]) for row in demo["clients"]]
    existing = set(Client.objects.filter(email__in=emails).values_list("email", flat=True))
    new_clients: dict[int, Client] = {}
    for index, row in enumerate(demo["clients"]):
        if emails[index] in existing:
            continue
        client = Client(
            first_name=row["first_name"],
            last_name=row["last_name"],
            middle_name=row.get("middle_name", ""),
            mobile_phone=row.get("mobile_phone", ""),
            email=row["email"],
            status=row.get("status", Client.Status.ACTIVE),
            added_at=_moment(row, now),
        )
        client.normalize_fields()
        client.full_clean(validate_constraints=False, validate_unique=False)
        new_clients[index] = client
    bulk_create_with_history(list(new_clients.values()), Client, batch_size=500)

    orders = []
    for row in demo["orders"]:
        client = new_clients.get(row["client"])
        if client is None:  # Its client was there before: its orders were loaded with it.
            continue
        order = Order(
            client=client,
            product=row["product"],
            quantity=row.get("quantity", 1),
            price=Decimal(row["price"]),
            description=row.get("description", ""),
            status=row.get("status", Order.Status.PENDING),
            created_at=_moment(row, now),
        )
        order.normalize_fields()
        order.full_clean(validate_constraints=False, exclude=["client"])
        orders.append(order)
    orders.sort(key=lambda order: order.created_at)
    bulk_create_with_history(orders, Order, batch_size=500)
    return len(new_clients), len(orders)


def ensure_demo_user() -> bool:
    """Create or reset the demo manager test / test (staff, active, in Managers); True if it was created."""
    with transaction.atomic():
        user, created = User.objects.get_or_create(username=DEMO_USERNAME)
        user.is_staff = True
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.add(Group.objects.get(name="Managers"))
    return created
