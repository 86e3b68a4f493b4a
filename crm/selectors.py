"""Reads of clients and orders, shaped for their callers (admin, API, exports, dashboard)."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import (
    Count, DateField, Exists, F, Func, IntegerField, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import ORDER_TOTAL, Client, Order
from crm.money import MONEY_CONTEXT, amount_from_cents, amount_sum, average_amount, rows_with_cents_sum
from crm.paging import DeepPageQuerySet
from crm.search import search_document, search_terms
from reports import rollups
from reports.models import RollupDay

CLIENT_ORDER_BY_FIELDS = ("id", "first_name", "last_name", "middle_name", "email", "mobile_phone", "added_at")
ORDER_ORDER_BY_FIELDS = ("id", "product", "quantity", "price", "total_price", "status", "created_at")
CLIENT_STATUSES = (*Client.Status.values, "all")
ORDER_STATUSES = (*Order.Status.values, "all")


def _ordering(order_by: str | None, allowed: tuple[str, ...]) -> list[str]:
    """Turn a user's `order_by` into a safe ordering; the id breaks ties so paging is stable."""
    order_by = (order_by or "-id").strip()
    field = order_by.removeprefix("-")
    if field not in allowed:
        raise ValidationError(
            {"order_by": [_("Unknown sort field %(value)s; use one of: %(allowed)s, optionally with '-'.")
                          % {"value": order_by[:50], "allowed": ", ".join(allowed)}]},
            code="invalid",
        )
    if field == "id":
        return [order_by]
    return [order_by, "-id" if order_by.startswith("-") else "id"]


def search_filter(query: str, *fields: str, clients_as_subquery: bool | None = None) -> Q:
    """A Q that keeps rows where every term of the query is found in one of the search fields.

    On PostgreSQL a client's field (`client__search_text`) is matched as `client IN (the clients that
    match)` rather than through a join, so the matching clients come from their index once; SQLite's
    planner shows a page faster with the join (it stops after the page), but counts every match faster
    with the subquery too: `clients_as_subquery=True` asks for it on any database.
    """
    subquery_for_clients = (
        connections[DEFAULT_DB_ALIAS].vendor == "postgresql" if clients_as_subquery is None else clients_as_subquery
    )
    condition = Q()
    for term in search_terms(query):
        term_condition = Q()
        for field_path in fields:
            relation, _separator, name = field_path.rpartition("__")
            # `search_text` columns have a trigram index; `search_contains` uses it (same results as contains).
            lookup = "search_contains" if name == "search_text" else "contains"
            if relation == "client" and subquery_for_clients:
                term_condition |= Q(client__in=Client.objects.filter(**{f"{name}__{lookup}": term}).values("pk"))
            else:
                term_condition |= Q(**{f"{field_path}__{lookup}": term})
        condition &= term_condition
    return condition


def search_order_history(records: QuerySet, query: str) -> QuerySet:
    """The order history records (e.g. deleted orders) where every term of the query is found in the
    order's product or description, or in its client's name, e-mail or phone.

    History keeps no search text of its own (it is left out of the history), so the records are
    matched here, in Python, on the same text an order's `search_text` holds; meant for short lists
    such as the deleted orders.
    """
    terms = search_terms(query)
    if not terms:
        return records
    matching = []
    rows = records.order_by().values_list("history_id", "product", "description", "client__search_text")
    for history_id, product, description, client_text in rows.iterator():
        order_text = search_document(product, description)
        if all(term in order_text or term in (client_text or "") for term in terms):
            matching.append(history_id)
    return records.filter(history_id__in=matching)


def client_list(*, search: str = "", status: str | None = "active", order_by: str | None = "-id") -> QuerySet[Client]:
    """Clients by status, matching a Cyrillic-aware search, in an allowed order."""
    status = status or "active"
    if status not in CLIENT_STATUSES:
        raise ValidationError(
            {"status": [_("Unknown status %(value)s; use active, archived or all.") % {"value": status[:50]}]},
            code="invalid",
        )
    clients = DeepPageQuerySet(model=Client)
    if status != "all":
        clients = clients.filter(status=status)
    if search:
        clients = clients.filter(search_filter(search, "search_text"))
    return clients.order_by(*_ordering(order_by, CLIENT_ORDER_BY_FIELDS))


def _client_orders_aggregate(**aggregate) -> QuerySet[Order]:
    orders = Order.objects.filter(client=OuterRef("pk")).order_by().values("client")
    return orders.annotate(**aggregate).values(*aggregate)


def client_list_with_totals(**filters) -> QuerySet[Client]:
    """client_list() plus each client's number of orders, total spent and last order's time.

    Correlated subqueries (served by the client indexes on orders) rather than a JOIN and GROUP BY,
    so a page of 50 clients aggregates only those clients' orders, not every order.
    """
    # amount_sum(): exact to the kopeck and free of overflow however many orders a client has (crm.money).
    total = amount_sum()
    return client_list(**filters).annotate(
        orders_count=Coalesce(
            Subquery(_client_orders_aggregate(value=Count("pk")), output_field=IntegerField()), Value(0)
        ),
        # A client without orders gets 0, which sorts before any sum on both databases.
        orders_total=Coalesce(
            Subquery(_client_orders_aggregate(value=total), output_field=total.output_field),
            Value(0),
            output_field=total.output_field,
        ),
        # The newest entry of the client's (client, created_at, total_price) index: one step, however many orders.
        last_order_at=Subquery(
            Order.objects.filter(client=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
        ),
    )


def order_list(
    *,
    search: str = "",
    status: str | None = None,
    order_by: str | None = "-id",
    client_id: int | None = None,
    search_clients: bool = False,
) -> QuerySet[Order]:
    """Orders with their client, filtered by status, client and search, in an allowed order.

    `search_clients` also matches the client's name, e-mail and phone (the admin wants this;
    the API's contract searches product and description only).
    """
    if status and status not in ORDER_STATUSES:
        raise ValidationError(
            {"status": [_("Unknown status %(value)s; use Pending, Completed, Cancelled or all.")
                        % {"value": status[:50]}]},
            code="invalid",
        )
    orders = DeepPageQuerySet(model=Order).select_related("client")
    if status and status != "all":
        orders = orders.filter(status=status)
    if client_id is not None:
        orders = orders.filter(client_id=client_id)
    if search:
        fields = ("search_text", "client__search_text") if search_clients else ("search_text",)
        orders = orders.filter(search_filter(search, *fields))
    return orders.order_by(*_ordering(order_by, ORDER_ORDER_BY_FIELDS))


@dataclass(frozen=True)
class OrderListSummary:
    count: int
    total: Decimal


def order_totals_by_status() -> dict[str, dict[str, int]]:
    """{status: {"count": n, "cents": sum}} of every order, from the report rollups' blocks of days (kept exact by
    triggers on every write: reports/rollups.py): a few thousand rows, however many orders there are."""
    totals = {}
    blocks = RollupDay.objects.filter(span=rollups.BLOCK_DAYS).order_by().values_list("status")
    for status, count, hi, lo in blocks.annotate(count=Sum("count"), hi=Sum("hi"), lo=Sum("lo")):
        totals[status] = {"count": int(count), "cents": int(hi) * rollups.SPLIT + int(lo)}
    return totals


def _only_status_filter(orders: QuerySet[Order]) -> str | None | bool:
    """The status an otherwise unfiltered order query asks for; None when it has no condition at all; False
    when it has any other condition."""
    where = orders.query.where
    if not where:
        return None
    if len(where.children) == 1 and not where.negated:
        (condition,) = where.children
        if (
            isinstance(condition, Exact)
            and getattr(condition.lhs, "target", None) == Order._meta.get_field("status")
            and isinstance(condition.rhs, str)
        ):
            return condition.rhs
    return False


def order_list_summary(orders: QuerySet[Order]) -> OrderListSummary:
    """How many orders a (filtered) list holds and the exact sum of their totals, in one aggregate query.

    All orders, or all of one status (the list as it opens, and its status filter), are added up from the report
    rollups instead: the same figures, without reading millions of orders."""
    orders = orders.order_by()
    status = _only_status_filter(orders)
    if status is not False:
        totals = order_totals_by_status()
        chosen = [totals.get(status, {"count": 0, "cents": 0})] if status is not None else list(totals.values())
        return OrderListSummary(
            count=sum(row["count"] for row in chosen), total=amount_from_cents(sum(row["cents"] for row in chosen))
        )
    (figures,) = rows_with_cents_sum(lambda cents: [orders.aggregate(count=Count("pk"), cents=cents)])
    return OrderListSummary(count=figures["count"], total=amount_from_cents(figures["cents"]))


def client_status(client_id) -> str | None:
    """The status of one client, or None when there is no such client."""
    return Client.objects.filter(pk=client_id).values_list("status", flat=True).first()


def clients_with_orders(clients: QuerySet[Client], *, has_orders: bool) -> QuerySet[Client]:
    """The clients that have at least one order (or, with has_orders=False, none)."""
    any_order = Exists(Order.objects.filter(client=OuterRef("pk")))
    return clients.filter(any_order if has_orders else ~any_order)


def deleted_order_list() -> QuerySet:
    """The last history record of every order deleted for good (not restored since), with its total."""
    still_there = Exists(Order.objects.filter(pk=OuterRef("id")))
    return (
        Order.history.filter(history_type="-")
        .exclude(still_there)
        .select_related("client", "history_user")
        .annotate(total=ORDER_TOTAL)
    )


# ---------------------------------------------------------------------------
# The admin dashboard
# ---------------------------------------------------------------------------
CHART_DAYS = 90
NEW_CLIENT_DAYS = 30
LATEST_ORDERS = 10


@dataclass
class DashboardFigures:
    active_clients: int
    new_clients: int
    # The first local day the new clients are counted from, and the first day of this month.
    new_clients_since: date
    month_start: date
    pending_orders: int
    revenue_this_month: Decimal
    revenue_last_month: Decimal
    orders_this_month: int
    average_order_value: Decimal
    # [(status value, label, count, sum)], every status present, in the Status order.
    by_status: list[tuple[str, str, int, Decimal]]
    # [(day, orders count, revenue)] for each of the last CHART_DAYS days, oldest first.
    per_day: list[tuple[date, int, Decimal]]
    latest_orders: list[Order] = field(default_factory=list)

    @property
    def revenue_change_percent(self) -> Decimal | None:
        """This month's revenue against last month's, in percent; None when last month had none."""
        if not self.revenue_last_month:
            return None
        change = (self.revenue_this_month - self.revenue_last_month) / self.revenue_last_month * 100
        return change.quantize(Decimal("0.1"), context=MONEY_CONTEXT)


def local_day(field_name: str, start: datetime, end: datetime):
    """The local calendar day of a datetime column, as an expression to group by.

    On SQLite, TruncDate calls a Python function per row; while the time zone keeps one UTC offset over
    the window (Moscow has no DST), SQLite's own date() with that offset gives the same day natively.
    """
    zone = timezone.get_current_timezone()
    if connection.vendor == "sqlite":
        offsets = {
            timezone.localtime(start + timedelta(days=offset), zone).utcoffset()
            for offset in range((end - start).days + 2)
        }
        offsets.add(timezone.localtime(end, zone).utcoffset())
        if len(offsets) == 1:
            seconds = int(offsets.pop().total_seconds())
            return Func(F(field_name), Value(f"{seconds:+d} seconds"), function="date", output_field=DateField())
    return TruncDate(field_name, tzinfo=zone)


def local_midnight(day: date) -> datetime:
    """The first moment of a local calendar day."""
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def dashboard_figures(*, now: datetime | None = None) -> DashboardFigures:
    """Every figure of the dashboard in four queries, each reading an index over a bounded window."""
    now = timezone.localtime(now or timezone.now())
    month_start = local_midnight(now.date().replace(day=1))
    last_month_start = local_midnight((month_start.date() - timedelta(days=1)).replace(day=1))
    chart_start = local_midnight(now.date() - timedelta(days=CHART_DAYS - 1))
    # From a local midnight, as the client list's "added from" filter counts, so the card and the list agree.
    new_clients_since = local_midnight(now.date() - timedelta(days=NEW_CLIENT_DAYS - 1))
    # One pass over the days that matter: the chart's and last month's (whichever reach further back).
    window_start = min(chart_start, last_month_start)

    clients = Client.objects.aggregate(
        active=Count("id", filter=Q(status=Client.Status.ACTIVE)),
        new=Count("id", filter=Q(added_at__gte=new_clients_since)),
    )
    # Every order by status, from the report rollups (per block of days, status and product: reports/rollups.py);
    # the pending count is one of these rows.
    status_rows = order_totals_by_status()
    # Revenue counts orders that were not cancelled: per local day from the hourly rollup (or, in a time
    # zone whose days do not start on a UTC hour, from the (status, created_at, ...) index).
    earning = [status for status in Order.Status.values if status != Order.Status.CANCELLED]
    days = rollups.local_day_sums(
        start=window_start, end=now, first_day=window_start.date(),
        day_count=(now.date() - window_start.date()).days + 1, statuses=earning,
    )
    if days is not None:
        day_rows = {
            window_start.date() + timedelta(days=offset): {"count": count, "cents": cents}
            for offset, (count, cents) in enumerate(days)
        }
    else:
        day_rows = {
            row["day"]: row
            for row in rows_with_cents_sum(
                lambda cents: Order.objects.filter(status__in=earning, created_at__gte=window_start)
                .annotate(day=local_day("created_at", window_start, now))
                .order_by()
                .values("day")
                .annotate(count=Count("id"), cents=cents)
            )
        }
    # Newest by creation time (an import may add old orders under new ids); (created_at, id) is an index.
    latest = list(Order.objects.select_related("client").order_by("-created_at", "-id")[:LATEST_ORDERS])

    # Month boundaries are local midnights, so the local days add up to the months exactly.
    this_month = [row for day, row in day_rows.items() if day >= month_start.date()]
    orders_this_month = sum(row["count"] for row in this_month)
    cents_this_month = sum(row["cents"] for row in this_month)
    revenue_this_month = amount_from_cents(cents_this_month)
    revenue_last_month = amount_from_cents(
        sum(row["cents"] for day, row in day_rows.items() if last_month_start.date() <= day < month_start.date())
    )
    first_day = chart_start.date()
    per_day = []
    for offset in range(CHART_DAYS):
        day = first_day + timedelta(days=offset)
        row = day_rows.get(day, {})
        per_day.append((day, row.get("count", 0), amount_from_cents(row.get("cents"))))
    return DashboardFigures(
        active_clients=clients["active"],
        new_clients=clients["new"],
        new_clients_since=new_clients_since.date(),
        month_start=month_start.date(),
        pending_orders=status_rows.get(Order.Status.PENDING, {}).get("count", 0),
        revenue_this_month=revenue_this_month,
        revenue_last_month=revenue_last_month,
        orders_this_month=orders_this_month,
        average_order_value=average_amount(cents_this_month, orders_this_month),
        by_status=[
            (value, label, status_rows.get(value, {}).get("count", 0),
             amount_from_cents(status_rows.get(value, {}).get("cents")))
            for value, label in Order.Status.choices
        ],
        per_day=per_day,
        latest_orders=latest,
    )


# ---------------------------------------------------------------------------
# The client page
# ---------------------------------------------------------------------------
@dataclass
class ClientSummary:
    # [(status value, label, count, sum)], every status present, in the Status order.
    by_status: list[tuple[str, str, int, Decimal]]
    orders_count: int
    # What the client spent: the orders that were not cancelled, their sum and average.
    spent_orders_count: int
    total_spent: Decimal
    average_order: Decimal
    first_order_at: datetime | None
    last_order_at: datetime | None


def client_summary(client: Client) -> ClientSummary:
    """A client's orders by status (count and exact sum), total spent, average order, first and last order: one query."""
    rows = {
        row["status"]: row
        for row in rows_with_cents_sum(
            lambda cents: Order.objects.filter(client=client)
            .order_by()
            .values("status")
            .annotate(count=Count("*"), cents=cents, first=Min("created_at"), last=Max("created_at"))
        )
    }
    spent = [row for status, row in rows.items() if status != Order.Status.CANCELLED]
    spent_count = sum(row["count"] for row in spent)
    spent_cents = sum(int(row["cents"] or 0) for row in spent)
    return ClientSummary(
        by_status=[
            (value, label, rows.get(value, {}).get("count", 0), amount_from_cents(rows.get(value, {}).get("cents")))
            for value, label in Order.Status.choices
        ],
        orders_count=sum(row["count"] for row in rows.values()),
        spent_orders_count=spent_count,
        total_spent=amount_from_cents(spent_cents),
        average_order=average_amount(spent_cents, spent_count),
        first_order_at=min((row["first"] for row in rows.values()), default=None),
        last_order_at=max((row["last"] for row in rows.values()), default=None),
    )


# ---------------------------------------------------------------------------
# The command palette (Ctrl+K)
# ---------------------------------------------------------------------------
PALETTE_RESULTS = 10
# "123", "#123", "№ 123": an order's number. At most 18 digits, so it always fits a 64-bit id.
_ORDER_NUMBER = re.compile(r"^(?:#|№)?\s*(\d{1,18})$")


def palette_clients(query: str, *, limit: int = PALETTE_RESULTS) -> list[Client]:
    """Up to `limit` clients (archived ones too) whose name, e-mail or phone match the query, newest first."""
    if not search_terms(query):
        return []
    return list(Client.objects.filter(search_filter(query, "search_text")).order_by("-id")[:limit])


def palette_orders(query: str, *, limit: int = PALETTE_RESULTS) -> list[Order]:
    """Up to `limit` orders: the one the query numbers first, then those whose product or description
    match it, newest first (two queries at most)."""
    orders = Order.objects.select_related("client")
    found = []
    number = _ORDER_NUMBER.match((query or "").strip())
    if number:
        found = list(orders.filter(pk=int(number[1])))
    if search_terms(query) and len(found) < limit:
        matching = orders.filter(search_filter(query, "search_text")).exclude(pk__in=[order.pk for order in found])
        found += list(matching.order_by("-id")[: limit - len(found)])
    return found
