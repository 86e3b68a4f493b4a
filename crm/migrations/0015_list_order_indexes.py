"""Indexes for every sorted list and its deep pages: clients of every status by any column, orders of one
status by any column, orders by status (see Client.Meta and Order.Meta)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0014_normalise_phones'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='client',
            index=models.Index(fields=['first_name', 'id'], name='client_first_id_idx'),
        ),
        migrations.AddIndex(
            model_name='client',
            index=models.Index(fields=['last_name', 'id'], name='client_last_id_idx'),
        ),
        migrations.AddIndex(
            model_name='client',
            index=models.Index(fields=['middle_name', 'id'], name='client_middle_id_idx'),
        ),
        migrations.AddIndex(
            model_name='client',
            index=models.Index(fields=['email', 'id'], name='client_email_id_idx'),
        ),
        migrations.AddIndex(
            model_name='client',
            index=models.Index(fields=['mobile_phone', 'id'], name='client_phone_id_idx'),
        ),
        migrations.AddIndex(
            model_name='client',
            index=models.Index(fields=['added_at', 'id'], name='client_added_id_idx'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['status', 'id'], name='order_status_id_asc_idx'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['status', 'product', 'id'], name='order_status_product_idx'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['status', 'quantity', 'id'], name='order_status_quantity_idx'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['status', 'price', 'id'], name='order_status_price_idx'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['status', 'created_at', 'id'], name='order_status_created_id_idx'),
        ),
        # After its replacement exists, so that no moment lacks one.
        migrations.RemoveIndex(
            model_name='order',
            name='order_status_id_idx',
        ),
    ]
