"""A long export in a real browser: the click lands on the job's page, which follows the worker to the download."""

import pytest
from playwright.sync_api import expect

from crm.jobs.models import Job
from tests.browser.test_content_security_policy import PolicyWatch, log_in
from tests.factories import OrderFactory
from tests.jobs.conftest import run_worker_once

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_long_export_becomes_a_job_whose_page_offers_the_download(page, screenshot, demo_manager, settings, tmp_path):
    settings.JOBS_DIR = str(tmp_path / "jobs")
    settings.EXPORT_BACKGROUND_ROWS = 2
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    for product in ("Ноутбук", "Мышь", "Монитор"):
        OrderFactory(product=product)
    watch = PolicyWatch(page)
    log_in(page)

    page.goto("/admin/crm/order/export/")
    page.select_option("select[name=format]", "0")  # CSV
    page.locator("form button[type=submit]").last.click()

    page.wait_for_url("**/admin/jobs/job/*/change/")
    expect(page.locator("#job-state")).to_have_attribute("data-state", "queued")
    screenshot("export-job-01-queued")
    watch.check("queued export")

    run_worker_once()

    link = page.locator("#job-export a")
    expect(link).to_be_visible(timeout=10_000)  # htmx brought it, no reload
    expect(page.locator("#job-state")).to_have_attribute("data-state", "done")
    screenshot("export-job-02-done")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    job = Job.objects.get()
    assert download.suggested_filename == job.file_name and job.file_name.startswith("заказы-")
    content = open(download.path(), encoding="utf-8-sig").read()
    assert content.startswith("ID;Создан;") and "Монитор" in content and "Мышь" in content
    watch.check("finished export")
