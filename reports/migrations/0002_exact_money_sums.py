from decimal import Decimal

from django.db import migrations

import crm.money


def pad_sqlite_sums(apps, schema_editor):
    """SQLite copied the old REAL sums as text ("5000.0"); rewrite them zero-padded, so they sort as numbers."""
    if schema_editor.connection.vendor != "sqlite":
        return
    Report = apps.get_model("reports", "Report")
    reports = list(Report.objects.using(schema_editor.connection.alias).only("total_orders_sum", "avg_order_sum"))
    Report.objects.using(schema_editor.connection.alias).bulk_update(
        reports, ["total_orders_sum", "avg_order_sum"], batch_size=500
    )


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='report',
            name='avg_order_sum',
            field=crm.money.MoneySumField(decimal_places=2, default=Decimal('0.00'), max_digits=30, verbose_name='average order'),
        ),
        migrations.AlterField(
            model_name='report',
            name='total_orders_sum',
            field=crm.money.MoneySumField(decimal_places=2, max_digits=30, verbose_name='total of new orders'),
        ),
        migrations.RunPython(pad_sqlite_sums, migrations.RunPython.noop, elidable=True),
    ]
