"""The Jobs pages read in Russian, like every admin page (tests/admin/test_russian_everywhere.py's check)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.jobs import files
from crm.jobs.models import Job
from tests.admin.test_russian_everywhere import english_words

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", ["queued", "running", "done", "failed"])
def test_job_pages_are_russian(client, superuser, state):
    job = Job.objects.create(kind=Job.Kind.IMPORT_ORDERS, owner=superuser, state=state, total=100, file_name="заказы.csv",
                             started_at=timezone.now() - dt.timedelta(seconds=5), worker_pid=None,
                             error="Ошибка" if state == "failed" else "")
    if state == "running":
        files.write_progress(job.pk, 40, 100)
    if state == "failed":
        files.save_input(job.pk, b"x")
    client.force_login(superuser)

    for url in [reverse("admin:jobs_job_changelist"), reverse("admin:jobs_job_change", args=[job.pk]),
                reverse("admin:jobs_job_progress", args=[job.pk])]:
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="ru")
        assert page.status_code == 200, url
        assert english_words(page.content.decode()) == set(), url
