"""Reads of jobs: whose a user may see, and how far a running one has got."""

import time

from django.urls import reverse

from crm.jobs import files
from crm.jobs.models import Job


def jobs_visible_to(user):
    """A superuser sees every job; anyone else their own."""
    queryset = Job.objects.select_related("owner")
    return queryset if user.is_superuser else queryset.filter(owner=user)


def job_status(job: Job, *, now: float | None = None) -> dict:
    """Rows done and total, percent, rate (rows/s) and seconds left; live figures while it runs."""
    done, total = job.done, job.total
    if job.state == Job.State.RUNNING:
        progress = files.read_progress(job.pk)
        if progress:
            done, total = progress["done"], progress["total"]
    rate = seconds_left = None
    if job.state == Job.State.RUNNING and job.started_at and done:
        elapsed = (now if now is not None else time.time()) - job.started_at.timestamp()
        if elapsed > 0:
            rate = done / elapsed
            seconds_left = max(total - done, 0) / rate if rate else None
    percent = min(100, int(done * 100 / total)) if total else (100 if job.finished else 0)
    return {"done": done, "total": total, "percent": percent, "rate": rate, "seconds_left": seconds_left}


def job_url(job: Job) -> str:
    """The job's page in the admin."""
    return reverse("admin:jobs_job_change", args=[job.pk])
