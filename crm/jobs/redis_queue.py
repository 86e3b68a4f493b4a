"""The Redis queue (TASKS_BACKEND=redis, django-tasks-rq on rq): its worker, and failing a dead worker's task.

The worker runs each job in its own process, one at a time (rq's SimpleWorker), as the database backend's
worker does: SIGTERM lets it finish the job, kill -9 ends the job with it (the import's transaction rolls
back), and the next `run_worker` start on that machine marks the job failed (crm/jobs/services.py).
rq's default worker would fork a child per job instead, which a kill -9 of the worker does not stop.
"""

from django.db import close_old_connections
from rq.worker import SimpleWorker


def uses_redis() -> bool:
    from django_tasks import task_backends
    from django_tasks_rq import RQBackend

    return isinstance(task_backends["default"], RQBackend)


class JobWorker(SimpleWorker):
    def execute_job(self, job, queue):
        # As Django does around a request (and django-tasks-db's worker around a task): drop connections
        # that broke or outlived CONN_MAX_AGE while the worker waited.
        close_old_connections()
        try:
            return super().execute_job(job, queue)
        finally:
            close_old_connections()


def run_worker(*, queue_names: list[str], burst: bool, max_jobs: int | None, name: str | None, verbosity: int):
    """Work on the queues until stopped (or, with `burst`, until they are empty)."""
    from django_rq.workers import get_worker
    from rq.logutils import setup_loghandlers

    level = {0: "WARNING", 1: "INFO"}.get(verbosity, "DEBUG")
    setup_loghandlers(level)
    from django_tasks_rq import Job as TaskJob

    worker = get_worker(*queue_names, worker_class=JobWorker, job_class=TaskJob, name=name)
    close_old_connections()
    worker.work(burst=burst, logging_level=level, max_jobs=max_jobs)


def fail_abandoned_task(task_id: str, reason: str) -> None:
    """Mark failed in Redis the task of a job whose worker died (rq would only notice once its time limit passed)."""
    import django_rq
    from rq.exceptions import NoSuchJobError
    from rq.job import JobStatus
    from rq.job_lifecycle import record_job_failure

    from django_tasks_rq import Job as TaskJob

    connection = django_rq.get_connection()
    try:
        job = TaskJob.fetch(task_id, connection=connection)
    except NoSuchJobError:
        return
    if job.get_status() != JobStatus.STARTED:
        return
    with connection.pipeline() as pipeline:
        record_job_failure(job, reason, pipeline)
        pipeline.execute()
