"""How far a running job has got: rows from its progress file, rate and time left from its start."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from crm.jobs import files
from crm.jobs.admin import status_text
from crm.jobs.models import Job
from crm.jobs.selectors import job_status

pytestmark = pytest.mark.django_db


def test_a_running_jobs_figures_come_from_its_progress_file(manager):
    started = timezone.now() - dt.timedelta(seconds=10)
    job = Job.objects.create(kind=Job.Kind.IMPORT_CLIENTS, owner=manager, state=Job.State.RUNNING, total=5000,
                             started_at=started)
    writer = files.ProgressWriter(job.pk, 5000, interval=0)
    writer(1000)

    status = job_status(job, now=started.timestamp() + 10)

    assert status == {"done": 1000, "total": 5000, "percent": 20, "rate": 100.0, "seconds_left": 40.0}
    with translation.override("ru"):
        assert status_text(status) == "100 строк/с, осталось около 40 секунд"
        assert status_text({**status, "seconds_left": 300}) == "100 строк/с, осталось около 5 минут"


def test_a_queued_job_has_no_rate(manager):
    job = Job.objects.create(kind=Job.Kind.IMPORT_CLIENTS, owner=manager, total=10)

    assert job_status(job) == {"done": 0, "total": 10, "percent": 0, "rate": None, "seconds_left": None}
    assert status_text(job_status(job)) == "0%"


def test_the_progress_file_is_written_at_most_every_interval(manager, jobs_dir):
    writer = files.ProgressWriter(7, 100, interval=3600)
    writer(0)
    writer(10)
    assert files.read_progress(7)["done"] == 0  # too soon
    writer(90)
    assert files.read_progress(7)["done"] == 100  # the last row always
