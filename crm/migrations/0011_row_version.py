"""A version number on clients and orders, bumped by every write: the admin's stale-form check."""

from django.db import migrations, models


class AddColumnInPlace(migrations.AddField):
    """AddField that adds the column with ALTER TABLE on SQLite too: Django would rebuild the table
    there (NOT NULL column), and dropping the old table drops its search triggers (0004)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "sqlite":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        definition, params = schema_editor.column_sql(model, field, include_default=True)
        check = field.db_parameters(connection=schema_editor.connection)["check"]
        if check:
            definition += f" CHECK ({check})"
        quote = schema_editor.quote_name
        schema_editor.execute(
            f"ALTER TABLE {quote(model._meta.db_table)} ADD COLUMN {quote(field.column)} {definition}", params
        )


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0010_history_verbose_names'),
    ]

    operations = [
        AddColumnInPlace(
            model_name='client',
            name='version',
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        AddColumnInPlace(
            model_name='order',
            name='version',
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
    ]
