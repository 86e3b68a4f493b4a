from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    # Not "Reports": the breadcrumb shows the app's name before the model's plural, «Отчёты › Отчёты».
    verbose_name = _("Analytics")
