"""`import_clients --background`: the file becomes a job, followed until it is finished; Ctrl+C leaves it running."""

import io
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from crm.jobs.models import Job
from crm.models import Client
from tests.factories import make_user
from tests.jobs.conftest import clients_csv


@pytest.fixture
def owner():
    return make_user("manager")  # no group: transactional tests lose the groups the migrations made


@pytest.mark.django_db(transaction=True)  # the job is enqueued when its row is committed
def test_background_import_is_followed_to_its_end(tmp_path, owner, immediate_backend):
    path = tmp_path / "clients.csv"
    path.write_bytes(clients_csv(12))
    out, err = io.StringIO(), io.StringIO()

    call_command("import_clients", str(path), "--background", "--user", "manager", "--no-progress", stdout=out, stderr=err)

    job = Job.objects.get()
    assert (job.state, job.owner, job.new) == (Job.State.DONE, owner, 12)
    assert f"Job #{job.pk} queued." in err.getvalue()
    assert "12 rows: 12 new, 0 changed, 0 unchanged, 0 invalid." in out.getvalue() and "Imported." in out.getvalue()
    assert Client.objects.count() == 12


@pytest.mark.django_db(transaction=True)
def test_a_failed_background_import_lists_its_problems_and_fails(tmp_path, owner, immediate_backend):
    path = tmp_path / "clients.csv"
    path.write_bytes(clients_csv(6, bad_line=4))
    err = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_clients", str(path), "--background", "--user", "manager", "--no-progress",
                     stdout=io.StringIO(), stderr=err)

    assert "Line 4: " in err.getvalue() and not Client.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_stops_following_but_the_job_stays_queued(tmp_path, owner, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # nobody runs it
    path = tmp_path / "clients.csv"
    path.write_bytes(clients_csv(3))
    err = io.StringIO()

    with mock.patch("time.sleep", side_effect=KeyboardInterrupt):
        call_command("import_clients", str(path), "--background", "--user", "manager", "--no-progress",
                     stdout=io.StringIO(), stderr=err)

    job = Job.objects.get()
    assert job.state == Job.State.QUEUED
    assert f"Job #{job.pk} goes on in the background" in err.getvalue()


@pytest.mark.django_db
def test_background_needs_an_owner(tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes(clients_csv(3))

    with pytest.raises(CommandError, match="--background needs --user"):
        call_command("import_clients", str(path), "--background", stdout=io.StringIO(), stderr=io.StringIO())
