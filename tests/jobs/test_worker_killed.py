"""A worker killed with SIGKILL in the middle of an import: nothing written, and the job not left running.

django-tasks-db leaves the task of a killed worker RUNNING for ever and never retries it; our run_worker
marks the job (and its task) failed on its next start, since its process is gone, and the import's
transaction died with the connection. Real processes, a real file or server database, a real SIGKILL.
"""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.jobs.conftest import clients_csv
from tests.jobs.processes import ROOT, env, manage, shell  # noqa: F401  (env is a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_killed_mid_import_writes_nothing_and_its_job_is_failed_on_the_next_start(env, tmp_path, jobs_dir):
    (tmp_path / "clients.csv").write_bytes(clients_csv(20_000))
    job_id = shell(env, (
        "from tests.factories import make_user; from crm.jobs.services import job_create; "
        f"data = open({str(tmp_path / 'clients.csv')!r}, 'rb').read(); "
        "job = job_create(kind='import_clients', owner=make_user('owner'), data=data, file_name='clients.csv', "
        "params={'format': 'csv', 'language': 'en'}); print(job.pk)"
    ))
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "run_worker", "--no-reload", "--no-startup-delay", "--interval", "0.1", "-v0"],
        cwd=ROOT, env=env,
    )
    try:
        progress = jobs_dir / f"job-{job_id}.progress"
        deadline = time.monotonic() + 120
        while not (progress.exists() and '"done": 0,' not in progress.read_text()):
            assert time.monotonic() < deadline, "the worker never started the import"
            assert worker.poll() is None, "the worker stopped on its own"
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)  # mid-import: rows read, inside the import's transaction
    finally:
        worker.kill()
        worker.wait()

    state = shell(env, (
        "from crm.jobs.models import Job; from crm.models import Client; "
        f"job = Job.objects.get(pk={job_id}); print(job.state, job.done < 20000, Client.objects.count())"
    ))
    assert state == "running True 0"  # what the kill left: no rows, a job nobody runs

    manage(env, "run_worker", "--batch", "--no-reload", "--no-startup-delay", "-v0")

    outcome = shell(env, (
        "from crm.jobs.models import Job; from crm.models import Client; from django_tasks_db.models import DBTaskResult; "
        f"job = Job.objects.get(pk={job_id}); "
        "print(job.state, DBTaskResult.objects.get(id=job.task_id).status, Client.objects.count()); print(job.error)"
    ))
    assert outcome.splitlines() == [
        "failed FAILED 0", "The worker stopped while running this job; nothing was written. Retry it."
    ]
