"""Every write to a Job: create (and enqueue), start, finish, fail, retry, and the sweep of dead workers."""

import logging
import os
import socket

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.jobs import files
from crm.jobs.models import MAX_PROBLEMS, Job

logger = logging.getLogger(__name__)


class JobError(Exception):
    """A job cannot be created or retried; the message says why."""


def worker_host() -> str:
    return socket.gethostname()[:255]


def _enqueue(job: Job) -> None:
    """Hand the job to the task backend once its row is committed (a worker must find it)."""
    from crm.jobs.tasks import run_job

    def enqueue():
        result = run_job.enqueue(job.pk)
        Job.objects.filter(pk=job.pk).update(task_id=str(result.id))

    transaction.on_commit(enqueue)


def job_create(*, kind: str, owner, data: bytes | None, file_name: str, params: dict, total: int = 0) -> Job:
    """A queued job with its input (if any: an export has none) stored privately, run by a worker after the commit."""
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind, owner=owner, file_name=file_name[:255], params=params, total=total
        )
        if data is not None:
            files.save_input(job.pk, data)
        _enqueue(job)
    return job


def job_start(job_id: int) -> Job | None:
    """Mark the job running in this process; None if it is not queued (already run, or gone)."""
    started = Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING,
        started_at=timezone.now(),
        finished_at=None,
        worker_host=worker_host(),
        worker_pid=os.getpid(),
        done=0,
        error="",
    )
    if not started:
        return None
    job = Job.objects.get(pk=job_id)
    Job.objects.filter(pk=job_id).update(attempts=job.attempts + 1)
    return job


def job_progress(job: Job, done: int, total: int) -> None:
    files.write_progress(job.pk, done, total)


def job_finish(job: Job, *, counts: dict, problems: list[str], failed: bool) -> None:
    """The import's outcome: done, or failed with the line and reason of its invalid rows (nothing written)."""
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.FAILED if failed else Job.State.DONE,
        finished_at=timezone.now(),
        total=counts.get("total", job.total),
        done=counts.get("total", job.total),
        new=counts.get("new", 0),
        changed=counts.get("changed", 0),
        unchanged=counts.get("unchanged", 0),
        invalid=counts.get("invalid", 0),
        problems=problems[:MAX_PROBLEMS],
        error=_("Nothing was imported: fix the rows listed and import the file again.") if failed else "",
    )
    if failed:
        files.progress_path(job.pk).unlink(missing_ok=True)  # the input stays: the job can be retried
    else:
        files.delete_files(job.pk)


def job_fail(job: Job, error: str) -> None:
    Job.objects.filter(pk=job.pk).update(state=Job.State.FAILED, finished_at=timezone.now(), error=error)
    files.progress_path(job.pk).unlink(missing_ok=True)


def job_retry(job: Job, *, user) -> Job:
    """Queue a failed job again, for its owner only, if its input is still there."""
    if job.owner_id != user.pk:
        raise PermissionError
    if job.state != Job.State.FAILED:
        raise JobError(_("Only a failed job can be retried."))
    if job.takes_file and not files.has_input(job.pk):
        raise JobError(_("The job's file is no longer available; upload it again."))
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, state=Job.State.FAILED).update(
            state=Job.State.QUEUED, started_at=None, finished_at=None, error="", problems=[],
            done=0, new=0, changed=0, unchanged=0, invalid=0,
        )
        if not updated:  # retried twice at once
            raise JobError(_("Only a failed job can be retried."))
        _enqueue(job)
    job.refresh_from_db()
    return job


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # Linux: a killed child its parent has not reaped yet is a zombie, as dead as can be
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def worker_died_message() -> str:
    return _("The worker stopped while running this job; nothing was written. Retry it.")


def sweep_stale_jobs(jobs=None) -> int:
    """Mark failed the running jobs of this machine whose worker process is gone; how many.

    The database task backend leaves a task whose worker was killed (kill -9, out of memory, power cut)
    "running" for ever and never retries it. The import ran in one transaction, which the database
    rolled back when the connection dropped, so nothing was written: the job is failed, and retryable.
    """
    queryset = Job.objects.filter(state=Job.State.RUNNING, worker_host=worker_host())
    if jobs is not None:
        queryset = queryset.filter(pk__in=[job.pk for job in jobs])
    swept = 0
    for job in queryset:
        if job.worker_pid and _process_gone(job.worker_pid):
            with translation.override(job.params.get("language") or None):
                error = worker_died_message()
            if Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, worker_pid=job.worker_pid).update(
                state=Job.State.FAILED, finished_at=timezone.now(), error=error
            ):
                swept += 1
                files.progress_path(job.pk).unlink(missing_ok=True)
                if job.task_id:
                    _fail_abandoned_task(job.task_id)
                logger.warning("Job %s: its worker (pid %s) is gone; marked failed.", job.pk, job.worker_pid)
    return swept


def _fail_abandoned_task(task_id: str) -> None:
    """The queue's own record of the dead worker's task: failed too (neither backend would ever retry it)."""
    from django_tasks import task_backends
    from django_tasks_db import DatabaseBackend

    from crm.jobs.redis_queue import fail_abandoned_task, uses_redis

    if isinstance(task_backends["default"], DatabaseBackend):
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.filter(id=task_id, status="RUNNING").update(
            status="FAILED", finished_at=timezone.now(), exception_class_path="crm.jobs.WorkerDied"
        )
    elif uses_redis():
        fail_abandoned_task(task_id, "crm.jobs.WorkerDied: the worker stopped while running this job")


def sweep_old_job_files(*, days: int | None = None) -> int:
    """Delete the files of jobs finished more than JOBS_KEEP_DAYS ago (a failed job's input, kept for a
    retry, is not kept for ever); such a job can no longer be retried. How many jobs' files went."""
    from datetime import timedelta

    from django.conf import settings

    days = settings.JOBS_KEEP_DAYS if days is None else days
    deadline = timezone.now() - timedelta(days=days)
    old = Job.objects.filter(
        state__in=[Job.State.DONE, Job.State.FAILED], finished_at__lt=deadline
    ).values_list("pk", flat=True)
    removed = 0
    for job_id in old.iterator():
        if files.has_input(job_id) or files.progress_path(job_id).exists():
            files.delete_files(job_id)
            removed += 1
    return removed
