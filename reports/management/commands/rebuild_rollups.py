"""`manage.py rebuild_rollups`: recompute the report rollups from the orders and clients."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reports.rollups import rebuild


class Command(BaseCommand):
    help = gettext_lazy("Recompute the report rollups from the orders and clients (the triggers keep them exact).")

    def handle(self, *args, **options):
        rebuild()
        self.stdout.write(_("Report rollups rebuilt."))
