from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def analyze_sqlite_after_migrate(sender, using, **kwargs):
    """Refresh SQLite's planner statistics after every migrate (each deploy and each `bootstrap run`).

    SQLite never runs ANALYZE by itself, and without statistics it picks slow plans for the reports;
    see docs/performance.md.
    """
    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Clients and orders")

    def ready(self):
        from crm.models import Client, Order
        from crm.search import SearchContains

        # `search_text__search_contains`: the index-backed substring search of crm/search.py.
        for model in (Client, Order):
            model._meta.get_field("search_text").register_lookup(SearchContains)
        post_migrate.connect(analyze_sqlite_after_migrate, sender=self, dispatch_uid="crm.analyze_sqlite")
