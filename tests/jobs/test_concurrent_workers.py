"""Two workers at once take disjoint jobs: each of N jobs is run exactly once (row locks with SKIP LOCKED on
PostgreSQL, an exclusive transaction on SQLite)."""

import subprocess
import sys

import pytest

from tests.jobs.processes import ROOT, env, manage, shell  # noqa: F401  (env is a fixture)

pytestmark = pytest.mark.django_db(transaction=True)
JOBS = 8


def test_two_workers_run_every_job_exactly_once(env):
    shell(env, (
        "from tests.factories import make_user; from crm.jobs.services import job_create; "
        "owner = make_user('owner'); "
        f"[job_create(kind='import_clients', owner=owner, data=('Фамилия,Имя,E-mail\\n' + "
        f"''.join(f'Иванов,Иван,j{{j}}-c{{c}}@example.com\\n' for c in range(50))).encode(), "
        f"file_name=f'{{j}}.csv', params={{'format': 'csv'}}) for j in range({JOBS})]"
    ))
    command = [sys.executable, str(ROOT / "manage.py"), "run_worker", "--batch", "--no-reload", "--no-startup-delay", "-v0"]
    workers = [subprocess.Popen([*command, "--worker-id", f"w{n}"], cwd=ROOT, env=env) for n in range(2)]
    assert [worker.wait(timeout=180) for worker in workers] == [0, 0]

    outcome = shell(env, (
        "from crm.jobs.models import Job; from crm.models import Client; "
        "from django_tasks_db.models import DBTaskResult; "
        "print(sorted(set(Job.objects.values_list('state', 'attempts'))), Client.objects.count(), "
        "sorted(len(ids) for ids in DBTaskResult.objects.values_list('worker_ids', flat=True)) == [1] * "
        f"{JOBS}, DBTaskResult.objects.filter(status='SUCCESSFUL').count())"
    ))
    # Every job done, once; every row there; every task claimed by one worker, successfully.
    assert outcome == f"[('done', 1)] {JOBS * 50} True {JOBS}"
