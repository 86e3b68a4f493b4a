"""Scheduled reports in the staff UI (Analytics): when a report is made and to whom it is e-mailed. The model's
permissions decide who sees and changes them; a worker sends them (reports/schedules.py)."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from crm.admin.display import redirect
from crm.admin.guards import object_dialog
from crm.jobs.selectors import job_url
from reports.models import ReportSchedule
from reports.schedules import report_schedule_save, report_schedule_send_now

SEND_NOW_DIALOG = object_dialog(
    ReportSchedule.objects.select_related("owner").all,
    title=_("Send now"),
    description=_("Make the report and e-mail it to the recipients now? The schedule's next run stays as it is."),
    form_submit_text=_("Send"),
)


def _moment(moment) -> str:
    return date_format(timezone.localtime(moment), "d.m.Y\xa0H:i") if moment else "—"


@admin.register(ReportSchedule)
class ReportScheduleAdmin(ModelAdmin):
    list_display = ("title", "recipients", "owner", "is_active", "next_run", "last_sent", "last_error")
    list_display_links = ("title",)
    list_filter = ("is_active", "period")
    list_select_related = ("owner",)
    actions_detail = ("send_now",)
    readonly_fields = ("next_run_at", "last_sent_at", "last_error", "created_at")
    fieldsets = (
        (_("When"), {"fields": ("period", "weekday", "day_of_month", "hour")}),
        (_("To whom"), {"fields": ("recipients", "is_active", "owner")}),
        (_("Runs"), {"fields": ("next_run_at", "last_sent_at", "last_error", "created_at")}),
    )

    @display(description=_("scheduled report"), ordering="id", header=True)
    def title(self, schedule):
        return schedule.describe(), schedule.get_period_display()

    @display(description=_("next run at"), ordering="next_run_at")
    def next_run(self, schedule):
        return _moment(schedule.next_run_at)

    @display(description=_("last sent at"), ordering="last_sent_at")
    def last_sent(self, schedule):
        return _moment(schedule.last_sent_at)

    # Only a superuser chooses the owner (the reports are made in the owner's name); anyone else owns what they add.
    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else [*fields, "owner"]

    def get_changeform_initial_data(self, request):
        return {**super().get_changeform_initial_data(request), "owner": request.user.pk}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change and not request.user.is_superuser:
            obj.owner = request.user
        report_schedule_save(schedule=obj)

    @action(description=_("Send now"), permissions=["change"], icon="send", dialog=SEND_NOW_DIALOG)
    def send_now(self, request, form, object_id):
        schedule = form.object
        try:
            job = report_schedule_send_now(schedule=schedule)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(request, reverse("admin:reports_reportschedule_change", args=[schedule.pk]))
        if job.owner_id == request.user.pk:
            messages.success(request, gettext("The report is queued; a worker sends it. Follow it on its job's page."))
            return redirect(request, job_url(job))
        messages.success(request, gettext("The report is queued; a worker sends it. The job is its owner's."))
        return redirect(request, reverse("admin:reports_reportschedule_change", args=[schedule.pk]))
