"""Rollups of orders and clients for reports, kept exact by triggers (reports/rollups.py says why and how)."""

from django.db import migrations, models


ROLLUP_MODELS = ("RollupClientDay", "RollupPeriod", "RollupDay", "RollupHour", "RollupPeriodClient")
# This migration was released as reports.0003_rollups, before the scheduled reports' 0003 and 0004 took its number.
RELEASED_AS = ("reports", "0003_rollups")


def released_earlier(schema_editor) -> bool:
    """The database ran this migration under its first name: its tables and triggers are there already."""
    from django.db.migrations.recorder import MigrationRecorder

    return RELEASED_AS in MigrationRecorder(schema_editor.connection).applied_migrations()


def create_tables(apps, schema_editor):
    if released_earlier(schema_editor):
        # The tables had permissions then (they are internal and have none now): the user page would list them.
        Permission = apps.get_model("auth", "Permission")
        Permission.objects.using(schema_editor.connection.alias).filter(
            content_type__app_label="reports", content_type__model__in=[name.lower() for name in ROLLUP_MODELS]
        ).delete()
        return
    for name in ROLLUP_MODELS:
        schema_editor.create_model(apps.get_model("reports", name))


def drop_tables(apps, schema_editor):
    for name in reversed(ROLLUP_MODELS):
        schema_editor.delete_model(apps.get_model("reports", name))


def create_triggers(apps, schema_editor):
    # The trigger SQL lives in reports/rollups.py, which also drops and re-creates it around bulk loads.
    from reports import rollups

    if released_earlier(schema_editor):
        return

    with schema_editor.connection.cursor() as cursor:
        rollups.install_triggers(cursor, schema_editor.connection.vendor)
        rollups.install_period_trigger(cursor, schema_editor.connection.vendor)
    if schema_editor.connection.vendor in ("sqlite", "postgresql"):
        rollups.rebuild()


def drop_triggers(apps, schema_editor):
    from reports import rollups

    with schema_editor.connection.cursor() as cursor:
        rollups.drop_triggers(cursor, schema_editor.connection.vendor)
        rollups.drop_period_trigger(cursor, schema_editor.connection.vendor)


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0004_schedule_permissions'),
        ('crm', '0014_normalise_phones'),
    ]

    operations = [
        # The models (the state); their tables are made below.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='RollupClientDay',
                    fields=[
                        ('day', models.IntegerField(primary_key=True, serialize=False)),
                        ('count', models.BigIntegerField(default=0)),
                    ],
                    options={
                        'default_permissions': (),
                        'db_table': 'reports_rollup_client_day',
                    },
                ),
                migrations.CreateModel(
                    name='RollupPeriod',
                    fields=[
                        ('period', models.CharField(max_length=5, primary_key=True, serialize=False)),
                        ('first_hour', models.BigIntegerField(default=0)),
                        ('end_hour', models.BigIntegerField(default=0)),
                    ],
                    options={
                        'default_permissions': (),
                        'db_table': 'reports_rollup_period',
                    },
                ),
                migrations.CreateModel(
                    name='RollupDay',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('span', models.SmallIntegerField(default=1)),
                        ('day', models.IntegerField()),
                        ('status', models.CharField(max_length=10)),
                        ('product', models.CharField(max_length=200)),
                        ('count', models.BigIntegerField(default=0)),
                        ('hi', models.BigIntegerField(default=0)),
                        ('lo', models.BigIntegerField(default=0)),
                    ],
                    options={
                        'default_permissions': (),
                        'db_table': 'reports_rollup_day',
                        'indexes': [models.Index(fields=['span', 'day', 'status', 'product', 'count', 'hi', 'lo'], name='rollup_day_sums_idx')],
                        'constraints': [models.UniqueConstraint(fields=('span', 'day', 'status', 'product'), name='rollup_day_key')],
                    },
                ),
                migrations.CreateModel(
                    name='RollupHour',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('hour', models.BigIntegerField()),
                        ('status', models.CharField(max_length=10)),
                        ('count', models.BigIntegerField(default=0)),
                        ('hi', models.BigIntegerField(default=0)),
                        ('lo', models.BigIntegerField(default=0)),
                    ],
                    options={
                        'default_permissions': (),
                        'db_table': 'reports_rollup_hour',
                        'indexes': [models.Index(fields=['hour', 'status', 'count', 'hi', 'lo'], name='rollup_hour_sums_idx')],
                        'constraints': [models.UniqueConstraint(fields=('hour', 'status'), name='rollup_hour_key')],
                    },
                ),
                migrations.CreateModel(
                    name='RollupPeriodClient',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('period', models.CharField(max_length=5)),
                        ('client_id', models.BigIntegerField()),
                        ('count', models.BigIntegerField(default=0)),
                        ('hi', models.BigIntegerField(default=0)),
                        ('lo', models.BigIntegerField(default=0)),
                    ],
                    options={
                        'default_permissions': (),
                        'db_table': 'reports_rollup_period_client',
                        'indexes': [models.Index(fields=['period', '-hi', '-lo', '-count', 'client_id'], name='rollup_period_top_idx')],
                        'constraints': [models.UniqueConstraint(fields=('period', 'client_id'), name='rollup_period_client_key')],
                    },
                ),
            ],
        ),
        # The tables, unless the database has them from the migration's first name.
        migrations.RunPython(create_tables, drop_tables, elidable=False),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
