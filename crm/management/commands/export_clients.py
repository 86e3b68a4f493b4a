from django.utils.translation import gettext_lazy as _

from crm.importexport.commands import ExportCommand
from crm.importexport.resources import ClientResource
from crm.selectors import client_list


class Command(ExportCommand):
    help = _("Export clients to CSV, XLSX or JSON, to a file or standard output.")
    job_kind = "export_clients"
    resource_class = ClientResource

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--status", default="all", help=_("active, archived or all (default)."))

    def get_queryset(self, options):
        return client_list(search=options["search"], status=options["status"], order_by="id")

    def job_options(self, options):
        return {"search": options["search"], "status": options["status"]}
