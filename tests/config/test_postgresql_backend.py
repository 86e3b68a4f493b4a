"""crm.db.postgresql: the health check skipped right after a request without error; timestamps parsed in C."""

from unittest import mock

import psycopg
import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend")


def _next_request_health_check(seconds_later: float) -> bool:
    """Start the next request `seconds_later` after the last one ended; True if Django's check ran."""
    from crm.db.postgresql import base

    connection.ensure_connection()
    connection.health_check_done = False  # what the start of a request does
    with mock.patch.object(base.time, "monotonic", return_value=connection.healthy_at + seconds_later), \
            mock.patch.object(connection, "is_usable", wraps=connection.is_usable) as is_usable:
        connection.close_if_health_check_failed()
    return is_usable.called


def test_the_health_check_is_skipped_right_after_a_request_without_error(db, client):
    assert connection.settings_dict["ENGINE"] == "crm.db.postgresql" and connection.health_check_enabled
    client.get("/api/schema/")
    assert connection.healthy_at is not None
    assert _next_request_health_check(0.2) is False
    assert connection.health_check_done


def test_after_a_pause_the_health_check_runs(db, client):
    client.get("/api/schema/")
    assert _next_request_health_check(5.0) is True


def test_a_request_with_a_database_error_does_not_vouch_for_the_connection(db, client):
    client.get("/api/schema/")
    connection.healthy_at = None
    connection.errors_occurred = True
    from crm.db.postgresql.base import mark_connections_healthy

    mark_connections_healthy()
    assert connection.healthy_at is None
    connection.errors_occurred = False


def test_a_connection_dropped_during_a_pause_is_replaced(transactional_db):
    connection.ensure_connection()
    settings = connection.settings_dict
    with psycopg.connect(dbname=settings["NAME"], user=settings["USER"], password=settings["PASSWORD"] or None,
                         host=settings["HOST"] or None, port=settings["PORT"] or None, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    connection.healthy_at = -100.0  # long ago
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


# ---------------------------------------------------------------------------
# Timestamps parsed by psycopg's C loader
# ---------------------------------------------------------------------------
TIMESTAMPS = ["2026-11-30 06:42:23.367071+00", "2024-02-29 23:59:59+03", "1999-12-31 21:00:00.5-05:30",
              "0001-01-01 00:00:00+00", "9999-12-31 23:59:59.999999+00"]


def _loaded(cursor, texts):
    cursor.execute("SELECT unnest(%s::text[])::timestamptz", [texts])
    return [row[0] for row in cursor.fetchall()]


def test_timestamps_load_as_with_djangos_loader_only_faster(db):
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    from crm.db.postgresql.base import CParsedTzLoader

    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(psycopg.postgres.types["timestamptz"].oid, psycopg.pq.Format.TEXT)
    assert issubclass(loader, CParsedTzLoader) and loader.timezone == connection.timezone
    with connection.cursor() as cursor:
        ours = _loaded(cursor, TIMESTAMPS)
    with connection.cursor() as cursor:
        register_tzloader(connection.timezone, cursor.cursor)  # Django's own, on this cursor only
        djangos = _loaded(cursor, TIMESTAMPS)
    assert ours == djangos
    assert [value.tzinfo for value in ours] == [value.tzinfo for value in djangos]
    assert ours[0].microsecond == 367071

