"""Benchmark: import 10,000 clients and 50,000 orders into a scratch database and print rows per second.

The scratch database is the test database of the configured backend, dropped afterwards; the real data is
not touched.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext_lazy as _

from crm.devtools import import_bench
from crm.importexport.formats import FORMATS_BY_NAME


class Command(BaseCommand):
    help = _("Import many clients and orders into a scratch database and print rows per second.")

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=10_000)
        parser.add_argument("--orders", type=int, default=50_000)
        parser.add_argument("--format", choices=sorted(FORMATS_BY_NAME), default="csv")

    def handle(self, *args, clients, orders, format, **options):
        try:
            table = import_bench.run(clients=clients, orders=orders, fmt=format, log=self.stderr.write)
        except import_bench.ImportFailed as error:
            raise CommandError(str(error))
        self.stdout.write(table)
