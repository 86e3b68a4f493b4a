"""The worker looks for due schedules: once for `run_worker --batch`, every minute in a thread otherwise (in the
process that runs the tasks, not the autoreloader's parent)."""

import email
import email.policy
import subprocess
import sys
from unittest import mock

import pytest
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV

from reports import schedules
from tests.jobs.processes import ROOT, env, shell  # noqa: F401  (env is a fixture)


@pytest.fixture
def jobs_dir(settings, tmp_path):
    settings.JOBS_DIR = str(tmp_path / "jobs")
    return tmp_path / "jobs"


@pytest.mark.parametrize(
    ("batch", "reload", "child", "once", "thread"),
    [
        (True, False, False, True, False),
        (False, False, False, False, True),
        (False, True, False, False, False),  # the autoreloader's parent: its child runs the tasks
        (False, True, True, False, True),
    ],
)
def test_the_worker_checks_once_in_batch_mode_else_in_a_thread(monkeypatch, batch, reload, child, once, thread):
    if child:
        monkeypatch.setenv(DJANGO_AUTORELOAD_ENV, "true")
    else:
        monkeypatch.delenv(DJANGO_AUTORELOAD_ENV, raising=False)
    with mock.patch.object(schedules, "enqueue_due_schedules") as enqueue, \
            mock.patch.object(schedules, "start_schedule_checks") as start:
        schedules.check_schedules_in_worker(batch=batch, reload=reload)
    assert (enqueue.called, start.called) == (once, thread)


def test_the_checking_thread_survives_an_error_and_checks_again():
    calls = []

    def enqueue():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        if len(calls) == 3:
            raise SystemExit  # ends the test's loop

    with mock.patch.object(schedules, "enqueue_due_schedules", enqueue), \
            mock.patch.object(schedules.clock, "sleep") as sleep, mock.patch.object(schedules, "connections") as connections:
        with pytest.raises(SystemExit):
            schedules._check_schedules_forever(60)
    assert len(calls) == 3 and sleep.call_count == 2
    assert connections.close_all.call_count == 3  # the thread's connection is closed after every pass


@pytest.mark.django_db(transaction=True)
def test_run_worker_batch_sends_a_due_report(env):  # noqa: F811
    env = {**env, "EMAIL_BACKEND": "console", "DEFAULT_FROM_EMAIL": "crm@example.com"}
    shell(env, (
        "from datetime import timedelta; from django.utils import timezone; from tests.factories import make_user; "
        "from reports.models import ReportSchedule; from reports.schedules import report_schedule_save; "
        "s = report_schedule_save(schedule=ReportSchedule(owner=make_user('owner', superuser=True), "
        "recipients='boss@example.com')); "
        "ReportSchedule.objects.filter(pk=s.pk).update(next_run_at=timezone.now() - timedelta(minutes=1))"
    ))

    worker = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "run_worker", "--batch", "--no-reload", "--no-startup-delay", "-v0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )

    assert worker.returncode == 0, worker.stderr
    # The console backend prints the message, then a line of dashes.
    printed = worker.stdout.split("\n" + "-" * 79)[0].encode()
    message = email.message_from_bytes(printed, policy=email.policy.default)
    assert (message["To"], message["From"]) == ("boss@example.com", "crm@example.com")
    assert message["Subject"].strip().startswith("Отчёт за неделю: ")
    assert "Отчет за период: Неделя" in message.get_body().get_content()
    outcome = shell(env, (
        "from crm.jobs.models import Job; from reports.models import Report, ReportSchedule; "
        "s = ReportSchedule.objects.get(); "
        "print(list(Job.objects.values_list('kind', 'state')), Report.objects.count(), bool(s.last_sent_at))"
    ))
    assert outcome == "[('scheduled_report', 'done')] 1 True"
