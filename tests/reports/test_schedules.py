"""Scheduled reports: the worker's step queues each due schedule once, and the job makes the report as the owner
and e-mails it; a send that fails fails the job and the schedule, and the owner retries it from the Jobs page."""

import socket
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crm.jobs.models import Job
from reports.models import Report, ReportSchedule
from reports.schedules import enqueue_due_schedules, next_run_after, report_schedule_save
from tests.admin.test_russian_everywhere import english_words
from tests.factories import make_user
from tests.reports.conftest import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def jobs_dir(settings, tmp_path):
    settings.JOBS_DIR = str(tmp_path / "jobs")


@pytest.fixture
def immediate_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def dummy_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def make_schedule(owner, *, due_at=None, **fields) -> ReportSchedule:
    schedule = report_schedule_save(
        schedule=ReportSchedule(owner=owner, recipients="boss@example.com, Sales@Example.com", **fields)
    )
    if due_at is not None:
        ReportSchedule.objects.filter(pk=schedule.pk).update(next_run_at=due_at)
        schedule.refresh_from_db()
    return schedule


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_saving_works_out_the_next_run_and_normalises_the_recipients(manager):
    schedule = make_schedule(manager)
    assert schedule.recipients == "boss@example.com, sales@example.com"
    assert schedule.recipient_list == ["boss@example.com", "sales@example.com"]
    now = timezone.now()
    assert now < schedule.next_run_at <= now + timedelta(days=7)
    assert timezone.localtime(schedule.next_run_at).weekday() == 0 and timezone.localtime(schedule.next_run_at).hour == 9


def test_turning_a_schedule_off_clears_its_next_run_and_on_again_works_it_out(manager):
    schedule = make_schedule(manager)
    schedule.is_active = False
    assert report_schedule_save(schedule=schedule).next_run_at is None
    schedule.is_active = True
    assert report_schedule_save(schedule=schedule).next_run_at is not None


def test_saving_without_a_timing_change_keeps_the_next_run_the_scheduler_set(manager):
    schedule = make_schedule(manager, due_at=timezone.now() - timedelta(minutes=1))
    stale_copy = ReportSchedule.objects.get(pk=schedule.pk)
    enqueue_due_schedules()  # moves the next run on
    stale_copy.recipients = "other@example.com"
    report_schedule_save(schedule=stale_copy)
    schedule.refresh_from_db()
    assert schedule.next_run_at > timezone.now() and schedule.recipients == "other@example.com"


def test_a_due_schedule_is_queued_once_and_moves_on(manager, dummy_backend, django_capture_on_commit_callbacks):
    due = make_schedule(manager, due_at=timezone.now() - timedelta(seconds=5))
    not_yet = make_schedule(manager)
    off = make_schedule(manager, due_at=timezone.now() - timedelta(seconds=5))
    ReportSchedule.objects.filter(pk=off.pk).update(is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        jobs = enqueue_due_schedules()
    assert enqueue_due_schedules() == []  # a second pass finds nothing due

    [job] = jobs
    assert job.kind == Job.Kind.SCHEDULED_REPORT and job.owner == manager and job.state == Job.State.QUEUED
    assert job.params["schedule_id"] == due.pk and Job.objects.get().task_id  # handed to the task backend
    due.refresh_from_db()
    assert due.next_run_at > timezone.now()
    assert ReportSchedule.objects.get(pk=not_yet.pk).next_run_at == not_yet.next_run_at


def test_missed_runs_are_caught_up_with_one_report(manager, dummy_backend):
    # The workers were down for three weeks: one job, and the next run is the first one after now.
    schedule = make_schedule(manager, due_at=timezone.now() - timedelta(weeks=3))
    now = timezone.now()

    assert len(enqueue_due_schedules(now=now)) == 1

    schedule.refresh_from_db()
    assert schedule.next_run_at == next_run_after(schedule, now)
    assert enqueue_due_schedules(now=now) == []


def test_the_job_e_mails_the_report_made_as_the_owner(
    client, manager, settings, immediate_backend, django_capture_on_commit_callbacks
):
    settings.DEFAULT_FROM_EMAIL = "crm@example.com"
    now = timezone.now()
    make_order(created_at=now - timedelta(days=1), product="Ноутбук", quantity=2, price="1500.00")
    make_order(created_at=now - timedelta(days=2), product="Мышь", price="250.50")
    make_order(created_at=now - timedelta(days=20), product="Монитор", price="9000.00")  # outside the week
    schedule = make_schedule(manager, due_at=now - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        [job] = enqueue_due_schedules()

    job.refresh_from_db()
    report = Report.objects.get()
    assert job.state == Job.State.DONE and job.params["report_id"] == report.pk
    assert report.period == "week" and report.created_by == manager
    [message] = mail.outbox
    assert message.to == ["boss@example.com", "sales@example.com"] and message.from_email == "crm@example.com"
    start, end = (timezone.localtime(moment).strftime("%d.%m.%Y") for moment in (report.period_start, report.period_end))
    assert message.subject == f"Отчёт за неделю: {start} – {end}"
    assert "Кол-во новых заказов: 2\n" in message.body
    assert "Сумма новых заказов: 3250.50\n" in message.body
    assert "1. Ноутбук — заказов: 1, сумма: 3000.00" in message.body
    [(file_name, content, mimetype)] = message.attachments
    assert file_name == f"report_{report.pk}.txt" and content == message.body and mimetype == "text/plain"
    attachment = next(part for part in message.message().walk() if part.get_filename())
    assert attachment["Content-Type"] == 'text/plain; charset="utf-8"'

    schedule.refresh_from_db()
    assert schedule.last_sent_at is not None and schedule.last_error == ""

    # The job's page links the report, in Russian, without an import's counts.
    client.force_login(manager)
    page = client.get(reverse("admin:jobs_job_change", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert f'href="{reverse("admin:reports_report_change", args=[report.pk])}"' in page and "Отчёт по расписанию" in page
    assert "Без изменений" not in page and english_words(page) - {"manager", "M"} == set()


def test_smtp_down_fails_the_job_and_the_schedule_and_the_owner_retries_it(
    client, manager, settings, immediate_backend, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 5
    schedule = make_schedule(manager, due_at=timezone.now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        [job] = enqueue_due_schedules()

    job.refresh_from_db()
    schedule.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.error.startswith("Письмо не отправлено: ") and "Connection refused" in job.error
    assert schedule.last_error == job.error and schedule.last_sent_at is None
    report = Report.objects.get()  # made once; the retry sends it

    client.force_login(manager)
    page = client.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()
    assert reverse("admin:jobs_job_retry", args=[job.pk]) in page and "Письмо не отправлено" in page
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the server is back
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("admin:jobs_job_retry", args=[job.pk])).status_code == 302

    job.refresh_from_db()
    schedule.refresh_from_db()
    assert job.state == Job.State.DONE and job.attempts == 2
    assert Report.objects.get() == report and len(mail.outbox) == 1 and f"report_{report.pk}.txt" in str(
        mail.outbox[0].attachments
    )
    assert schedule.last_error == "" and schedule.last_sent_at is not None


def test_nothing_is_sent_for_an_owner_who_may_no_longer_make_reports(
    manager, immediate_backend, django_capture_on_commit_callbacks
):
    schedule = make_schedule(manager, due_at=timezone.now() - timedelta(seconds=1))
    manager.groups.clear()

    with django_capture_on_commit_callbacks(execute=True):
        [job] = enqueue_due_schedules()

    job.refresh_from_db()
    schedule.refresh_from_db()
    assert job.state == Job.State.FAILED and job.error.startswith("Владелец рассылки больше не может")
    assert schedule.last_error == job.error and mail.outbox == [] and not Report.objects.exists()


def test_a_schedule_deleted_before_its_job_runs_sends_nothing(manager, dummy_backend):
    schedule = make_schedule(manager, due_at=timezone.now() - timedelta(seconds=1))
    [job] = enqueue_due_schedules()
    schedule.delete()

    from crm.jobs.tasks import run_job

    run_job.call(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.error and mail.outbox == []


def test_a_job_of_the_owner_shows_on_their_jobs_page_and_not_another_managers(
    client, manager, dummy_backend
):
    make_schedule(manager, due_at=timezone.now() - timedelta(seconds=1))
    [job] = enqueue_due_schedules()
    client.force_login(manager)
    assert reverse("admin:jobs_job_change", args=[job.pk]) in client.get(reverse("admin:jobs_job_changelist")).content.decode()
    client.force_login(make_user("other", group="Managers"))
    assert client.get(reverse("admin:jobs_job_change", args=[job.pk])).status_code == 404


def test_an_unexpected_error_fails_the_job_and_shows_on_the_schedule(
    manager, immediate_backend, django_capture_on_commit_callbacks
):
    schedule = make_schedule(manager, due_at=timezone.now() - timedelta(seconds=1))

    with mock.patch("reports.schedules.report_generate", side_effect=RuntimeError("boom")):
        with django_capture_on_commit_callbacks(execute=True):
            [job] = enqueue_due_schedules()

    job.refresh_from_db()
    schedule.refresh_from_db()
    assert job.state == Job.State.FAILED and job.error
    assert schedule.last_error == "Задача остановилась из-за непредвиденной ошибки; ничего не отправлено."
    assert mail.outbox == [] and not Report.objects.exists()
