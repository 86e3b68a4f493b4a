"""The rollups behind reports stay exact through every kind of write, and reports built on them equal a full recount."""

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.db import connection
from django.utils import timezone

from crm import services
from crm.importexport.resources import OrderResource
from crm.models import Client, Order
from crm.selectors import dashboard_figures
from crm.money import amount_from_cents, average_amount
from reports import rollups
from reports.models import RollupClientDay, RollupDay, RollupHour, RollupPeriod, RollupPeriodClient
from reports.selectors import report_daily_sums, report_figures
from reports.services import report_window
from tests.importexport.conftest import import_bytes
from tests.reports.conftest import NOW, make_client, make_order

pytestmark = pytest.mark.django_db


def insert_rows(orders: list[Order]) -> None:
    """One raw multi-row INSERT, as a bulk loader would write: no model code, only the triggers see it."""
    for order in orders:
        order.normalize_fields()
    fields = [f for f in Order._meta.concrete_fields if not f.primary_key and not f.generated]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(orders))
    params = [
        field.get_db_prep_save(field.pre_save(order, add=True), connection) for order in orders for field in fields
    ]
    table = connection.ops.quote_name(Order._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}", params)

PRODUCTS = ["Ноутбук", "Мышь", "Монитор", "Кабель", "Стол", "Стул", "Лампа"]


def cents_of(amount) -> int:
    return int(Decimal(amount) * 100)


def recount(start: datetime, end: datetime) -> dict:
    """The report's figures from every order and client, in Python."""
    orders = list(
        Order.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
            "client_id", "status", "product", "total_price"
        )
    )
    by_status = {status: [0, 0] for status in Order.Status.values}
    by_product, by_client = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    for client_id, status, product, total in orders:
        for sums in (by_status[status], by_product[product], by_client[client_id]):
            sums[0] += 1
            sums[1] += cents_of(total)
    total_count = len(orders)
    total_cents = sum(sums[1] for sums in by_status.values())
    names = {client.pk: client.full_name_reversed for client in Client.objects.all()}
    best = lambda rows: sorted(rows.items(), key=lambda item: (-item[1][1], -item[1][0], item[0]))[:5]  # noqa: E731
    return {
        "new_orders_count": total_count,
        "new_clients_count": Client.objects.filter(added_at__gte=start, added_at__lt=end).count(),
        "total_orders_sum": amount_from_cents(total_cents),
        "avg_order_sum": average_amount(total_cents, total_count),
        "completed_orders_count": by_status[Order.Status.COMPLETED][0],
        "status_breakdown": [
            {"status": status, "count": count, "sum": str(amount_from_cents(cents))}
            for status, (count, cents) in by_status.items()
        ],
        "top_products": [
            {"product": product, "count": count, "sum": str(amount_from_cents(cents))}
            for product, (count, cents) in best(by_product)
        ],
        "top_clients": [
            {"client_id": client_id, "name": names[client_id], "count": count, "sum": str(amount_from_cents(cents))}
            for client_id, (count, cents) in best(by_client)
        ],
    }


def recount_days(start: datetime, end: datetime) -> dict:
    return recount_days_of(Order.objects.all(), start, end)


def recount_days_of(orders, start: datetime, end: datetime) -> dict:
    sums = defaultdict(lambda: [0, 0])
    for created_at, total in orders.filter(created_at__gte=start, created_at__lt=end).values_list(
        "created_at", "total_price"
    ):
        day = timezone.localtime(created_at).date()
        sums[day][0] += 1
        sums[day][1] += cents_of(total)
    return {day: (count, amount_from_cents(cents)) for day, (count, cents) in sums.items()}


def rollup_rows() -> dict:
    """Every rollup row that counts something (rows brought back to zero are the same as none)."""

    def rows(model, *fields):
        return sorted(
            tuple(row)
            for row in model.objects.values_list(*fields)
            if any(row[fields.index(name)] for name in ("count", "hi", "lo") if name in fields)
        )

    return {
        "hour": rows(RollupHour, "hour", "status", "count", "hi", "lo"),
        "day": rows(RollupDay, "span", "day", "status", "product", "count", "hi", "lo"),
        "client_day": rows(RollupClientDay, "day", "count"),
        "period": rows(RollupPeriodClient, "period", "client_id", "count", "hi", "lo"),
    }


def assert_rollups_equal_a_rebuild():
    windows = dict(RollupPeriod.objects.values_list("period", "first_hour").order_by())
    ends = dict(RollupPeriod.objects.values_list("period", "end_hour").order_by())
    kept = rollup_rows()
    for sums in kept["hour"] + kept["day"]:
        assert 0 <= sums[-1] < rollups.SPLIT  # normalised
    rollups.rebuild(now=NOW)
    for period in windows:
        rollups.period_move(period, windows[period], ends[period])
    rebuilt = rollup_rows()
    rebuilt["period"] = [row for row in rebuilt["period"] if row[0] in windows]  # a flush leaves some out
    assert rebuilt == kept


def assert_reports_equal_a_recount(now: datetime):
    for period in ("week", "month", "year"):
        start, end = report_window(period=period, now=now)
        assert report_figures(start=start, end=end) == recount(start, end), (period, now)
    start, end = report_window(period="month", now=now)
    expected = recount_days(start, end)
    for day, count, total in report_daily_sums(start=start, end=end):
        assert (count, total) == expected.get(day, (0, Decimal("0.00"))), day
    # The dashboard reads the same rollups: every order by status, and the revenue per local day.
    dashboard = dashboard_figures(now=now)
    everything = recount(datetime(1970, 1, 2, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))["status_breakdown"]
    assert [(status, count, str(total)) for status, _label, count, total in dashboard.by_status] == [
        (row["status"], row["count"], row["sum"]) for row in everything
    ]
    first = dashboard.per_day[0][0]
    earning = recount_days_of(
        Order.objects.exclude(status=Order.Status.CANCELLED),
        timezone.make_aware(datetime.combine(first, datetime.min.time())), now,
    )
    assert [(count, total) for _day, count, total in dashboard.per_day] == [
        earning.get(day, (0, Decimal("0.00"))) for day, _count, _total in dashboard.per_day
    ]


def random_moment(rng: random.Random) -> datetime:
    if rng.random() < 0.2:
        # Right on a UTC midnight or hour: the edges between rollup buckets and partial days.
        midnight = datetime(2024, 12, 17, tzinfo=UTC) - timedelta(days=rng.randrange(40))
        return midnight + timedelta(hours=rng.choice([0, 0, 1, 21]), microseconds=rng.choice([0, 0, 1]))
    return NOW - timedelta(seconds=rng.randrange(-3 * 86400, 400 * 86400), microseconds=rng.randrange(10**6))


def random_write(rng: random.Random, clients: list[Client]) -> None:
    orders = list(Order.objects.order_by("?")[:5])
    action = rng.randrange(13)
    if action <= 2 or not orders:
        order = services.order_create(
            client=rng.choice(clients), product=rng.choice(PRODUCTS), quantity=rng.randint(1, 5),
            price=Decimal(rng.randint(0, 10**6)) / 100, status=rng.choice(Order.Status.values),
        )
        Order.objects.filter(pk=order.pk).update(created_at=random_moment(rng))
    elif action == 3:
        make_order(created_at=random_moment(rng), client=rng.choice(clients), product=rng.choice(PRODUCTS),
                   price=str(Decimal(rng.randint(0, 10**5)) / 100), status=rng.choice(Order.Status.values))
    elif action == 4:
        order = orders[0]
        changes = rng.choice([
            {"status": rng.choice(Order.Status.values)},
            {"product": rng.choice(PRODUCTS)},
            {"client": rng.choice(clients)},
            {"quantity": rng.randint(1, 9), "price": Decimal(rng.randint(0, 10**7)) / 100},
            {"description": "только описание"},
        ])
        services.order_update(order=order, **changes)
    elif action == 5:
        Order.objects.filter(pk=orders[0].pk).update(created_at=random_moment(rng))
    elif action == 6:
        services.order_delete(order=orders[0])
    elif action == 7:
        deleted = Order.history.filter(history_type="-").exclude(id__in=Order.objects.values("pk")).first()
        if deleted is not None:
            services.order_restore(history_record=deleted)
    elif action == 8:
        services.orders_set_status(
            orders=Order.objects.filter(pk__in=[order.pk for order in orders]), status=rng.choice(Order.Status.values)
        )
    elif action == 9:
        Order.objects.filter(pk__in=[order.pk for order in orders[:3]]).delete()
    elif action == 10:
        # The history page's "revert": the oldest record of an order saved over it.
        order = orders[0]
        services.order_update(order=order, status=rng.choice(Order.Status.values), product=rng.choice(PRODUCTS))
        order.history.order_by("history_date", "history_id").first().instance.save()
    elif action == 11:
        client = rng.choice(clients)
        rows = "".join(
            f",{client.email},{rng.choice(PRODUCTS)},{rng.randint(1, 3)},{rng.randint(1, 9999)}.{rng.randint(10, 99)},Завершён\n"
            for _ in range(3)
        )
        # And one existing order changed by its id.
        rows += f"{orders[0].pk},{orders[0].client.email},{rng.choice(PRODUCTS)},7,1.25,Отменён\n"
        result = import_bytes(OrderResource, "ID,E-mail клиента,Товар,Количество,Цена,Статус\n" + rows)
        assert not result.has_errors() and not result.has_validation_errors()
        Order.objects.filter(created_at__gt=NOW + timedelta(days=5)).update(
            created_at=F("created_at") - (timezone.now() - NOW) - timedelta(hours=rng.randrange(24 * 30))
        )
    else:
        # Raw-SQL inserts (the data generator) and a client that comes and goes.
        insert_rows([
            Order(client=rng.choice(clients), product=rng.choice(PRODUCTS), quantity=2,
                  price=Decimal(rng.randint(0, 10**6)) / 100, status=Order.Status.COMPLETED,
                  created_at=random_moment(rng))
            for _ in range(3)
        ])
        services.client_delete(client=make_client(added_at=random_moment(rng)))
        clients.append(make_client(added_at=random_moment(rng)))


@pytest.mark.parametrize("seed", [1, 2])
def test_rollup_reports_equal_a_full_recount_through_random_writes_and_days(seed):
    rng = random.Random(seed)
    clients = [make_client(added_at=random_moment(rng)) for _ in range(6)]
    for _ in range(40):
        make_order(created_at=random_moment(rng), client=rng.choice(clients), product=rng.choice(PRODUCTS),
                   price=str(Decimal(rng.randint(0, 10**6)) / 100), status=rng.choice(Order.Status.values))
    # Reports made at moments that move the windows forward, back, by hours and by months.
    moments = [NOW, NOW + timedelta(hours=3), NOW + timedelta(days=1), NOW - timedelta(days=2),
               NOW + timedelta(days=40), NOW, NOW - timedelta(hours=21)]
    for step in range(len(moments) * 3):
        for _ in range(6):
            random_write(rng, clients)
        if step % 3 == 2:
            assert_reports_equal_a_recount(moments[step // 3])
    assert_rollups_equal_a_rebuild()
    assert_reports_equal_a_recount(NOW)


def test_large_totals_stay_exact_in_the_split_sums():
    client = make_client()
    largest = Decimal("99999999.99")  # × 10 000 = 999 999 999 900.00, just under the cap
    for hours in range(1, 4):
        make_order(created_at=NOW - timedelta(days=2, hours=hours), client=client, quantity=10_000,
                   price=str(largest))
    make_order(created_at=NOW - timedelta(days=2), client=client, price="0.01")
    figures = report_figures(start=NOW - timedelta(days=7), end=NOW)
    expected = 3 * 10_000 * largest + Decimal("0.01")
    assert figures["total_orders_sum"] == expected
    assert figures["top_clients"][0]["sum"] == str(expected)
    Order.objects.filter(price=Decimal("0.01")).delete()
    assert report_figures(start=NOW - timedelta(days=7), end=NOW)["total_orders_sum"] == expected - Decimal("0.01")
    assert_rollups_equal_a_rebuild()


def test_a_window_longer_than_a_year_and_one_inside_a_day_are_counted_too():
    client = make_client(added_at=NOW - timedelta(days=500))
    make_order(created_at=NOW - timedelta(days=499), client=client, price="5.00")
    make_order(created_at=NOW - timedelta(hours=2), client=client, price="7.00")
    for start, end in ((NOW - timedelta(days=600), NOW), (NOW - timedelta(hours=3), NOW - timedelta(hours=1))):
        assert report_figures(start=start, end=end) == recount(start, end)


def test_rebuild_rollups_command_recomputes_what_was_lost():
    from django.core.management import call_command

    make_order(created_at=NOW - timedelta(days=3), price="12.34")
    kept = rollup_rows()
    RollupDay.objects.all().delete()
    RollupHour.objects.all().delete()
    call_command("rebuild_rollups")
    assert rollup_rows()["day"] == kept["day"] and rollup_rows()["hour"] == kept["hour"]


@pytest.mark.skipif(connection.vendor not in ("sqlite", "postgresql"), reason="triggers on SQLite and PostgreSQL")
def test_pausing_the_triggers_for_a_bulk_load_rebuilds_at_the_end():
    client = make_client()
    with rollups.rollups_rebuilt_after():
        insert_rows([
            Order(client=client, product="Мышь", quantity=1, price=Decimal("3.00"), created_at=NOW - timedelta(days=n))
            for n in range(1, 20)
        ])
    start, end = report_window(period="month", now=NOW)
    assert report_figures(start=start, end=end) == recount(start, end)
    assert_rollups_equal_a_rebuild()


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/St_Johns", "Asia/Kolkata", "Europe/Moscow"])
def test_chart_days_are_local_days_in_any_time_zone(settings, zone):
    # Berlin and St. John's change their clocks on 30 March / 9 March 2025 (whole and half hours);
    # Kolkata is half an hour off every UTC hour (read from the orders).
    settings.TIME_ZONE = zone
    rng = random.Random(zone)
    around = datetime(2025, 3, 20, tzinfo=UTC)
    for _ in range(120):
        make_order(created_at=around + timedelta(minutes=rng.randrange(-40 * 1440, 40 * 1440)),
                   price=str(Decimal(rng.randint(1, 10**5)) / 100))
    now = timezone.localtime(around + timedelta(days=15, minutes=7))
    start, end = report_window(period="month", now=now)
    expected = recount_days(start, end)
    days = report_daily_sums(start=start, end=end)
    assert sum(count for _day, count, _total in days) == Order.objects.filter(
        created_at__gte=start, created_at__lt=end).count()
    for day, count, total in days:
        assert (count, total) == expected.get(day, (0, Decimal("0.00"))), day
    assert report_figures(start=start, end=end) == recount(start, end)
