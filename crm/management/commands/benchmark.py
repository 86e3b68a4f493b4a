"""Measure the API, reports and admin on a large data set, served by granian on loopback."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from crm.devtools import benchmark
from crm.devtools.server import Workers


class Command(BaseCommand):
    help = _(
        "Build a synthetic data set (generate_data) in a scratch SQLite file or the given PostgreSQL database, "
        "serve it with granian (2 workers of 2 threads, production settings) on 127.0.0.1 and print the median and "
        "p95 latency of each operation, the orders list rate under 8 concurrent connections and a worker's "
        "peak memory, as a Markdown table with each target and pass or fail."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database-url", default=None,
                            help=_("Benchmark this database (e.g. postgres://postgres@127.0.0.1:5432/crm_bench) "
                                   "instead of a scratch SQLite file."))
        parser.add_argument("--clients", type=int, default=20000)
        parser.add_argument("--orders", type=int, default=200000)
        parser.add_argument("--days", type=int, default=730)
        parser.add_argument("--reuse-data", "--reuse", dest="reuse_data", action="store_true",
                            help=_("Keep the data set of an earlier run when it is large enough."))
        parser.add_argument("--repeat", type=int, default=40, help=_("Timed requests per operation."))
        parser.add_argument("--concurrent-requests", type=int, default=100,
                            help=_("Requests per connection in the 8-connection run."))
        parser.add_argument("--json", dest="json_path", default=None,
                            help=_("Also write the figures to this JSON file (e.g. the SQLite run, as a baseline)."))
        parser.add_argument("--compare-sqlite", action="store_true",
                            help=_("With --database-url: also serve the data set from a scratch SQLite file and "
                                   "alternate every operation's requests between the two servers; prints both "
                                   "tables and each operation's ratio to SQLite."))
        parser.add_argument("--baseline", dest="baseline_path", default=None,
                            help=_("A JSON file of an earlier run (--json): adds each operation's ratio to it "
                                   "(PostgreSQL against SQLite: within 1.5 times)."))

        parser.add_argument("--scale", default=None, metavar="CLIENTS:ORDERS",
                            help=_("Also build a bigger data set of this size (e.g. 200000:2000000) and measure both "
                                   "in the same run, their requests taking turns: one table per database with the "
                                   "growth from the --clients/--orders set to this one. With --database-url and "
                                   "--compare-sqlite, four servers: both sizes on both databases."))
        parser.add_argument("--throughput", action="store_true",
                            help=_("Only measure requests per second on the orders list with 8 concurrent "
                                   "connections, under each server setting of --workers in turn."))
        parser.add_argument("--workers", default=None,
                            help=_("Server setting(s): WORKERS[:SERVER[:THREADS]], SERVER being granian or a gunicorn "
                                   "worker class (sync, gthread); comma-separated for --throughput "
                                   "(e.g. 2:granian:2,2:gthread:4,4:sync); default 2:granian:2."))
        parser.add_argument("--rate-seconds", type=float, default=10.0,
                            help=_("Seconds of each requests-per-second measurement (--scale, --throughput)."))

    def handle(self, *args, **options):
        def log(message):
            self.stderr.write(message)

        try:
            settings = [Workers.parse(text) for text in (options["workers"] or "").split(",") if text] or [Workers()]
        except ValueError as error:
            raise CommandError(str(error))
        if options["throughput"]:
            try:
                table = benchmark.run_throughput(
                    database_url=options["database_url"], clients=options["clients"], orders=options["orders"],
                    days=options["days"], reuse=options["reuse_data"], settings=settings,
                    seconds=options["rate_seconds"], log=log)
            except RuntimeError as error:
                raise CommandError(str(error))
            self.stdout.write(table)
            return
        if options["scale"]:
            try:
                big = tuple(int(part) for part in options["scale"].split(":"))
                if len(big) != 2 or min(big) < 1:
                    raise ValueError
            except ValueError:
                raise CommandError(_("--scale takes CLIENTS:ORDERS, e.g. 200000:2000000."))
            if big == (options["clients"], options["orders"]):
                raise CommandError(_("--scale must differ from --clients/--orders."))
            urls = [options["database_url"]]
            if options["compare_sqlite"]:
                urls.insert(0, None)
            try:
                table = benchmark.run_scale(
                    database_urls=urls, small=(options["clients"], options["orders"]), big=big,
                    days=options["days"], reuse=options["reuse_data"], repeat=options["repeat"],
                    rate_seconds=options["rate_seconds"], log=log, workers=settings[0],
                    json_path=options["json_path"])
            except RuntimeError as error:
                raise CommandError(str(error))
            self.stdout.write(table)
            return

        if options["compare_sqlite"] and not options["database_url"]:
            raise CommandError(_("--compare-sqlite compares the database of --database-url with SQLite; give both."))
        try:
            table = benchmark.run(
                database_url=options["database_url"],
                clients=options["clients"],
                orders=options["orders"],
                days=options["days"],
                reuse=options["reuse_data"],
                repeat=options["repeat"],
                concurrent_requests=options["concurrent_requests"],
                log=log,
                json_path=options["json_path"],
                baseline_path=options["baseline_path"],
                compare_sqlite=options["compare_sqlite"],
                workers=settings[0],
            )
        except RuntimeError as error:
            raise CommandError(str(error))
        self.stdout.write(table)
