"""The ORM machinery behind fast pages of large tables, kept apart from the plain queries in selectors.py."""

from collections.abc import Callable, Hashable
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ValuesIterable, ValuesListIterable
from django.db.models.expressions import Col, RawSQL
from django.db.models.lookups import Exact, Lookup
from django.db.models.sql.datastructures import BaseTable
from django.db.models.sql.where import AND, WhereNode

from crm.search import SearchContains, fts_all_phrases

# From this offset on, a page first finds its ids, then joins only those rows (see DeepPageQuerySet).
DEEP_PAGE_OFFSET = 1000
# PostgreSQL keeps row counts per block of 2**ID_BLOCK_BITS ids (migration 0007, same value there).
ID_BLOCK_BITS = 11
ID_COUNTED_TABLES = ("crm_client", "crm_order")
# A deep page first sums the counts of the 4 blocks per 2**ID_BLOCK_BITS rows it skips nearest its end of the table
# (see DeepPageQuerySet._counted_page): enough while a quarter of their ids are there.
NEAR_BLOCKS_PER_FULL_BLOCK = 4

# Compiled SQL of recently served pages (see page_rows) per database connection, kept on the connection object:
# each worker thread has its own, and the pages go with it.
_COMPILED_PAGES_MAX = 256


@dataclass
class CompiledPage:
    compiler: object
    sql: str | None  # None: the page is empty whatever the data (e.g. `pk IN ()`)
    params: tuple | None  # None: the values are written in the SQL (PostgreSQL), see page_rows
    converters: dict
    dict_keys: list | None  # the names of a values() page's columns; None for values_list()
    uses: int = 0


def _compiled_pages(connection) -> dict:
    pages = getattr(connection, "crm_compiled_pages", None)
    if pages is None:
        pages = connection.crm_compiled_pages = {}
    return pages


def clear_compiled_pages() -> None:
    """Forget the pages compiled on this thread's connections."""
    for connection in connections.all(initialized_only=True):
        _compiled_pages(connection).clear()


def page_rows(key: Hashable, build_page: Callable[[], QuerySet]) -> list:
    """The rows of `build_page()`, a slice of a values() or values_list() query, as evaluating it would give them.

    The API's lists are asked for the same few pages over and over, and building and compiling such a query
    costs the worker about twice the CPU of running it; so the compiled SQL is kept under `key`, which must stand
    for everything the query depends on (the view and its validated parameters). A page whose building or
    compiling read anything from the database is never kept, so the SQL can only depend on `key`, never on the
    data. On PostgreSQL a page asked for again runs as a prepared statement (crm.db.postgresql), planned once."""
    connection = connections["default"]
    pages = _compiled_pages(connection)
    compiled = pages.get(key)
    if compiled is None:
        with _reads_counted(connection) as reads:
            page = build_page()
            compiled = _compile_page(page, connection)
        if compiled is None:
            return list(page)
        if not reads:
            if len(pages) >= _COMPILED_PAGES_MAX:
                pages.clear()
            pages[key] = compiled
    compiled.uses += 1
    if compiled.sql is None:
        return []
    # Prepared from its second use: a page asked for once (a deep page, a new search) would pay the extra round
    # trip of preparing for nothing.
    prepared = compiled.params is None and compiled.uses > 1
    with connection.prepared_cursor() if prepared else connection.cursor() as cursor:
        cursor.execute(compiled.sql, compiled.params)
        rows = cursor.fetchall()
    if compiled.converters:
        rows = map(tuple, compiled.compiler.apply_converters(rows, compiled.converters))
    keys = compiled.dict_keys
    return [dict(zip(keys, row)) for row in rows] if keys is not None else list(rows)


@contextmanager
def _reads_counted(connection):
    """The statements run on `connection` inside the block."""
    reads = []

    def count_read(execute, sql, params, many, context):
        reads.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count_read):
        yield reads


def _compile_page(page: QuerySet, connection) -> CompiledPage | None:
    """The page compiled for page_rows(), or None for a query it does not handle (model instances, flat or named
    tuples, another database)."""
    if page._iterable_class not in (ValuesIterable, ValuesListIterable) or page.db != connection.alias:
        return None
    query = page.query
    compiler = query.get_compiler(using=page.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        sql, params = None, ()
    columns = [column for column, *_ in compiler.select[:compiler.col_count]]
    if compiler.has_composite_fields(columns):
        return None
    # As ValuesIterable names a row's values.
    names = list(query.selected or [*query.extra_select, *query.values_select, *query.annotation_select])
    if sql is not None and hasattr(connection, "prepared_cursor"):
        # Its own statement for every page, so its plan is the one for its values.
        sql, params = connection.ops.compose_sql(sql, params), None
    return CompiledPage(compiler, sql, params, compiler.get_converters(columns),
                        names if page._iterable_class is ValuesIterable else None)


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
        _drop_unfiltered_forward_joins(page_ids.query)
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
        in is the last one whose rows before it (in page order) are no more than `start`, looked for first
        among the blocks nearest the page's end of the table (the counts of all blocks grow with the table).
        Without any counts it is the plain OFFSET.
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
        # The first blocks in page order, as many as hold `start` rows when a quarter of their ids are there: the
        # page nearly always starts in one of them, and summing them reads as many count rows on any table size.
        near_blocks = int(start) // 2**ID_BLOCK_BITS * NEAR_BLOCKS_PER_FULL_BLOCK + NEAR_BLOCKS_PER_FULL_BLOCK
        edge, near = ("max", f">= (SELECT block FROM edge) - {near_blocks}") if descending else (
            "min", f"<= (SELECT block FROM edge) + {near_blocks}")

        def counts(condition: str = "") -> str:
            return f"""
                SELECT block, row_count FROM crm_id_block WHERE table_name = %s {status_filter} {condition}
                UNION ALL
                SELECT block, row_count FROM crm_id_block_change WHERE table_name = %s {status_filter} {condition}
            """

        sql = f"""
            WITH edge AS (
                SELECT {"greatest" if descending else "least"}(
                    (SELECT {edge}(block) FROM crm_id_block WHERE table_name = %s {status_filter}),
                    (SELECT {edge}(block) FROM crm_id_block_change WHERE table_name = %s {status_filter})
                ) AS block
            ), start AS (
                -- The block where the rows so far, in page order, pass `start`, among the near blocks: exact, as
                -- every block before them is one of them.
                (SELECT block, rows_through - block_rows AS rows_before FROM (
                    SELECT block, sum(row_count) OVER (ORDER BY block {before_order}) AS rows_through,
                           sum(row_count) OVER (PARTITION BY block) AS block_rows
                    FROM ({counts(f"AND block {near}")}) AS near_counts
                ) AS near_positions
                WHERE rows_through > %s ORDER BY block {before_order} LIMIT 1)
                UNION ALL
                -- Otherwise (sparse ids, or `start` past the end) over all blocks, the last one whose rows before
                -- it are no more than `start`. Not run when the first part found the block.
                (SELECT block, rows_before FROM (
                    SELECT block, sum(row_count) OVER (ORDER BY block {before_order}) - row_count AS rows_before
                    FROM (SELECT block, sum(row_count) AS row_count FROM ({counts()}) AS counts GROUP BY block)
                        AS blocks
                ) AS positions
                WHERE rows_before <= %s ORDER BY block {pick_order} LIMIT 1)
                LIMIT 1
            )
            SELECT {quote(table)}.id FROM {quote(table)}
            WHERE {quote(table)}.{page_bound} {row_filter}
            ORDER BY {quote(table)}.id {"DESC" if descending else "ASC"}
            LIMIT {int(stop) - int(start)} OFFSET %s - COALESCE((SELECT rows_before FROM start), 0)
        """
        counts_params = [table, *statuses, table, *statuses]
        params = [*counts_params, *counts_params, int(start), *counts_params, int(start), *statuses, int(start)]
        return self._page_of(RawSQL(sql, params))


def _drop_unfiltered_forward_joins(query) -> None:
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
