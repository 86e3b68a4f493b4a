"""The queue with the Redis backend (TASKS_BACKEND=redis), through a real Redis at 127.0.0.1:6379, database 9
(10, 11, ... under more xdist workers; flushed before and after each test: nothing else may live there), and real
`run_worker` processes.

Skipped, with the reason in pytest's summary, where that Redis is not reachable; with REQUIRE_REDIS=1 (CI sets
it) the skip is a failure instead.
"""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.jobs.conftest import clients_csv
from tests.jobs.processes import ROOT, env, manage, shell  # noqa: F401  (env is a fixture)

# One database per xdist worker (9, 10, ...): each test flushes its own, never a neighbour's running jobs.
_WORKER_NUMBER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{9 + _WORKER_NUMBER}")

pytestmark = pytest.mark.django_db(transaction=True)  # workers are other processes: rows must be committed


@pytest.fixture
def redis_queue(settings):
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError as error:
        message = f"REDIS NOT REACHABLE at {REDIS_URL} ({error}): the Redis task backend is NOT tested"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(message + " (REQUIRE_REDIS=1)")
        pytest.skip(message)
    client.flushdb()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    settings.RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def redis_env(env, redis_queue):
    return {**env, "TASKS_BACKEND": "redis", "TASKS_REDIS_URL": REDIS_URL}


def test_jobs_go_through_redis_and_two_workers_run_each_exactly_once(redis_env, redis_queue):
    shell(redis_env, (
        "from tests.factories import make_user; from crm.jobs.services import job_create; "
        "owner = make_user('owner')\n"
        "for n in range(8):\n"
        "    data = '\\n'.join(['Фамилия,Имя,E-mail'] + [f'Иванов,Иван,c{n}-{i}@example.com' for i in range(5)])\n"
        "    job_create(kind='import_clients', owner=owner, data=data.encode(), file_name=f'c{n}.csv', "
        "params={'format': 'csv', 'language': 'en'})"
    ))
    assert redis_queue.llen("rq:queue:default") == 8  # queued in Redis, not in the database

    workers = [
        subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "run_worker", "--batch", "--no-reload", "-v0"],
                         cwd=ROOT, env=redis_env)
        for _ in range(2)
    ]
    for worker in workers:
        assert worker.wait(timeout=120) == 0

    outcome = shell(redis_env, (
        "from crm.jobs.models import Job; from crm.models import Client; from crm.jobs.tasks import run_job\n"
        "for job in Job.objects.order_by('pk'):\n"
        "    print(job.state, job.attempts, job.new, run_job.get_backend().get_result(job.task_id).status)\n"
        "print(Client.objects.count())"
    ))
    assert outcome.splitlines() == ["done 1 5 SUCCESSFUL"] * 8 + ["40"]  # each job run once, by one worker
    assert redis_queue.llen("rq:queue:default") == 0


def test_run_worker_on_an_unreachable_redis_says_so(env):
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "run_worker", "--batch", "--no-reload", "-v0"],
        cwd=ROOT, env={**env, "TASKS_BACKEND": "redis", "TASKS_REDIS_URL": "redis://127.0.0.1:1/0"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "Cannot reach Redis (TASKS_REDIS_URL)" in result.stderr and "Traceback" not in result.stderr


def test_a_redis_worker_killed_mid_import_writes_nothing_and_its_job_is_failed_on_the_next_start(
    redis_env, redis_queue, jobs_dir, tmp_path
):
    (tmp_path / "clients.csv").write_bytes(clients_csv(20_000))
    job_id = shell(redis_env, (
        "from tests.factories import make_user; from crm.jobs.services import job_create; "
        f"data = open({str(tmp_path / 'clients.csv')!r}, 'rb').read(); "
        "job = job_create(kind='import_clients', owner=make_user('owner'), data=data, file_name='clients.csv', "
        "params={'format': 'csv', 'language': 'en'}); print(job.pk)"
    ))
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "run_worker", "--no-reload", "-v0"], cwd=ROOT, env=redis_env,
    )
    try:
        progress = jobs_dir / f"job-{job_id}.progress"
        deadline = time.monotonic() + 120
        while not (progress.exists() and '"done": 0,' not in progress.read_text()):
            assert time.monotonic() < deadline, "the worker never started the import"
            assert worker.poll() is None, "the worker stopped on its own"
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)  # mid-import, inside the import's transaction
    finally:
        worker.kill()
        worker.wait()

    state = shell(redis_env, (
        "from crm.jobs.models import Job; from crm.models import Client; from crm.jobs.tasks import run_job; "
        f"job = Job.objects.get(pk={job_id}); "
        "print(job.state, run_job.get_backend().get_result(job.task_id).status, Client.objects.count())"
    ))
    assert state == "running RUNNING 0"  # what the kill left: no rows, a job (and an rq task) nobody runs

    manage(redis_env, "run_worker", "--batch", "--no-reload", "-v0")

    outcome = shell(redis_env, (
        "from crm.jobs.models import Job; from crm.models import Client; from crm.jobs.tasks import run_job; "
        f"job = Job.objects.get(pk={job_id}); "
        "print(job.state, run_job.get_backend().get_result(job.task_id).status, Client.objects.count()); "
        "print(job.error)"
    ))
    assert outcome.splitlines() == [
        "failed FAILED 0", "The worker stopped while running this job; nothing was written. Retry it."
    ]


def test_tasks_backend_redis_selects_the_rq_backend_on_tasks_redis_url():
    from tests.config.test_settings import run_settings

    code = ("import django, json; django.setup(); from django.conf import settings as s; "
            "print(json.dumps([s.TASKS['default']['BACKEND'], s.RQ_QUEUES['default']['URL'], 'django_rq' in s.INSTALLED_APPS]))")
    default = run_settings({"DJANGO_SECRET_KEY": "x" * 50}, code)
    assert default.stdout.strip().splitlines()[-1] == '["django_tasks_db.DatabaseBackend", "redis://127.0.0.1:6379/0", false]'
    redis = run_settings({"DJANGO_SECRET_KEY": "x" * 50, "TASKS_BACKEND": "redis", "TASKS_REDIS_URL": "redis://queue:6379/3"}, code)
    assert redis.stdout.strip().splitlines()[-1] == '["django_tasks_rq.RQBackend", "redis://queue:6379/3", true]'
