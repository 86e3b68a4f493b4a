"""`manage.py rebuild_rollups`: recompute the report rollups from the orders and clients."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.management.base import TranslatedCommand
from reports.rollups import rebuild


class Command(TranslatedCommand):
    help = gettext_lazy("Recompute the report rollups from the orders and clients (the triggers keep them exact).")

    def handle(self, *args, **options):
        rebuild()
        self.stdout.write(_("Report rollups rebuilt."))
