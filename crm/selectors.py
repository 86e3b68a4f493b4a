"""Reads of clients and orders, shaped for their callers (admin, API, exports)."""

from django.core.exceptions import EmptyResultSet, FullResultSet, ValidationError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Count, DecimalField, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.expressions import Col, RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact, Lookup
from django.db.models.sql.datastructures import BaseTable
from django.db.models.sql.where import AND, WhereNode
from django.utils.translation import gettext as _

from crm.models import Client, Order
from crm.search import SearchContains, fts_all_phrases, search_document, search_terms

for _model in (Client, Order):
    _model._meta.get_field("search_text").register_lookup(SearchContains)

CLIENT_ORDER_BY_FIELDS = ("id", "first_name", "last_name", "middle_name", "email", "mobile_phone", "added_at")
ORDER_ORDER_BY_FIELDS = ("id", "product", "quantity", "price", "total_price", "status", "created_at")
CLIENT_STATUSES = ("active", "archived", "all")
ORDER_STATUSES = tuple(Order.Status.values) + ("all",)
# From this offset on, a page first finds its ids, then joins only those rows (see DeepPageQuerySet).
DEEP_PAGE_OFFSET = 1000
# PostgreSQL keeps row counts per block of 2**ID_BLOCK_BITS ids (migration 0007, same value there).
ID_BLOCK_BITS = 11
ID_COUNTED_TABLES = ("crm_client", "crm_order")


class DeepPageQuerySet(QuerySet):
    """A QuerySet whose pages stay fast on large tables. Two kinds of page are rewritten:

    - a search ordered by id (SQLite): the FTS5 index lists its matches in rowid order, so
      `qs[0:50]` asks it for just those 50 ids (the index stops early) instead of collecting all
      16,000 matches of a common word first (see `_search_index_page`);
    - a deep page, `qs[100000:100050]`: one query picks the page's ids from an index and joins the
      related rows for those 50 only, instead of for all 100,050 rows the database steps over;
      on PostgreSQL, a deep page ordered by id (of all rows or of one status) first finds the block
      of ids it starts in from the per-block row counts and steps over at most one block
      (see `_counted_page`).

    Both return the same rows, in the same order, as the plain slice.
    """

    def __getitem__(self, k):
        if not self._is_page(k):
            return super().__getitem__(k)
        search_page = self._search_index_page(k.start or 0, k.stop)
        if search_page is not None:
            return search_page
        if (k.start or 0) < DEEP_PAGE_OFFSET:
            return super().__getitem__(k)
        counted_page = self._counted_page(k.start, k.stop)
        if counted_page is not None:
            return counted_page
        page_ids = self.values("pk")
        _drop_joins_no_condition_needs(page_ids.query)
        return self._page_of(QuerySet.__getitem__(page_ids, k))

    def _page_of(self, page_ids):
        page = self._chain()
        # The page's ids already satisfy every filter; evaluating them again would only cost time.
        page.query.where = WhereNode()
        return page.filter(pk__in=page_ids)

    def _is_page(self, k) -> bool:
        return (
            isinstance(k, slice)
            and k.step is None
            and k.stop is not None
            and 0 <= (k.start or 0) < k.stop
            and self._result_cache is None
            and not self.query.is_sliced
            and not self.query.annotations
            and not self.query.distinct
            and not self.query.combinator
            and connections[self.db].features.allow_sliced_subqueries_with_in
        )

    def _search_index_page(self, start: int, stop: int):
        """The page as `pk IN (ids from the FTS5 index, in rowid order, LIMIT/OFFSET)`, or None when the
        query is not an id-ordered search whose every condition is on the searched table itself."""
        ordering = tuple(self.query.order_by)
        if ordering not in (("-id",), ("id",), ("-pk",), ("pk",)) or self.query.extra_order_by or self.query.extra:
            return None
        connection = connections[self.db]
        table = self.model._meta.db_table
        if not self.query.where or not isinstance(self.query.alias_map.get(table), BaseTable):
            return None
        compiler = self.query.get_compiler(connection=connection)
        fts_table, phrases, conditions, params = None, [], [], []
        for condition in _and_conditions(self.query.where):
            if condition is None:
                return None
            if (isinstance(condition, SearchContains) and condition.lhs.alias == table
                    and condition.fts_table(connection)):
                fts_table = condition.fts_table(connection)
                phrases.append(condition.rhs)
                continue
            # Any other condition must be a plain comparison on the searched table (status, client, short term).
            if not (isinstance(condition, Lookup) and isinstance(condition.lhs, Col) and condition.lhs.alias == table
                    and not hasattr(condition.rhs, "resolve_expression")):
                return None
            try:
                sql, condition_params = compiler.compile(condition)
            except (EmptyResultSet, FullResultSet):
                return None
            conditions.append(sql)
            params.extend(condition_params)
        if not phrases:
            return None
        quote = connection.ops.quote_name
        fts, rowid = quote(fts_table), f"{quote(fts_table)}.rowid"
        join = f" INNER JOIN {quote(table)} ON {quote(table)}.{quote(self.model._meta.pk.column)} = {rowid}"
        direction = "DESC" if ordering[0].startswith("-") else "ASC"
        sql = (
            f"SELECT {rowid} FROM {fts}{join if conditions else ''} "
            f"WHERE {' AND '.join([f'{fts} MATCH %s', *conditions])} "
            f"ORDER BY {rowid} {direction} LIMIT {int(stop) - int(start)} OFFSET {int(start)}"
        )
        return self._page_of(RawSQL(sql, [fts_all_phrases(phrases), *params]))


    def _counted_page(self, start: int, stop: int):
        """The page as `pk IN (ids after a jump to the right block)` on PostgreSQL, or None unless the
        query is ordered by id and filters on nothing but (at most) its status.

        One statement, so the counts and the rows come from the same snapshot: the block the page starts
        in is the last one whose rows before it (in page order) are no more than `start`. Without any
        counts it is the plain OFFSET.
        """
        connection = connections[self.db]
        table = self.model._meta.db_table
        ordering = tuple(self.query.order_by)
        if (connection.vendor != "postgresql" or table not in ID_COUNTED_TABLES
                or ordering not in (("-id",), ("id",), ("-pk",), ("pk",))
                or self.query.extra_order_by or self.query.extra):
            return None
        statuses = []
        for condition in _and_conditions(self.query.where):
            if not (isinstance(condition, Exact) and isinstance(condition.lhs, Col) and condition.lhs.alias == table
                    and condition.lhs.target.name == "status" and isinstance(condition.rhs, str)):
                return None
            statuses.append(condition.rhs)
        if len(statuses) > 1:
            return None
        descending = ordering[0].startswith("-")
        quote = connection.ops.quote_name
        status_filter = "AND status = %s" if statuses else ""
        row_filter = f"AND {quote(table)}.status = %s" if statuses else ""
        # Rows before a block in page order: those in the blocks above it (descending) or below it.
        before_order, pick_order = ("DESC", "ASC") if descending else ("ASC", "DESC")
        page_bound = (f"id < COALESCE((SELECT (block + 1) << {ID_BLOCK_BITS} FROM start), 9223372036854775807)"
                      if descending else f"id >= COALESCE((SELECT block << {ID_BLOCK_BITS} FROM start), 0)")
        sql = f"""
            WITH blocks AS (
                SELECT block, sum(row_count) AS row_count FROM (
                    SELECT block, row_count FROM crm_id_block WHERE table_name = %s {status_filter}
                    UNION ALL
                    SELECT block, row_count FROM crm_id_block_change WHERE table_name = %s {status_filter}
                ) AS counts
                GROUP BY block
            ), start AS (
                SELECT block, rows_before FROM (
                    SELECT block, sum(row_count) OVER (ORDER BY block {before_order}) - row_count AS rows_before
                    FROM blocks
                ) AS positions
                WHERE rows_before <= %s ORDER BY block {pick_order} LIMIT 1
            )
            SELECT {quote(table)}.id FROM {quote(table)}
            WHERE {quote(table)}.{page_bound} {row_filter}
            ORDER BY {quote(table)}.id {"DESC" if descending else "ASC"}
            LIMIT {int(stop) - int(start)} OFFSET %s - COALESCE((SELECT rows_before FROM start), 0)
        """
        params = [table, *statuses, table, *statuses, int(start), *statuses, int(start)]
        return self._page_of(RawSQL(sql, params))


def _drop_joins_no_condition_needs(query) -> None:
    """Leave out of an id query the joins only its former columns used (`values("pk")` after
    `values_list("client__email", ...)` still joins crm_client, for every row it steps over).

    Only when every such join follows a foreign key forwards: one row at most per row, and the
    key's constraint means the join keeps every row, so the ids are the same without it."""
    needed = {col.alias for col in query._gen_cols([query.where])}
    for alias in list(needed):
        while (parent := getattr(query.alias_map.get(alias), "parent_alias", None)) is not None:
            needed.add(parent)
            alias = parent
    unused = [alias for alias, join in query.alias_map.items()
              if alias not in needed and query.alias_refcount[alias] and getattr(join, "join_field", None) is not None]
    for alias in unused:
        field = query.alias_map[alias].join_field
        if not (field.concrete and (field.many_to_one or field.one_to_one)):
            return
    for alias in unused:
        query.alias_refcount[alias] = 0


def _and_conditions(node):
    """The conditions of a WHERE tree that are all ANDed together; None stands for any part that is not
    (an OR of several conditions, a negation)."""
    if not isinstance(node, WhereNode):
        yield node
        return
    if node.negated or (node.connector != AND and len(node.children) > 1):
        yield None
        return
    for child in node.children:
        yield from _and_conditions(child)


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
    """A Q that keeps rows where every term of the query is found in one of the search fields.

    On PostgreSQL a client's field (`client__search_text`) is matched as `client IN (the clients
    that match)`, not through a join: the matching clients come from their index once, instead of
    every order's client being looked up and tested in turn (for a surname, 90–450 ms became
    20–30 ms on 200,000 orders). SQLite keeps the join, which its planner handles better (the
    subquery made it collect and sort every match of a common product word).
    """
    subquery_for_clients = connections[DEFAULT_DB_ALIAS].vendor == "postgresql"
    condition = Q()
    for term in search_terms(query):
        term_condition = Q()
        for field in fields:
            relation, _separator, name = field.rpartition("__")
            # `search_text` columns have a trigram index; `search_contains` uses it (same results as contains).
            lookup = "search_contains" if name == "search_text" else "contains"
            if relation == "client" and subquery_for_clients:
                term_condition |= Q(client__in=Client.objects.filter(**{f"{name}__{lookup}": term}).values("pk"))
            else:
                term_condition |= Q(**{f"{field}__{lookup}": term})
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
    """client_list() plus each client's number of orders and total spent.

    Correlated subqueries (served by the client indexes on orders) rather than a JOIN and GROUP BY,
    so a page of 50 clients aggregates only those clients' orders, not every order.
    """
    money = DecimalField(max_digits=18, decimal_places=2)
    return client_list(**filters).annotate(
        orders_count=Coalesce(
            Subquery(_client_orders_aggregate(value=Count("pk")), output_field=IntegerField()), Value(0)
        ),
        orders_total=Coalesce(
            Subquery(_client_orders_aggregate(value=Sum("total_price")), output_field=money),
            Value(0),
            output_field=money,
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
