from django.utils.translation import gettext_lazy as _

from crm.importexport.commands import ImportCommand
from crm.importexport.resources import ClientResource


class Command(ImportCommand):
    help = _("Import clients from a CSV, XLSX or JSON file (matched on e-mail); all rows or none.")
    resource_class = ClientResource
    job_kind = "import_clients"
