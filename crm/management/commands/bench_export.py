"""Benchmark: export 1,000,000 orders as a background job in a worker process; time and the worker's memory.

The scratch database is the test database of the configured backend, dropped afterwards; the real data is
not touched.
"""

from django.utils.translation import gettext_lazy as _

from crm.devtools import export_bench
from crm.management.base import TranslatedCommand


class Command(TranslatedCommand):
    help = _("Export many orders as a background job in a scratch database; print the time and the worker's memory.")

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=20_000)
        parser.add_argument("--orders", type=int, default=1_000_000)
        parser.add_argument("--format", choices=["csv", "xlsx", "json"], default="csv")

    def handle(self, *args, clients, orders, format, **options):
        self.stdout.write(export_bench.run(clients=clients, orders=orders, fmt=format, log=self.stderr.write))
