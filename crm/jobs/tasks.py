"""The task functions a worker runs (Django's tasks API; `django_tasks` until Django 6's `django.tasks`)."""

import logging

from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from crm.jobs import files, services
from crm.jobs.models import Job

logger = logging.getLogger(__name__)


def resource_class_for(kind: str):
    from crm.importexport.resources import ClientResource, OrderResource

    return {Job.Kind.IMPORT_CLIENTS: ClientResource, Job.Kind.IMPORT_ORDERS: OrderResource}[kind]


def run_import(job: Job) -> None:
    from crm.importexport.formats import FORMATS_BY_NAME, CsvFormat, ImportFileError
    from crm.importexport.results import result_counts, result_failed, result_problems
    from crm.importexport.streamed import CsvFileDataset

    try:
        file_format = FORMATS_BY_NAME[job.params["format"]]()
        if isinstance(file_format, CsvFormat):  # read a row at a time, not held whole (~1 KB a row)
            dataset = CsvFileDataset(files.input_path(job.pk))
        else:
            dataset = file_format.create_dataset(files.read_input(job.pk))
    except ImportFileError as error:
        services.job_fail(job, str(error))
        return
    except OSError:
        services.job_fail(job, _("The job's file is no longer available; upload it again."))
        return
    progress = files.ProgressWriter(job.pk, len(dataset))
    progress(0)
    resource = resource_class_for(job.kind)(progress=progress)
    # All or nothing, as in the admin: the resources import the whole file in one transaction.
    result = resource.import_data(dataset, dry_run=False, file_name=job.file_name, user=job.owner, raise_errors=False)
    services.job_finish(
        job, counts=result_counts(result), problems=result_problems(result), failed=result_failed(result)
    )


@task()
def run_job(job_id: int) -> str | None:
    job = services.job_start(job_id)
    if job is None:
        return None  # run already, or deleted: a task delivered twice does nothing the second time
    # Messages stored with the job (problems, errors) in the language its owner used.
    with translation.override(job.params.get("language") or None):
        try:
            if job.kind == Job.Kind.SCHEDULED_REPORT:
                from reports.schedules import run_scheduled_report

                run_scheduled_report(job)
            elif job.is_export:
                from crm.jobs.exports import run_export

                run_export(job)
            else:
                run_import(job)
        except Exception as error:
            logger.exception("Job %s failed", job_id)
            services.job_fail(job, _("The job stopped on an unexpected error; nothing was written."))
            raise error
    return Job.objects.values_list("state", flat=True).get(pk=job_id)
