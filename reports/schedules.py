"""Scheduled reports: when each runs next, the worker's step that queues the due ones, and the job that makes the
report and e-mails it.

Every worker runs enqueue_due_schedules() about once a minute (run_worker). A due schedule is queued exactly once
however many workers on however many hosts run it at the same moment: its row is locked (FOR UPDATE SKIP LOCKED on
PostgreSQL; SQLite's IMMEDIATE transactions let one writer in at a time) and its next run moves on in the same
transaction as the job is created. A worker that was down for a while sends one report when it is back, not one per
missed run: the next run is the first one after now.
"""

import calendar
import logging
import os
import threading
import time as clock
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import connections, transaction
from django.utils import timezone, translation
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from crm.jobs.models import Job
from crm.jobs.services import job_create, job_fail, job_finish
from reports.models import Report, ReportSchedule
from reports.rendering import report_filename, report_text
from reports.services import report_generate

logger = logging.getLogger(__name__)

CHECK_SECONDS = 60  # how often each worker looks for due schedules
TIMING_FIELDS = ("period", "weekday", "day_of_month", "hour")
EDITABLE_FIELDS = (*TIMING_FIELDS, "recipients", "is_active", "owner")


# --- When -------------------------------------------------------------------------------------------------------


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone)


def _day_in_month(year: int, month: int, day: int) -> date:
    """The day-th of the month, or its last day in a shorter month (the 31st is 30 April, 28 or 29 February)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def next_run_after(schedule: ReportSchedule, moment: datetime) -> datetime:
    """The first run of the schedule strictly after `moment`, at its hour in the server's time zone."""
    zone = ZoneInfo(settings.TIME_ZONE)
    local = moment.astimezone(zone)
    today = local.date()
    if schedule.period == Report.Period.WEEK:
        day = today + timedelta(days=(schedule.weekday - today.weekday()) % 7)
        run = _at(day, schedule.hour, zone)
        return run if run > moment else _at(day + timedelta(days=7), schedule.hour, zone)
    if schedule.period == Report.Period.MONTH:
        run = _at(_day_in_month(today.year, today.month, schedule.day_of_month), schedule.hour, zone)
        if run > moment:
            return run
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return _at(_day_in_month(year, month, schedule.day_of_month), schedule.hour, zone)
    run = _at(_day_in_month(today.year, 1, schedule.day_of_month), schedule.hour, zone)
    return run if run > moment else _at(_day_in_month(today.year + 1, 1, schedule.day_of_month), schedule.hour, zone)


# --- Saving from the admin ------------------------------------------------------------------------------------------


def report_schedule_save(*, schedule: ReportSchedule, now: datetime | None = None) -> ReportSchedule:
    """Validate and save a schedule; its next run is worked out again when its timing changed or it was turned on."""
    now = now or timezone.now()
    schedule.full_clean()
    with transaction.atomic():
        current = (
            ReportSchedule.objects.select_for_update().filter(pk=schedule.pk).first() if schedule.pk else None
        )
        if not schedule.is_active:
            schedule.next_run_at = None
        elif (
            current is None
            or not current.is_active
            or current.next_run_at is None
            or any(getattr(current, field) != getattr(schedule, field) for field in TIMING_FIELDS)
        ):
            schedule.next_run_at = next_run_after(schedule, now)
        else:
            # Unchanged timing: keep the next run as the scheduler last left it (the form's copy may be older).
            schedule.next_run_at = current.next_run_at
        if current is None:
            schedule.save()
        else:
            schedule.save(update_fields=[*EDITABLE_FIELDS, "next_run_at"])
    return schedule


# --- The worker's step ----------------------------------------------------------------------------------------------


def _queue_report_job(schedule: ReportSchedule) -> Job:
    return job_create(
        kind=Job.Kind.SCHEDULED_REPORT,
        owner=schedule.owner,
        data=None,
        file_name="",
        params={"schedule_id": schedule.pk, "language": settings.LANGUAGE_CODE},
        total=1,
    )


def report_schedule_send_now(*, schedule: ReportSchedule) -> Job:
    """Queue the schedule's report at once (to try it, or the mail settings); its next run stays as it is.
    ValidationError, and nothing queued, when the job could only fail (the schedule is off, its owner may no
    longer make reports)."""
    problem = _why_not_sent(schedule)
    if problem:
        raise ValidationError(problem)
    return _queue_report_job(schedule)


def enqueue_due_schedules(*, now: datetime | None = None) -> list[Job]:
    """Queue a job for every active schedule whose next run has come, and move its next run on; the jobs queued."""
    now = now or timezone.now()
    due = ReportSchedule.objects.filter(is_active=True, next_run_at__lte=now)
    if not due.exists():  # the usual answer, read without taking SQLite's write lock
        return []
    jobs = []
    with transaction.atomic():
        # Rows another worker is queueing right now are skipped: it moves them on.
        for schedule in due.select_for_update(skip_locked=True).select_related("owner").order_by("next_run_at"):
            jobs.append(_queue_report_job(schedule))
            # The first run after now, not after the missed one: one report on catch-up.
            schedule.next_run_at = next_run_after(schedule, now)
            schedule.save(update_fields=["next_run_at"])
    if jobs:
        logger.info("Queued %s scheduled report(s).", len(jobs))
    return jobs


def _check_schedules_forever(interval: float) -> None:
    while True:
        try:
            enqueue_due_schedules()
        except Exception:  # a database hiccup must not end the loop: the next pass tries again
            logger.exception("Queueing the scheduled reports failed")
        finally:
            connections.close_all()  # this thread's connections only
        clock.sleep(interval)


def start_schedule_checks(*, interval: float = CHECK_SECONDS) -> threading.Thread:
    """Check for due schedules now and every `interval` seconds, in a daemon thread of the worker."""
    thread = threading.Thread(
        target=_check_schedules_forever, args=(interval,), name="report-schedules", daemon=True
    )
    thread.start()
    return thread


def check_schedules_in_worker(*, batch: bool, reload: bool) -> None:
    """run_worker's step: queue the due schedules once for --batch, else every minute beside the worker, in the
    process that runs the tasks (with --reload, the reloader's child, not its parent)."""
    if batch:
        enqueue_due_schedules()
    elif not reload or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
        start_schedule_checks()


# --- The job ------------------------------------------------------------------------------------------------------


SUBJECTS = {
    Report.Period.WEEK: gettext_noop("Weekly report: %(start)s – %(end)s"),
    Report.Period.MONTH: gettext_noop("Monthly report: %(start)s – %(end)s"),
    Report.Period.YEAR: gettext_noop("Yearly report: %(start)s – %(end)s"),
}


def report_mail_subject(report: Report) -> str:
    """'Отчёт за неделю: 23.11.2026 – 30.11.2026' (the period's local dates), in the active language."""
    dates = {
        "start": timezone.localtime(report.period_start).strftime("%d.%m.%Y"),
        "end": timezone.localtime(report.period_end).strftime("%d.%m.%Y"),
    }
    return _(SUBJECTS[report.period]) % dates


def report_mail(report: Report, recipients: list[str]) -> EmailMessage:
    """The e-mail of a report: its text as the body, and as an attached file."""
    text = report_text(report)
    message = EmailMessage(subject=report_mail_subject(report), body=text, to=recipients)
    # Django adds the charset of a text attachment itself (passing it here would name it twice).
    message.attach(report_filename(report), text, "text/plain")
    return message


def _why_not_sent(schedule: ReportSchedule | None) -> str:
    if schedule is None:
        return _("The schedule was deleted; nothing was sent.")
    if not schedule.is_active:
        return _("The schedule is turned off; nothing was sent.")
    owner = schedule.owner
    if not owner.is_active or not owner.has_perm("reports.add_report"):
        return _("The schedule's owner may no longer make reports; nothing was sent.")
    return ""


def run_scheduled_report(job: Job) -> None:
    """Make the schedule's report as its owner and e-mail it. A retry sends the report the first attempt made."""
    schedule = ReportSchedule.objects.select_related("owner").filter(pk=job.params.get("schedule_id")).first()
    problem = _why_not_sent(schedule)
    if problem:
        job_fail(job, problem)
        if schedule is not None:
            ReportSchedule.objects.filter(pk=schedule.pk).update(last_error=problem)
        return
    try:
        report = Report.objects.filter(pk=job.params.get("report_id")).first() if job.params.get("report_id") else None
        if report is None:
            with transaction.atomic():  # the report and the job's note of it together: a retry finds it
                report = report_generate(period=schedule.period, user=schedule.owner)
                job.params["report_id"] = report.pk
                Job.objects.filter(pk=job.pk).update(params=job.params)
        # The subject in the site's language, like the body (the report's text is Russian whatever the language).
        with translation.override(settings.LANGUAGE_CODE):
            message = report_mail(report, schedule.recipient_list)
        message.send()
    except OSError as error:  # smtplib's errors included: SMTP server down, refused, timed out, login failed
        logger.warning("Scheduled report %s: the e-mail was not sent: %s", schedule.pk, error)
        failure = _("The e-mail was not sent: %(error)s") % {"error": str(error) or error.__class__.__name__}
        job_fail(job, failure)
        ReportSchedule.objects.filter(pk=schedule.pk).update(last_error=failure)
        return
    except Exception:  # the job fails too (crm.jobs.tasks.run_job): say so on the schedule
        ReportSchedule.objects.filter(pk=schedule.pk).update(
            last_error=_("The job stopped on an unexpected error; nothing was sent.")
        )
        raise
    job_finish(job, counts={"total": 1}, problems=[], failed=False)
    ReportSchedule.objects.filter(pk=schedule.pk).update(last_sent_at=timezone.now(), last_error="")
