"""Exports as background jobs: the file is written by a worker into the "exports" storage, downloaded by the
job's owner only, and deleted EXPORT_KEEP_HOURS after the job ended.

What to export is kept with the job as parameters, never as a pickled queryset: for an admin export the
list's query string (search and filters), replayed through the admin's own change list as the owner
(crm/admin/exportjobs.py); for the export_* commands their options, given to the command's own get_queryset().
Either way the owner's permissions are checked again when the job runs.

Rows are read from the database in chunks (queryset.iterator) and written one by one to a temporary file in
JOBS_DIR, which is then handed to the storage: the worker never holds the export in memory.
"""

import logging
import os
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.jobs import files, services
from crm.jobs.models import Job
from crm.private_files import private_dir

logger = logging.getLogger(__name__)

XLSX_MAX_ROWS = 1_048_575  # an Excel sheet's rows, less the header


class ExportRefused(Exception):
    """The export cannot run (its owner may no longer export, its filters are no longer valid): why."""


def export_storage():
    """The "exports" storage; a FileSystemStorage configured without a location keeps the files in
    <JOBS_DIR>/exports, a folder private to the app's user (never under a publicly served media URL)."""
    storage = storages["exports"]
    if isinstance(storage, FileSystemStorage) and "location" not in settings.STORAGES["exports"].get("OPTIONS", {}):
        location = private_dir(str(files.jobs_dir() / "exports"), "crm-jobs/exports", "JOBS_DIR")
        return FileSystemStorage(location=location, file_permissions_mode=0o600, directory_permissions_mode=0o700)
    return storage


def export_job_create(*, kind: str, owner, source: dict, format_name: str, file_name: str, language: str,
                      total: int = 0) -> Job:
    """A queued export: `source` says what to export ({"source": "admin", "query": ...} or
    {"source": "command", "options": {...}}), `file_name` what the download is called."""
    params = {"format": format_name, "language": language, **source}
    return services.job_create(kind=kind, owner=owner, data=None, file_name=file_name, params=params, total=total)


def export_source(job: Job):
    """The resource and queryset the job exports, built again from its parameters, as its owner."""
    if job.params.get("source") == "admin":
        from crm.admin.exportjobs import admin_export_source

        return admin_export_source(job)
    return command_export_source(job)


def command_export_source(job: Job):
    """An export_* command's job: its options through that command's own get_queryset()."""
    from django.core.management import load_command_class

    model_name = "client" if job.kind == Job.Kind.EXPORT_CLIENTS else "order"
    if not (job.owner.is_active and job.owner.has_perm(f"crm.view_{model_name}")):
        raise ExportRefused(no_permission_message(job))
    command = load_command_class("crm", job.kind)  # the kinds are the commands' names: export_clients, export_orders
    return command.resource_class(), command.get_queryset(job.params.get("options", {}))


def no_permission_message(job: Job) -> str:
    return _("%(user)s may no longer export this list; nothing was exported.") % {"user": job.owner.get_username()}


def run_export(job: Job) -> None:
    """Write the job's export to a temporary file, row by row, then into the exports storage."""
    from crm.importexport.exports import export_to_stream
    from crm.importexport.formats import FORMATS_BY_NAME, XlsxFormat

    try:
        resource, queryset = export_source(job)
    except ExportRefused as error:
        services.job_fail(job, str(error))
        return
    file_format = FORMATS_BY_NAME[job.params["format"]]()
    queryset = resource.filter_export(queryset)
    total = queryset.count()
    if isinstance(file_format, XlsxFormat) and total > XLSX_MAX_ROWS:
        services.job_fail(job, _(
            "An Excel sheet holds at most %(max)s rows and this list has %(total)s; export it as CSV."
        ) % {"max": XLSX_MAX_ROWS, "total": total})
        return
    Job.objects.filter(pk=job.pk).update(total=total)
    progress = files.ProgressWriter(job.pk, total)
    progress(0)
    temporary = temporary_path(job.pk)
    binary = isinstance(file_format, XlsxFormat)
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        mode = {"mode": "wb"} if binary else {"mode": "w", "encoding": "utf-8", "newline": ""}
        with os.fdopen(descriptor, **mode) as stream:
            # filter_export() is done above (the count needs it); doing it twice only repeats select_related.
            count = export_to_stream(resource, queryset, file_format, stream, progress=progress)
        with temporary.open("rb") as output:
            name = export_storage().save(f"job-{job.pk}/{job.file_name}", File(output, name=job.file_name))
    finally:
        temporary.unlink(missing_ok=True)
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.DONE, finished_at=timezone.now(), total=count, done=count, output_file=name, error="",
    )
    files.progress_path(job.pk).unlink(missing_ok=True)


def export_expires_at(job: Job):
    return job.finished_at + timedelta(hours=settings.EXPORT_KEEP_HOURS) if job.finished_at else None


def export_available(job: Job) -> bool:
    """Whether the job's file can still be downloaded (done, not yet expired nor deleted)."""
    if job.state != Job.State.DONE or not job.output_file:
        return False
    return timezone.now() < export_expires_at(job)


def export_open(job: Job):
    """The job's file, opened for reading from the storage; OSError if it is gone."""
    return export_storage().open(job.output_file, "rb")


def export_delete(job: Job) -> None:
    """Delete the job's file from the storage and forget it (the job page then says it expired)."""
    if job.output_file:
        try:
            export_storage().delete(job.output_file)
        except OSError:
            logger.warning("Job %s: its export %s could not be deleted.", job.pk, job.output_file)
            return
        _remove_empty_folder(job.output_file)
    Job.objects.filter(pk=job.pk).update(output_file="")
    job.output_file = ""


def _remove_empty_folder(name: str) -> None:
    storage = export_storage()
    if isinstance(storage, FileSystemStorage):
        try:
            Path(storage.path(name)).parent.rmdir()
        except OSError:
            pass


def sweep_expired_exports(*, now=None) -> int:
    """Delete the files of exports finished more than EXPORT_KEEP_HOURS ago; how many."""
    now = now or timezone.now()
    deadline = now - timedelta(hours=settings.EXPORT_KEEP_HOURS)
    expired = Job.objects.filter(
        kind__in=[Job.Kind.EXPORT_CLIENTS, Job.Kind.EXPORT_ORDERS], finished_at__lt=deadline
    ).exclude(output_file="")
    removed = 0
    for job in expired.iterator():
        export_delete(job)
        removed += 1
    _delete_abandoned_temporary_files()
    return removed


def temporary_path(job_id: int) -> Path:
    return files.jobs_dir() / f"job-{int(job_id)}.output"


def _delete_abandoned_temporary_files() -> None:
    """The half-written file of an export whose worker was killed (kill -9, out of memory)."""
    for path in files.jobs_dir().glob("job-*.output"):
        job_id = path.stem.removeprefix("job-")
        if job_id.isdecimal() and not Job.objects.filter(pk=int(job_id), state=Job.State.RUNNING).exists():
            path.unlink(missing_ok=True)


def download_name(job: Job) -> str:
    return job.file_name or Path(job.output_file).name


SWEEP_SECONDS = 600


def start_export_sweeper(interval: float = SWEEP_SECONDS):
    """A daemon thread of the worker deleting expired exports every `interval` seconds, so that a file goes
    within minutes of EXPORT_KEEP_HOURS even while the worker has nothing else to do."""
    import threading
    import time

    from django.db import connections

    def sweep_forever():
        while True:
            time.sleep(interval)
            try:
                sweep_expired_exports()
            except Exception:
                logger.exception("The sweep of expired exports failed; it runs again in %s s.", interval)
            finally:
                connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=sweep_forever, name="export-sweeper", daemon=True)
    thread.start()
    return thread


def export_download(job: Job):
    """The job's file as an attachment under its Russian name, streamed from the storage; None if it has
    expired (deleted now if the sweep has not come yet) or is gone."""
    from django.http import FileResponse

    from crm.importexport.formats import FORMATS_BY_NAME

    if not export_available(job):
        if job.output_file:
            export_delete(job)
        return None
    try:
        file = export_open(job)
    except OSError:  # deleted behind our back (another host's sweep, an operator)
        Job.objects.filter(pk=job.pk).update(output_file="")
        return None
    content_type = FORMATS_BY_NAME[job.params["format"]]().get_content_type()
    return FileResponse(file, as_attachment=True, filename=download_name(job), content_type=content_type)


def export_context(job: Job, user) -> dict:
    """What the job page says about an export: its download link, or that the file expired."""
    from django.urls import reverse

    return {
        "available": export_available(job),
        "expired": job.state == Job.State.DONE and not export_available(job),
        "is_owner": job.owner_id == user.pk,
        "download_url": reverse("admin:jobs_job_download", args=[job.pk]),
        "file_name": download_name(job),
        "expires_at": export_expires_at(job),
        "keep_hours": settings.EXPORT_KEEP_HOURS,
    }
