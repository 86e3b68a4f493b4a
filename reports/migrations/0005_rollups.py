"""Rollups of orders and clients for reports, kept exact by triggers (reports/rollups.py says why and how)."""

from django.db import migrations, models


def create_triggers(apps, schema_editor):
    # The trigger SQL lives in reports/rollups.py, which also drops and re-creates it around bulk loads.
    from reports import rollups

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
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
