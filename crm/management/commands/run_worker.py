"""The background worker of the configured queue, after failing the jobs a dead worker left running:
django-tasks-db's db_worker (TASKS_BACKEND=database), or an rq worker (TASKS_BACKEND=redis) taking the
same options that make sense for it."""

from django.utils.autoreload import run_with_reloader
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from crm.jobs.exports import start_export_sweeper, sweep_expired_exports
from crm.jobs.redis_queue import uses_redis
from crm.jobs.services import sweep_old_job_files, sweep_stale_jobs
from reports.schedules import check_schedules_in_worker


class Command(DbWorkerCommand):
    help = "Run a background worker (TASKS_BACKEND=database or redis). Run one or more; each takes one job at a time."

    def add_arguments(self, parser):
        if not uses_redis():
            return super().add_arguments(parser)
        from argparse import BooleanOptionalAction

        from django.conf import settings

        parser.add_argument("--queue-name", default="default", help="The queues to process, comma-separated.")
        parser.add_argument("--batch", action="store_true", help="Process all outstanding tasks, then exit.")
        parser.add_argument("--max-tasks", type=int, default=None, help="Exit after this many tasks.")
        parser.add_argument("--worker-id", default=None, help="Worker name, unique among the workers.")
        parser.add_argument("--reload", action=BooleanOptionalAction, default=settings.DEBUG,
                            help="Reload the worker on code changes (default: DEBUG).")
        # The database worker's polling options: Redis hands a job to a waiting worker at once.
        parser.add_argument("--interval", type=float, default=1, help="Ignored with Redis.")
        parser.add_argument("--no-startup-delay", action="store_false", dest="startup_delay", help="Ignored with Redis.")

    def handle(self, *args, **options):
        sweep_old_job_files()
        sweep_expired_exports()
        if not options.get("batch"):
            start_export_sweeper()  # a long-running worker deletes expired exports every few minutes
        swept = sweep_stale_jobs()
        if swept and options.get("verbosity", 1):
            self.stderr.write(f"{swept} job(s) left running by a stopped worker marked failed.")
        check_schedules_in_worker(batch=options["batch"], reload=options["reload"])
        if uses_redis():
            return self.handle_redis(**options)
        return super().handle(*args, **options)

    def handle_redis(self, *, queue_name, batch, max_tasks, worker_id, reload, verbosity, **options):
        from django.core.management.base import CommandError
        from redis.exceptions import ConnectionError as RedisConnectionError

        from crm.jobs.redis_queue import run_worker

        def work():
            run_worker(queue_names=queue_name.split(","), burst=batch, max_jobs=max_tasks, name=worker_id,
                       verbosity=verbosity)

        try:
            if reload and not batch:
                run_with_reloader(work)
            else:
                work()
        except RedisConnectionError as error:
            raise CommandError(f"Cannot reach Redis (TASKS_REDIS_URL): {error}") from None
