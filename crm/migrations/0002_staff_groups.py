"""The two staff roles: Managers change everything, Viewers only look."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MANAGED_MODELS = {"crm": ["client", "order"], "reports": ["report"]}
GROUP_ACTIONS = {"Managers": ["view", "add", "change", "delete"], "Viewers": ["view"]}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, actions in GROUP_ACTIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        codenames = [f"{action}_{model}" for models in MANAGED_MODELS.values() for model in models for action in actions]
        codenames += [f"view_historical{model}" for model in MANAGED_MODELS["crm"]]
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label__in=list(MANAGED_MODELS), codename__in=codenames)
        )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(GROUP_ACTIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("reports", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
