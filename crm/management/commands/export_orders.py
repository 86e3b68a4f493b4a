from django.utils.translation import gettext_lazy as _

from crm.importexport.commands import ExportCommand
from crm.importexport.resources import OrderResource
from crm.selectors import order_list


class Command(ExportCommand):
    help = _("Export orders to CSV, XLSX or JSON, to a file or standard output.")
    job_kind = "export_orders"
    resource_class = OrderResource

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--status", default="all", help=_("Pending, Completed, Cancelled or all (default)."))
        parser.add_argument("--client-id", type=int, help=_("Only this client's orders."))

    def get_queryset(self, options):
        return order_list(
            search=options["search"],
            status=options["status"],
            client_id=options["client_id"],
            search_clients=True,
            order_by="id",
        )

    def job_options(self, options):
        return {"search": options["search"], "status": options["status"], "client_id": options["client_id"]}
