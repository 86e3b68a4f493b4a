"""Load the Russian demo set from fixtures/demo.json, with dates relative to today."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from crm.devtools.demo import demo_file, load_demo


class Command(BaseCommand):
    help = _(
        "Load the demo clients and orders (fixtures/demo.json) with dates relative to today. "
        "Clients already present (same e-mail) are skipped, so running it twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help=_("Do nothing when the database already has any client.")
        )
        parser.add_argument("--file", default=str(demo_file()), help=_("The demo set to load."))

    def handle(self, *args, if_empty=False, file=None, **options):
        created = load_demo(file or demo_file(), if_empty=if_empty)
        if created is None:
            self.stdout.write(_("The database already has clients; demo data not loaded."))
            return
        clients_created, orders_created = created
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo data loaded: %(clients)d clients, %(orders)d orders.")
                % {"clients": clients_created, "orders": orders_created}
            )
        )
