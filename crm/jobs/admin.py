"""The Jobs pages of the admin: the list (each user their own jobs, a superuser all) and a job's page,
whose progress part reloads itself every 2 s (htmx, loaded by unfold) until the job is finished."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_tasks_db.models import DBTaskResult
from unfold.admin import ModelAdmin
from unfold.decorators import display

from crm.admin.display import ReadOnlyAdminMixin
from crm.jobs.exports import export_context, export_download
from crm.jobs.models import Job
from crm.jobs.selectors import job_status, job_url, jobs_visible_to
from crm.jobs.services import JobError, job_retry, sweep_stale_jobs

STATE_COLOURS = {
    Job.State.QUEUED: "info",
    Job.State.RUNNING: "warning",
    Job.State.DONE: "success",
    Job.State.FAILED: "danger",
}

# The backend's own table of task results stays out of the staff UI: the Jobs pages say it in their words.
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)


def rows_text(status: dict) -> str:
    return gettext("Rows: %(done)s of %(total)s") % {"done": status["done"], "total": status["total"]}


def status_text(status: dict) -> str:
    """'1 234 rows/s, about 2 min left' while running; the percentage otherwise."""
    if status["rate"] is None:
        return f"{status['percent']}%"
    seconds = int(status["seconds_left"] or 0)
    if seconds >= 120:
        left = ngettext("about %(count)s minute left", "about %(count)s minutes left", seconds // 60)
        left %= {"count": seconds // 60}
    else:
        left = ngettext("about %(count)s second left", "about %(count)s seconds left", seconds) % {"count": seconds}
    return gettext("%(rate)s rows/s, %(left)s") % {"rate": int(status["rate"]), "left": left}


@admin.register(Job)
class JobAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["__str__", "owner", "display_state", "display_progress", "created_at", "started_at", "finished_at", "error"]
    list_display_links = ["__str__"]
    list_filter = ["state", "kind"]
    list_per_page = 50
    show_full_result_count = False

    # Every staff member has jobs of their own: what they see is limited by the queryset, not a permission.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def get_queryset(self, request):
        return jobs_visible_to(request.user)

    @display(description=_("state"), label=STATE_COLOURS)
    def display_state(self, job):
        return job.state, job.get_state_display()

    @display(description=_("progress"))
    def display_progress(self, job):
        status = job_status(job)
        return f"{status['done']} / {status['total']}"

    def get_urls(self):
        return [
            path("<int:job_id>/progress/", self.admin_site.admin_view(self.progress_view), name="jobs_job_progress"),
            path("<int:job_id>/retry/", self.admin_site.admin_view(self.retry_view), name="jobs_job_retry"),
            path("<int:job_id>/download/", self.admin_site.admin_view(self.download_view), name="jobs_job_download"),
            *super().get_urls(),
        ]

    def visible_job(self, request, job_id) -> Job:
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = get_object_or_404(self.get_queryset(request), pk=job_id)  # someone else's job: 404
        if job.state == Job.State.RUNNING and sweep_stale_jobs([job]):
            job.refresh_from_db()  # its worker died: say so now, not at the next worker start
        return job

    def job_context(self, request, job: Job) -> dict:
        status = job_status(job)
        return {
            "job": job,
            "status": status,
            "state_variant": STATE_COLOURS[job.state],
            "progress_title": capfirst(gettext("progress")),
            "rows_text": rows_text(status),
            "status_text": status_text(status),
            "can_retry": job.state == Job.State.FAILED and job.owner_id == request.user.pk,
            "progress_url": reverse("admin:jobs_job_progress", args=[job.pk]),
            "retry_url": reverse("admin:jobs_job_retry", args=[job.pk]),
            "export": export_context(job, request.user) if job.is_export else None,
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not str(object_id).isdecimal():
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        job = self.visible_job(request, int(object_id))
        context = {
            **self.admin_site.each_context(request),
            **self.job_context(request, job),
            "title": str(job),
            "opts": self.opts,
            "changelist_url": reverse("admin:jobs_job_changelist"),
        }
        return TemplateResponse(request, "crm/jobs/job.html", context)

    def progress_view(self, request, job_id):
        job = self.visible_job(request, job_id)
        return TemplateResponse(request, "crm/jobs/job_progress.html", self.job_context(request, job))

    @method_decorator(require_POST)
    def retry_view(self, request, job_id):
        job = self.visible_job(request, job_id)
        try:
            job_retry(job, user=request.user)
        except PermissionError:
            raise PermissionDenied from None  # a superuser sees others' jobs but retries only their own
        except JobError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The job is queued again."))
        return HttpResponseRedirect(job_url(job))

    def download_view(self, request, job_id):
        """An export's file, for the job's owner only (a superuser sees others' jobs, not their files)."""
        job = self.visible_job(request, job_id)
        if job.owner_id != request.user.pk or not job.is_export:
            raise PermissionDenied
        response = export_download(job)
        if response is None:
            messages.warning(request, _("This export's file has expired and was deleted; export the list again."))
            return HttpResponseRedirect(job_url(job))
        return response
