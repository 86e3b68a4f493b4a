"""Django's PostgreSQL backend, with the per-request health check skipped for a connection that has
just served a request without error, timestamps parsed by psycopg's C loader, and prepared statements for the
API's list pages (prepared_cursor).

CONN_HEALTH_CHECKS makes Django send `SELECT 1` before the first query of every request, so that a
connection the server dropped while it sat idle (a restart, an idle timeout, a firewall) is replaced
instead of failing the request. Under steady load that check is one of the two round trips of an API
request. A connection that finished a request without error less than RECENTLY_HEALTHY_SECONDS ago is
taken to be alive; after a pause the check runs as before.
"""

import time

import psycopg
from django.core.signals import request_finished
from django.db import connections
from django.db.backends.postgresql import base
from django.db.backends.postgresql.operations import DatabaseOperations as BaseDatabaseOperations
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from psycopg.postgres import types

TIMESTAMPTZ_OID = types["timestamptz"].oid
NEVER_AUTOMATICALLY = 2**31 - 1
# psycopg's C loader for timestamptz when its binary or C implementation is installed (psycopg[binary] is ours).
_C_TIMESTAMPTZ_LOADER = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, psycopg.pq.Format.TEXT)
if not _C_TIMESTAMPTZ_LOADER.__module__.startswith("psycopg_"):
    _C_TIMESTAMPTZ_LOADER = None


class CParsedTzLoader(BaseTzLoader):
    """Django's timestamptz loader (the value in the connection's time zone), parsing with psycopg's C loader.

    Django's loader subclasses psycopg's pure-Python one, which parses each timestamp with a regular expression:
    0.14 ms of a 50-row page. The C class cannot be subclassed, so it is called."""

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._parse = _C_TIMESTAMPTZ_LOADER(oid, context).load

    def load(self, data):
        return self._parse(data).replace(tzinfo=self.timezone)

RECENTLY_HEALTHY_SECONDS = 1.0


class PreparingCursor(psycopg.Cursor):
    """A cursor that prepares every statement on the server (psycopg keeps the 100 most recently used per
    connection and prepares each once), so PostgreSQL plans it once instead of at every execution."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


class DatabaseOperations(BaseDatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        # A prepared statement keeps no query text on the cursor; its SQL has its values written in already.
        if isinstance(cursor, PreparingCursor) and params is None:
            return sql
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    healthy_at: float | None = None
    _preparing = False

    def prepared_cursor(self):
        """A cursor like cursor()'s whose statements are prepared: for SQL with its values written in (see
        crm.paging.page_rows), never for parameters, whose generic plan would serve every value alike (a search
        for a rare name and for a common one need different plans)."""
        self._preparing = True
        try:
            return self.cursor()
        finally:
            self._preparing = False

    def create_cursor(self, name=None):
        if not self._preparing or name:
            return super().create_cursor(name)
        cursor = PreparingCursor(self.connection)
        # As Django's create_cursor(): the connection's time zone if settings changed it since the connection opened.
        loader = self.connection.adapters.get_loader(TIMESTAMPTZ_OID, psycopg.pq.Format.TEXT)
        if self.timezone != loader.timezone:
            base.register_tzloader(self.timezone, cursor)
        return cursor

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        django_loader = connection.adapters.get_loader(TIMESTAMPTZ_OID, psycopg.pq.Format.TEXT)
        if _C_TIMESTAMPTZ_LOADER is not None and issubclass(django_loader, BaseTzLoader):
            # The same time zone as Django's loader, which create_cursor() compares with its own.
            fast_loader = type("CParsedSpecificTzLoader", (CParsedTzLoader,), {"timezone": django_loader.timezone})
            connection.adapters.register_loader(TIMESTAMPTZ_OID, fast_loader)
        if connection.prepare_threshold is None:
            # None turns prepared statements off altogether; this way only PreparingCursor's are (Django's
            # cursors bind on the client and never prepare).
            connection.prepare_threshold = NEVER_AUTOMATICALLY
        return connection

    def close_if_health_check_failed(self):
        if (self.connection is not None and self.healthy_at is not None
                and time.monotonic() - self.healthy_at < RECENTLY_HEALTHY_SECONDS):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()


def mark_connections_healthy(**kwargs):
    """At the end of a request (after Django has closed broken or too old connections), note the time
    for every open connection that had no error."""
    for connection in connections.all(initialized_only=True):
        if isinstance(connection, DatabaseWrapper) and connection.connection is not None \
                and not connection.errors_occurred:
            connection.healthy_at = time.monotonic()


request_finished.connect(mark_connections_healthy, dispatch_uid="crm.db.postgresql.mark_connections_healthy")
