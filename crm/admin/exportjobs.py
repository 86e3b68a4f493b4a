"""Admin exports of more than EXPORT_BACKGROUND_ROWS rows are written by a background job (crm/jobs/exports.py).

The job keeps the export page's query string (the list's search, filters and sorting, as in the admin's
address) and the worker replays it through the same ModelAdmin's change list, as the job's owner: the rows
are those the export would have given in the request, and the owner's permissions are checked again then.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import FieldError, ValidationError
from django.http import HttpRequest, HttpResponseRedirect, QueryDict
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crm.importexport.formats import format_name
from crm.jobs.exports import ExportRefused, export_job_create, no_permission_message
from crm.jobs.models import Job
from crm.jobs.selectors import job_url

EXPORT_JOB_KINDS = {"crm.client": Job.Kind.EXPORT_CLIENTS, "crm.order": Job.Kind.EXPORT_ORDERS}


def exceeds_background_threshold(queryset) -> bool:
    """More rows than EXPORT_BACKGROUND_ROWS (counted no further than one past it)."""
    limit = settings.EXPORT_BACKGROUND_ROWS
    return queryset.values("pk")[: limit + 1].count() > limit


def export_in_background(model_admin, request, queryset, file_format):
    """Queue the export as a job of the user's and send them to its page, where the download appears."""
    job = export_job_create(
        kind=EXPORT_JOB_KINDS[model_admin.model._meta.label_lower],
        owner=request.user,
        source={"source": "admin", "query": request.GET.urlencode()},
        format_name=format_name(file_format),
        file_name=model_admin.get_export_filename(request, queryset, file_format),
        language=get_language(),
    )
    messages.info(request, _(
        "The list is long: it is being exported in the background. This page shows how far it has got; "
        "the file can be downloaded here when it is ready."
    ))
    return HttpResponseRedirect(job_url(job))


def admin_export_source(job: Job):
    """The resource and the rows of an admin export job: its query replayed on the admin's change list."""
    from django.apps import apps

    model = apps.get_model(next(label for label, kind in EXPORT_JOB_KINDS.items() if kind == job.kind))
    model_admin = admin.site.get_model_admin(model)
    request = HttpRequest()
    request.method = "GET"
    request.GET = QueryDict(job.params.get("query", ""))
    request.user = job.owner
    owner = job.owner
    if not (owner.is_active and owner.is_staff and model_admin.has_view_permission(request)
            and model_admin.has_export_permission(request)):
        raise ExportRefused(no_permission_message(job))
    try:
        queryset = model_admin.get_export_queryset(request)
    except (IncorrectLookupParameters, FieldError, ValidationError, ValueError):
        raise ExportRefused(_("The list's filters are no longer valid; export the list again.")) from None
    resource_class = model_admin.choose_export_resource_class(None, request)
    return resource_class(**model_admin.get_export_resource_kwargs(request)), queryset
