"""Several workers look for due schedules at the same moment: each due schedule is queued exactly once (row locks
with SKIP LOCKED on PostgreSQL, one writer at a time on SQLite), its next run moved on in the same transaction."""

import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection, connections
from django.utils import timezone

from crm.jobs.models import Job
from reports import schedules
from reports.models import ReportSchedule
from tests.factories import make_user
from tests.jobs.processes import ROOT, env, shell  # noqa: F401  (env is a fixture)

pytestmark = pytest.mark.django_db(transaction=True)
SCHEDULES = 20


@pytest.fixture
def jobs_dir(settings, tmp_path):
    settings.JOBS_DIR = str(tmp_path / "jobs")
    return tmp_path / "jobs"


@pytest.fixture
def due_schedules(db):
    owner = make_user("owner", superuser=True)
    made = [
        schedules.report_schedule_save(schedule=ReportSchedule(owner=owner, recipients=f"r{n}@example.com"))
        for n in range(SCHEDULES)
    ]
    ReportSchedule.objects.update(next_run_at=timezone.now() - timedelta(minutes=1))
    return made


def slow_job_create(**fields):
    time.sleep(0.02)  # holds the rows a little longer, so that the two passes overlap
    return original_job_create(**fields)


original_job_create = schedules.job_create


def assert_each_queued_once():
    queued = Counter(Job.objects.values_list("params__schedule_id", flat=True))
    assert len(queued) == SCHEDULES and set(queued.values()) == {1}
    assert not ReportSchedule.objects.filter(next_run_at__lte=timezone.now()).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads with their own connections: PostgreSQL")
def test_two_threads_at_once_queue_each_due_schedule_once(due_schedules, jobs_dir, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    start = threading.Barrier(2)
    counts, errors = [], []

    def worker():
        try:
            start.wait()
            counts.append(len(schedules.enqueue_due_schedules()))
        except Exception as error:  # pragma: no cover - shown by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    with mock.patch.object(schedules, "job_create", slow_job_create):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert errors == [] and sorted(counts, reverse=True)[0] > 0 and sum(counts) == SCHEDULES
    assert_each_queued_once()


def test_two_worker_processes_at_once_queue_each_due_schedule_once(env):  # noqa: F811
    shell(env, (
        "from datetime import timedelta; from django.utils import timezone; from tests.factories import make_user; "
        "from reports.models import ReportSchedule; from reports.schedules import report_schedule_save; "
        "owner = make_user('owner', superuser=True); "
        f"[report_schedule_save(schedule=ReportSchedule(owner=owner, recipients=f'r{{n}}@example.com')) "
        f"for n in range({SCHEDULES})]; "
        "ReportSchedule.objects.update(next_run_at=timezone.now() - timedelta(minutes=1))"
    ))
    start_at = time.time() + 4  # both processes set up Django first, then start together
    code = (
        "import time; import reports.schedules as s; original = s.job_create; "
        "s.job_create = lambda **fields: (time.sleep(0.02), original(**fields))[1]; "
        f"time.sleep(max(0, {start_at} - time.time())); print(len(s.enqueue_due_schedules()))"
    )
    command = [sys.executable, str(ROOT / "manage.py"), "shell", "--no-imports", "-c", code]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    counts = [int(stdout.strip()) for stdout, _stderr in outputs]

    outcome = shell(env, (
        "from collections import Counter; from django.utils import timezone; from crm.jobs.models import Job; "
        "from reports.models import ReportSchedule; "
        "print(sorted(Counter(Job.objects.values_list('params__schedule_id', flat=True)).values()), "
        "ReportSchedule.objects.filter(next_run_at__lte=timezone.now()).count())"
    ))
    assert sum(counts) == SCHEDULES and outcome == f"{[1] * SCHEDULES} 0"
