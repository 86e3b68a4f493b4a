"""The background worker: django-tasks-db's db_worker, after failing the jobs a dead worker left running."""

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from crm.jobs.exports import start_export_sweeper, sweep_expired_exports
from crm.jobs.services import sweep_old_job_files, sweep_stale_jobs
from reports.schedules import check_schedules_in_worker


class Command(DbWorkerCommand):
    help = "Run a background worker (TASKS_BACKEND=database). Run one or more; each takes one job at a time."

    def handle(self, *args, **options):
        sweep_old_job_files()
        sweep_expired_exports()
        if not options.get("batch"):
            start_export_sweeper()  # a long-running worker deletes expired exports every few minutes
        swept = sweep_stale_jobs()
        if swept and options.get("verbosity", 1):
            self.stderr.write(f"{swept} job(s) left running by a stopped worker marked failed.")
        check_schedules_in_worker(batch=options["batch"], reload=options["reload"])
        return super().handle(*args, **options)
