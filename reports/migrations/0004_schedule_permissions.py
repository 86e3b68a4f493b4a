"""Managers set up scheduled reports (view, add, change, delete); Viewers see them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_ACTIONS = {"Managers": ["view", "add", "change", "delete"], "Viewers": ["view"]}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    app_config = apps.get_app_config("reports")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=list(GROUP_ACTIONS)):
        codenames = [f"{action}_reportschedule" for action in GROUP_ACTIONS[group.name]]
        group.permissions.add(*Permission.objects.filter(content_type__app_label="reports", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_reportschedule"),
        ("crm", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
