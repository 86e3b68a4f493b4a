"""A job's files, in a private folder (JOBS_DIR): its input, and its progress while it runs.

The input (an uploaded import) is copied here when the job is created, so it outlives the upload's
confirmation window and a failed job can be retried. Progress goes to a small file rather than the
database: an import writes inside one transaction, which on SQLite holds the database's only write lock
until the end, so a progress row could not be updated (nor, on any database, seen by others) meanwhile.
"""

import json
import os
import time
from pathlib import Path

from django.conf import settings

from crm.private_files import private_dir


def jobs_dir() -> Path:
    return private_dir(settings.JOBS_DIR, "crm-jobs", "JOBS_DIR")


def input_path(job_id: int) -> Path:
    return jobs_dir() / f"job-{int(job_id)}.input"


def progress_path(job_id: int) -> Path:
    return jobs_dir() / f"job-{int(job_id)}.progress"


def save_input(job_id: int, data: bytes) -> None:
    descriptor = os.open(input_path(job_id), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def read_input(job_id: int) -> bytes:
    return input_path(job_id).read_bytes()


def has_input(job_id: int) -> bool:
    return input_path(job_id).exists()


def delete_files(job_id: int) -> None:
    input_path(job_id).unlink(missing_ok=True)
    progress_path(job_id).unlink(missing_ok=True)


def write_progress(job_id: int, done: int, total: int) -> None:
    path = progress_path(job_id)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"done": done, "total": total, "at": time.time()}))
    os.replace(temporary, path)  # atomic: a reader sees the old figures or the new, never half a file


def read_progress(job_id: int) -> dict | None:
    try:
        return json.loads(progress_path(job_id).read_text())
    except (OSError, ValueError):
        return None


class ProgressWriter:
    """The resources' progress callback: counts rows, writes the file at most every `interval` seconds."""

    def __init__(self, job_id: int, total: int, interval: float = 0.5):
        self.job_id = job_id
        self.total = total
        self.interval = interval
        self.done = 0
        self.last: float | None = None  # the first call always writes

    def __call__(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if self.last is None or now - self.last >= self.interval or self.done >= self.total:
            self.last = now
            write_progress(self.job_id, self.done, self.total)
