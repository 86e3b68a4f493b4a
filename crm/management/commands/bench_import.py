"""Benchmark: import 10,000 clients and 50,000 orders into a scratch database and print rows per second; or, with
--admin ROWS, one CSV of ROWS clients through the admin of a real server and worker.

The scratch database is the test database of the configured backend, dropped afterwards; the real data is
not touched.
"""

from django.core.management.base import CommandError
from django.utils.translation import gettext_lazy as _

from crm.devtools import import_bench
from crm.importexport.formats import FORMATS_BY_NAME
from crm.management.base import TranslatedCommand


class Command(TranslatedCommand):
    help = _("Import many clients and orders into a scratch database and print rows per second.")

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=10_000)
        parser.add_argument("--orders", type=int, default=50_000)
        parser.add_argument("--format", choices=sorted(FORMATS_BY_NAME), default="csv")
        parser.add_argument(
            "--admin", type=int, metavar="ROWS",
            help=_("Instead: import ROWS new clients from one CSV through the admin of a real server and worker, "
                   "timing every request, the job's rate and the worker's memory."),
        )
        parser.add_argument("--database-url", help=_("With --admin: a PostgreSQL database to use (default: a scratch SQLite file)."))

    def handle(self, *args, clients, orders, format, admin=None, database_url=None, **options):
        if admin:
            try:
                self.stdout.write(import_bench.run_admin(rows=admin, database_url=database_url, log=self.stderr.write))
            except import_bench.ImportFailed as error:
                raise CommandError(str(error))
            return
        try:
            table = import_bench.run(clients=clients, orders=orders, fmt=format, log=self.stderr.write)
        except import_bench.ImportFailed as error:
            raise CommandError(str(error))
        self.stdout.write(table)
