"""Reads of clients and orders, shaped for their callers (admin, API, exports)."""

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.db.models.sql.where import WhereNode
from django.utils.translation import gettext as _

from crm.models import Client, Order
from crm.search import SearchContains, search_terms

for _model in (Client, Order):
    _model._meta.get_field("search_text").register_lookup(SearchContains)

CLIENT_ORDER_BY_FIELDS = ("id", "first_name", "last_name", "middle_name", "email", "mobile_phone", "added_at")
ORDER_ORDER_BY_FIELDS = ("id", "product", "quantity", "price", "total_price", "status", "created_at")
CLIENT_STATUSES = ("active", "archived", "all")
ORDER_STATUSES = tuple(Order.Status.values) + ("all",)
# From this offset on, a page first finds its ids, then joins only those rows (see DeepPageQuerySet).
DEEP_PAGE_OFFSET = 1000


class DeepPageQuerySet(QuerySet):
    """A QuerySet whose deep pages stay fast: `qs[100000:100050]` becomes one query that picks the
    page's ids from an index and joins the related rows for those 50 only, instead of for all
    100,050 rows the database steps over."""

    def __getitem__(self, k):
        if not self._is_deep_page(k):
            return super().__getitem__(k)
        page_ids = QuerySet.__getitem__(self.values("pk"), k)
        page = self._chain()
        # The page's ids already satisfy every filter; evaluating them again would only cost time.
        page.query.where = WhereNode()
        return page.filter(pk__in=page_ids)

    def _is_deep_page(self, k) -> bool:
        return (
            isinstance(k, slice)
            and k.step is None
            and k.stop is not None
            and (k.start or 0) >= DEEP_PAGE_OFFSET
            and self._result_cache is None
            and not self.query.is_sliced
            and not self.query.annotations
            and not self.query.distinct
            and not self.query.combinator
            and connections[self.db].features.allow_sliced_subqueries_with_in
        )


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


def search_filter(query: str, *fields: str) -> Q:
    """A Q that keeps rows where every term of the query is found in one of the search fields."""
    condition = Q()
    for term in search_terms(query):
        term_condition = Q()
        for field in fields:
            # `search_text` columns have a trigram index; `search_contains` uses it (same results as contains).
            lookup = "search_contains" if field.rsplit("__", 1)[-1] == "search_text" else "contains"
            term_condition |= Q(**{f"{field}__{lookup}": term})
        condition &= term_condition
    return condition


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


def client_list_with_totals(**filters) -> QuerySet[Client]:
    """client_list() plus each client's number of orders and total spent, in the same query."""
    return client_list(**filters).annotate(
        orders_count=Count("orders"),
        orders_total=Coalesce(Sum("orders__total_price"), Value(0), output_field=DecimalField(max_digits=18, decimal_places=2)),
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
