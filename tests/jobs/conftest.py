import pytest
from django.utils import translation


def clients_csv(count: int, *, bad_line: int | None = None) -> bytes:
    """`count` new clients; the data row at file line `bad_line` (if any) has an invalid e-mail."""
    lines = ["Фамилия,Имя,E-mail"]
    for number in range(count):
        email = "not-an-email" if bad_line == number + 2 else f"client{number}@example.com"
        lines.append(f"Иванов,Иван{number},{email}")
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture(autouse=True)
def jobs_dir(settings, tmp_path):
    settings.JOBS_DIR = str(tmp_path / "jobs")
    return tmp_path / "jobs"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def immediate_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def database_backend(settings):
    # django-tasks drops its cached backends when the setting changes.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_worker_once():
    """Run every queued task in this process, as `run_worker --batch` would, and return."""
    from unittest import mock

    from django_tasks_db.management.commands.db_worker import Worker

    # The worker closes "old" connections between tasks, which would end the test's transaction.
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        Worker(
            queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
            max_tasks=None, worker_id="test-worker", excluded_queue_names=[],
        ).run()
