from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "crm.jobs"
    label = "jobs"  # its own migrations, apart from crm's
    verbose_name = _("Background jobs")
    default_auto_field = "django.db.models.BigAutoField"
