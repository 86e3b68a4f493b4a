"""Django's PostgreSQL backend, with the per-request health check skipped for a connection that has
just served a request without error.

CONN_HEALTH_CHECKS makes Django send `SELECT 1` before the first query of every request, so that a
connection the server dropped while it sat idle (a restart, an idle timeout, a firewall) is replaced
instead of failing the request. Under steady load that check is one of the two round trips of an API
request. A connection that finished a request without error less than RECENTLY_HEALTHY_SECONDS ago is
taken to be alive; after a pause the check runs as before.
"""

import time

from django.core.signals import request_finished
from django.db import connections
from django.db.backends.postgresql import base

RECENTLY_HEALTHY_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    healthy_at: float | None = None

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
