"""The job page in a real browser: its progress part reloads itself (htmx) under the CSP until the job ends."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.jobs import files
from crm.jobs.models import Job
from tests.browser.test_content_security_policy import PolicyWatch, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_job_page_follows_a_running_import_to_its_end(page, screenshot, demo_manager, settings, tmp_path):
    settings.JOBS_DIR = str(tmp_path / "jobs")
    job = Job.objects.create(
        kind=Job.Kind.IMPORT_CLIENTS, owner=demo_manager, state=Job.State.RUNNING, total=50_000,
        file_name="клиенты.csv", started_at=timezone.now() - dt.timedelta(seconds=4),
    )
    files.write_progress(job.pk, 20_000, 50_000)
    watch = PolicyWatch(page)
    log_in(page)

    page.goto(f"/admin/jobs/job/{job.pk}/change/")
    expect(page.locator("#job-state")).to_have_attribute("data-state", "running")
    expect(page.locator("#job-progress")).to_contain_text("Строк: 20000 из 50000")
    screenshot("jobs-01-running")
    watch.check("running job")

    Job.objects.filter(pk=job.pk).update(state=Job.State.DONE, done=50_000, new=50_000, finished_at=timezone.now())

    expect(page.locator("#job-state")).to_have_attribute("data-state", "done", timeout=10_000)  # no reload
    expect(page.locator("#job-counts")).to_contain_text("50000")
    screenshot("jobs-02-done")
    watch.check("finished job")

    page.goto("/admin/jobs/job/")
    expect(page.get_by_role("link", name=f"Импорт клиентов #{job.pk}")).to_be_visible()
    screenshot("jobs-03-list")
    watch.check("jobs list")


def test_a_large_upload_goes_from_its_confirmation_to_the_finished_job_page(
    page, screenshot, demo_manager, settings, tmp_path
):
    from crm.models import Client
    from tests.jobs.conftest import clients_csv, run_worker_once

    settings.JOBS_DIR = str(tmp_path / "jobs")
    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "uploads")
    settings.IMPORT_BACKGROUND_ROWS = 20
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    csv_file = tmp_path / "клиенты.csv"
    csv_file.write_bytes(clients_csv(30))
    watch = PolicyWatch(page)
    log_in(page)

    page.goto("/admin/crm/client/import/")
    page.select_option("select[name=format]", label="csv")
    page.set_input_files("input[name=import_file]", str(csv_file))
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("#import-background")).to_contain_text("30 строк")  # counted, not previewed
    screenshot("jobs-04-large-upload")
    watch.check("background import confirmation")

    page.get_by_role("button", name="Импорт в фоне").click()
    page.wait_for_url(re.compile(r"/admin/jobs/job/\d+/change/$"))
    expect(page.locator("#job-state")).to_have_attribute("data-state", "queued")
    assert not Client.objects.exists()

    run_worker_once()

    expect(page.locator("#job-state")).to_have_attribute("data-state", "done", timeout=10_000)  # no reload
    expect(page.locator("#job-counts")).to_contain_text("30")
    assert Client.objects.count() == 30
    screenshot("jobs-05-large-upload-done")
    watch.check("finished background import")
