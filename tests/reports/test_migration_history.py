"""The rollups' migration was released as reports.0003_rollups, then renumbered 0005 after the scheduled reports'
0003 and 0004: databases migrated before and after must both upgrade, without creating the rollups twice."""

from unittest import mock

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

SCHEDULES = [("reports", "0003_reportschedule"), ("reports", "0004_schedule_permissions")]
ROLLUPS = ("reports", "0005_rollups")
RELEASED_AS = ("reports", "0003_rollups")


def _all_migrations() -> set:
    return set(MigrationExecutor(connection).loader.graph.nodes)


def _reports_plan(applied: set) -> list:
    """The reports migrations `migrate` would run on a database that has `applied` recorded."""
    recorded = {key: mock.Mock() for key in applied}
    with mock.patch.object(MigrationRecorder, "applied_migrations", return_value=recorded):
        executor = MigrationExecutor(connection)
        executor.loader.check_consistent_history(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [(migration.app_label, migration.name) for migration, _backwards in plan
            if migration.app_label == "reports"]


@pytest.mark.django_db
def test_a_database_with_the_rollups_as_0003_runs_the_schedules_then_the_renumbered_rollups():
    released = (_all_migrations() - {*SCHEDULES, ROLLUPS}) | {RELEASED_AS}
    assert _reports_plan(released) == [*SCHEDULES, ROLLUPS]


@pytest.mark.django_db
def test_a_database_with_the_rollups_as_0005_has_nothing_to_run():
    assert _reports_plan(_all_migrations()) == []


@pytest.mark.django_db(transaction=True)
def test_the_renumbered_rollups_keep_the_tables_the_first_name_made(settings):
    """What migrate does on a database from before: the rollups recorded as 0003_rollups, the tables (with rows)
    and triggers there. 0005 makes nothing again, and removes the rollup permissions of that time."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command

    from reports.models import RollupPeriod

    call_command("migrate", "reports", "0005_rollups", verbosity=0)
    RollupPeriod.objects.update_or_create(period="week", defaults={"first_hour": 1, "end_hour": 2})
    recorder = MigrationRecorder(connection)
    recorder.record_unapplied(*ROLLUPS)
    recorder.record_applied(*RELEASED_AS)
    old_permission = Permission.objects.create(
        content_type=ContentType.objects.get_for_model(RollupPeriod), codename="view_rollupperiod",
        name="Can view rollup period")
    try:
        call_command("migrate", "reports", verbosity=0)
        assert ROLLUPS in recorder.applied_migrations()
        assert RollupPeriod.objects.get(period="week").end_hour == 2
        assert not Permission.objects.filter(pk=old_permission.pk).exists()
    finally:
        recorder.record_unapplied(*RELEASED_AS)
        recorder.record_applied(*ROLLUPS)
