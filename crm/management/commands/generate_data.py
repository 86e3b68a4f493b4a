"""Generate a large synthetic data set fast, for benchmarks and load tests."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from crm.devtools.datagen import generate_data


class Command(BaseCommand):
    help = _(
        "Generate synthetic clients and orders with realistic Russian names, bulk-inserted in batches. "
        "No history rows are written for them (they are test data, not real changes)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=20000, help=_("Number of clients to add."))
        parser.add_argument("--orders", type=int, default=200000, help=_("Number of orders to add."))
        parser.add_argument("--days", type=int, default=730, help=_("Spread the dates over this many past days."))
        parser.add_argument("--seed", type=int, default=None, help=_("Random seed, for a repeatable data set."))
        parser.add_argument("--no-progress", action="store_true", help=_("Do not show progress bars."))

    def handle(self, *args, clients, orders, days, seed, no_progress, **options):
        if clients < 1 and orders > 0:
            raise CommandError(_("Orders need at least one client."))
        if clients < 0 or orders < 0 or days < 1:
            raise CommandError(_("The counts must not be negative and --days must be at least 1."))
        timings = generate_data(
            clients=clients, orders=orders, days=days, seed=seed, progress=not no_progress and self.stdout.isatty()
        )
        self.stdout.write(
            self.style.SUCCESS(
                _("Generated %(clients)d clients and %(orders)d orders.") % {"clients": clients, "orders": orders}
            )
        )
        self.stdout.write(
            _("Time: %(total).1f s (clients %(clients).1f s, orders %(orders).1f s, indexes %(indexes).1f s, "
              "report rollups %(rollups).1f s, planner statistics %(statistics).1f s); "
              "CPU time of this process %(cpu).1f s.") % timings
        )
