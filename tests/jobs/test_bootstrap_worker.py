"""`python3 -m crm.bootstrap run` starts one worker beside the development server and stops it with it."""

import subprocess
import sys

from crm import bootstrap


def test_the_worker_is_started_for_the_database_queue_only(monkeypatch):
    started = []
    monkeypatch.setattr(bootstrap.subprocess, "Popen", lambda args, **kwargs: started.append(args) or "worker")

    assert bootstrap.start_worker(["python", "manage.py"], {"TASKS_BACKEND": "immediate"}) is None
    assert bootstrap.start_worker(["python", "manage.py"], {}) == "worker"
    assert started == [["python", "manage.py", "run_worker", "--no-reload"]]


def test_stopping_the_server_stops_its_worker():
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])

    bootstrap.stop_worker(worker)

    assert worker.poll() is not None


def test_a_worker_that_ignores_the_signal_is_killed_after_the_wait(monkeypatch):
    worker = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(flush=True); time.sleep(60)"], stdout=subprocess.PIPE)
    worker.stdout.readline()  # the handler is in place
    original_wait = worker.wait
    monkeypatch.setattr(worker, "wait", lambda timeout=None: original_wait(timeout=min(timeout or 5, 1)))

    bootstrap.stop_worker(worker)

    assert worker.poll() == -9
