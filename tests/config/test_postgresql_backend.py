"""crm.db.postgresql: Django's health check, skipped only right after a request without error."""

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
