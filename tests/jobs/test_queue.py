"""The queue with the database backend: a job enqueued is run by a worker, once, with its outcome recorded."""

import pytest
from django_tasks_db.models import DBTaskResult

from crm.jobs import files
from crm.jobs.models import Job
from crm.jobs.services import job_create
from crm.models import Client
from tests.jobs.conftest import clients_csv, run_worker_once

pytestmark = pytest.mark.django_db


def create_import(owner, data: bytes, kind=Job.Kind.IMPORT_CLIENTS) -> Job:
    return job_create(kind=kind, owner=owner, data=data, file_name="clients.csv", params={"format": "csv"})


def test_a_queued_import_is_run_by_a_worker_and_its_counts_recorded(
    database_backend, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = create_import(manager, clients_csv(30))

    job.refresh_from_db()
    assert job.state == Job.State.QUEUED and job.task_id
    assert DBTaskResult.objects.get(id=job.task_id).status == "READY"
    assert not Client.objects.exists()  # enqueued, not run

    run_worker_once()

    job.refresh_from_db()
    assert (job.state, job.total, job.done, job.new, job.invalid) == (Job.State.DONE, 30, 30, 30, 0)
    assert job.started_at and job.finished_at and job.attempts == 1
    assert Client.objects.count() == 30
    assert set(Client.history.values_list("history_user__username", flat=True)) == {"manager"}
    assert DBTaskResult.objects.get(id=job.task_id).status == "SUCCESSFUL"
    assert not files.has_input(job.pk)  # a done job's file is deleted


def test_an_invalid_row_fails_the_job_with_its_line_and_writes_nothing(
    database_backend, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = create_import(manager, clients_csv(10, bad_line=5))

    run_worker_once()

    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.invalid == 1
    assert len(job.problems) == 1 and job.problems[0].startswith("Line 5: ")
    assert "Nothing was imported" in job.error
    assert not Client.objects.exists()
    assert files.has_input(job.pk)  # kept for a retry


def test_a_job_is_run_once_even_if_its_task_is_delivered_twice(
    database_backend, manager, django_capture_on_commit_callbacks
):
    from crm.jobs.tasks import run_job

    with django_capture_on_commit_callbacks(execute=True):
        job = create_import(manager, clients_csv(5))
    run_worker_once()
    run_job.enqueue(job.pk)  # a duplicate delivery

    run_worker_once()

    job.refresh_from_db()
    assert job.attempts == 1 and job.state == Job.State.DONE and Client.objects.count() == 5


def test_files_of_jobs_finished_long_ago_are_deleted_at_the_workers_start(manager, settings):
    import datetime as dt

    from django.utils import timezone

    from crm.jobs.services import sweep_old_job_files

    settings.JOBS_KEEP_DAYS = 7
    old = Job.objects.create(kind=Job.Kind.IMPORT_CLIENTS, owner=manager, state=Job.State.FAILED,
                             finished_at=timezone.now() - dt.timedelta(days=8))
    recent = Job.objects.create(kind=Job.Kind.IMPORT_CLIENTS, owner=manager, state=Job.State.FAILED,
                                finished_at=timezone.now() - dt.timedelta(days=6))
    for job in (old, recent):
        files.save_input(job.pk, b"data")

    assert sweep_old_job_files() == 1
    assert not files.has_input(old.pk) and files.has_input(recent.pk)
