"""Base classes of the import_* and export_* management commands."""

import io
import shutil
import sys
from pathlib import Path

import tablib
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.importexport.formats import (
    FORMATS_BY_NAME, ImportFileError, XlsxFormat, export_file_name, format_for, format_name,
)
from crm.importexport.limits import ImportLimits
from crm.importexport.results import result_failed, result_notes, result_problems, result_summary
from crm.importexport.exports import export_to_stream
from crm.management.base import TranslatedCommand


def read_dataset(path: Path, file_format) -> tablib.Dataset:
    limits = ImportLimits.from_settings()
    try:
        # The size first: a file past the limit is refused without reading it (nor more than the limit
        # of a stream that tells no size, such as a pipe).
        limits.check_size(path.stat().st_size)
        with path.open("rb") as file:
            data = file.read(limits.max_bytes + 1)
    except OSError as error:
        raise CommandError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": error.strerror}) from None
    limits.check_size(len(data))
    return file_format.create_dataset(data)


class ImportCommand(TranslatedCommand):
    """Import one file with a resource: all rows or none, invalid rows listed with their line numbers."""

    resource_class = None

    def add_arguments(self, parser):
        parser.add_argument("path", help=gettext_lazy("CSV, XLSX or JSON file to import."))
        parser.add_argument("--format", choices=sorted(FORMATS_BY_NAME), help=gettext_lazy("Default: from the extension."))
        parser.add_argument("--dry-run", action="store_true", help=gettext_lazy("Check the file, write nothing."))
        parser.add_argument("--user", help=gettext_lazy("Username recorded in the history as the author."))
        parser.add_argument("--no-progress", action="store_true", help=gettext_lazy("Hide the progress bar."))
        parser.add_argument(
            "--background", action="store_true",
            help=gettext_lazy("Import in a background job owned by --user and follow its progress; Ctrl+C stops "
                              "following, not the job."),
        )

    def handle(self, *args, path, format, dry_run, user, no_progress, background=False, **options):
        from django.contrib.auth import get_user_model
        from tqdm import tqdm

        history_user = None
        if user:
            history_user = get_user_model().objects.filter(username=user).first()
            if history_user is None:
                raise CommandError(_("No user named %(username)s.") % {"username": user})
        if background and (dry_run or history_user is None):
            raise CommandError(_("--background needs --user (the job's owner) and cannot be a dry run."))
        path = Path(path)
        try:
            file_format = format_for(path, format)
            dataset = read_dataset(path, file_format)
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        if background:
            return self.import_in_background(path, file_format, dataset, history_user, no_progress)

        with tqdm(total=len(dataset), unit=_("rows"), disable=no_progress, file=sys.stderr) as bar:
            resource = self.resource_class(progress=bar.update)
            result = resource.import_data(
                dataset, dry_run=dry_run, file_name=path.name, user=history_user, raise_errors=False
            )

        self.stdout.write(result_summary(result))
        for note in result_notes(result):
            self.stdout.write(note)
        if result_failed(result):
            for problem in result_problems(result):
                self.stderr.write(problem)
            raise CommandError(_("Nothing was imported: fix the rows above and run the import again."))
        if dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
        else:
            self.stdout.write(self.style.SUCCESS(_("Imported.")))


    job_kind = None
    poll_seconds = 1.0

    def import_in_background(self, path, file_format, dataset, owner, no_progress):
        from django.utils.translation import get_language

        from crm.jobs.models import Job
        from crm.jobs.services import job_create

        job = job_create(
            kind=self.job_kind, owner=owner, data=path.read_bytes(), file_name=path.name,
            params={"format": format_name(file_format), "language": get_language()}, total=len(dataset),
        )
        self.stderr.write(_("Job #%(id)s queued.") % {"id": job.pk})
        if not follow_job(self, job, no_progress=no_progress):
            return
        self.stdout.write(
            _("%(total)s rows: %(new)s new, %(changed)s changed, %(unchanged)s unchanged, %(invalid)s invalid.") % {
                "total": job.total, "new": job.new, "changed": job.changed, "unchanged": job.unchanged,
                "invalid": job.invalid,
            }
        )
        if job.state != Job.State.DONE:
            for problem in job.problems:
                self.stderr.write(problem)
            raise CommandError(job.error)
        self.stdout.write(self.style.SUCCESS(_("Imported.")))


class ExportCommand(TranslatedCommand):
    """Export rows, chunk by chunk, to a file or to standard output."""

    resource_class = None

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", default="-", help=gettext_lazy("File to write; '-' for standard output."))
        parser.add_argument("--format", choices=sorted(FORMATS_BY_NAME), help=gettext_lazy("Default: from the extension, else csv."))
        parser.add_argument("--search", default="", help=gettext_lazy("Only rows matching this search, as in the lists."))
        parser.add_argument(
            "--background", action="store_true",
            help=gettext_lazy("Export in a background job owned by --user and follow its progress; the file stays in "
                              "the exports storage (its owner downloads it from the job's page in the admin)."),
        )
        parser.add_argument("--user", help=gettext_lazy("With --background: the job's owner."))
        parser.add_argument("--no-progress", action="store_true", help=gettext_lazy("Hide the progress bar."))

    def get_queryset(self, options):
        raise NotImplementedError

    def job_options(self, options) -> dict:
        """What a background job needs to build get_queryset() again (crm/jobs/exports.py)."""
        raise NotImplementedError

    job_kind = None
    poll_seconds = 1.0

    def handle(self, *args, output, format, background=False, user=None, no_progress=False, **options):
        from django.core.exceptions import ValidationError

        to_stdout = output == "-"
        try:
            file_format = format_for(None if to_stdout else output, format or (None if not to_stdout else "csv"))
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        try:
            queryset = self.get_queryset(options)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if background:
            return self.export_in_background(file_format, None if to_stdout else Path(output), user, options,
                                             no_progress)
        resource = self.resource_class()
        binary = isinstance(file_format, XlsxFormat)
        if to_stdout:
            stream = sys.stdout.buffer if binary else self.stdout
            if binary:
                buffer = io.BytesIO()
                count = export_to_stream(resource, queryset, file_format, buffer)
                stream.write(buffer.getvalue())
                stream.flush()
            else:
                count = export_to_stream(resource, queryset, file_format, _NoNewline(self.stdout))
        else:
            mode = {"mode": "wb"} if binary else {"mode": "w", "encoding": "utf-8", "newline": ""}
            with open(output, **mode) as stream:
                count = export_to_stream(resource, queryset, file_format, stream)
        self.stderr.write(_("Exported %(count)s rows.") % {"count": count})

    def export_in_background(self, file_format, output, username, options, no_progress):
        """Queue the export as a job of --user's, follow it, then copy its file to --output if given; print
        where the file is."""
        from django.contrib.auth import get_user_model
        from django.utils.translation import get_language

        from crm.jobs.exports import export_job_create, export_storage
        from crm.jobs.models import Job

        owner = get_user_model().objects.filter(username=username).first() if username else None
        if owner is None:
            raise CommandError(_("--background needs --user, the name of an existing user (the job's owner)."))
        file_name = output.name if output else export_file_name(self.resource_class._meta.model, file_format)
        job = export_job_create(
            kind=self.job_kind, owner=owner, source={"source": "command", "options": self.job_options(options)},
            format_name=format_name(file_format), file_name=file_name, language=get_language(),
        )
        self.stderr.write(_("Job #%(id)s queued.") % {"id": job.pk})
        if not follow_job(self, job, no_progress=no_progress):
            return
        if job.state != Job.State.DONE:
            raise CommandError(job.error)
        storage = export_storage()
        if output:
            with storage.open(job.output_file, "rb") as source, output.open("wb") as target:
                shutil.copyfileobj(source, target, 1024 * 1024)
            where = str(output)
        else:
            try:
                where = storage.path(job.output_file)
            except NotImplementedError:  # not on this machine's disk (S3 and the like): the storage's name
                where = job.output_file
        self.stderr.write(_("Exported %(count)s rows.") % {"count": job.total})
        self.stdout.write(where)


class _NoNewline:
    """Django's OutputWrapper adds a newline to every write(); the writers bring their own."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text):
        self.wrapper.write(text, ending="")


def follow_job(command, job, *, no_progress: bool) -> bool:
    """Show a job's progress until it ends (True) or Ctrl+C stops the watching, not the job (False)."""
    import time

    from tqdm import tqdm

    from crm.jobs.selectors import job_status

    try:
        with tqdm(total=job.total or None, unit=_("rows"), disable=no_progress, file=sys.stderr) as bar:
            while True:
                job.refresh_from_db()
                status = job_status(job)
                bar.total, bar.n = status["total"] or None, status["done"]
                bar.refresh()
                if job.finished:
                    return True
                time.sleep(command.poll_seconds)
    except KeyboardInterrupt:
        command.stderr.write(_("Job #%(id)s goes on in the background; see it in the admin under Jobs.") % {"id": job.pk})
        return False

