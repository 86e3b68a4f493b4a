"""Load the Russian demo set from fixtures/demo.json, with dates relative to today."""

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from crm.models import Client, Order

DEMO_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo.json"


def _moment(row: dict, now: datetime) -> datetime:
    """`days_ago` days before now, at the row's hour:minute in the server's time zone (never in the future)."""
    local_now = timezone.localtime(now)
    moment = (local_now - timedelta(days=row["days_ago"])).replace(
        hour=row.get("hour", 12), minute=row.get("minute", 0), second=0, microsecond=0
    )
    return min(moment, local_now - timedelta(minutes=1))


class Command(BaseCommand):
    help = _(
        "Load the demo clients and orders (fixtures/demo.json) with dates relative to today. "
        "Clients already present (same e-mail) are skipped, so running it twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help=_("Do nothing when the database already has any client.")
        )
        parser.add_argument("--file", default=str(DEMO_FILE), help=_("The demo set to load."))

    def handle(self, *args, if_empty=False, file=str(DEMO_FILE), **options):
        if if_empty and Client.objects.exists():
            self.stdout.write(_("The database already has clients; demo data not loaded."))
            return
        with open(file, encoding="utf-8") as fh:
            demo = json.load(fh)
        now = timezone.now()
        with transaction.atomic():
            clients_created, orders_created = self._load(demo, now)
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo data loaded: %(clients)d clients, %(orders)d orders.")
                % {"clients": clients_created, "orders": orders_created}
            )
        )

    def _load(self, demo: dict, now: datetime) -> tuple[int, int]:
        emails = [row["email"].strip().lower() for row in demo["clients"]]
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
