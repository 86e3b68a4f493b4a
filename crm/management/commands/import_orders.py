from django.utils.translation import gettext_lazy as _

from crm.importexport.commands import ImportCommand
from crm.importexport.resources import OrderResource


class Command(ImportCommand):
    help = _("Import orders from a CSV, XLSX or JSON file (client by e-mail or id); all rows or none.")
    resource_class = OrderResource
    job_kind = "import_orders"
