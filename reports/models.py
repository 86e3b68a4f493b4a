"""Reports: frozen snapshots of the business figures over a period."""

import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from crm.models import no_control_characters_but_line_breaks, no_nul, normalize_email
from crm.money import MoneySumField


class Report(models.Model):
    class Period(models.TextChoices):
        WEEK = "week", _("Week")
        MONTH = "month", _("Month")
        YEAR = "year", _("Year")

    period = models.CharField(_("period"), max_length=5, choices=Period.choices)
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))
    created_at = models.DateTimeField(_("created"), db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    new_orders_count = models.PositiveIntegerField(_("new orders"))
    new_clients_count = models.PositiveIntegerField(_("new clients"))
    # Any sum of orders, exact on every database (a SQLite decimal would keep 15 digits): crm.money.MoneySumField.
    total_orders_sum = MoneySumField(_("total of new orders"))
    avg_order_sum = MoneySumField(_("average order"), default=Decimal("0.00"))
    completed_orders_count = models.PositiveIntegerField(_("completed orders"))
    # [{"status": "Pending", "count": 3, "sum": "150.00"}, ...] for every status.
    status_breakdown = models.JSONField(_("by status"), default=list)
    # [{"product": "Ноутбук", "count": 2, "sum": "3000.00"}, ...], at most five.
    top_products = models.JSONField(_("top products"), default=list)
    # [{"client_id": 1, "name": "Иванов Иван", "count": 2, "sum": "3000.00"}, ...], at most five.
    top_clients = models.JSONField(_("top clients"), default=list)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return _("Report #%(id)s (%(period)s)") % {"id": self.pk, "period": self.get_period_display()}


# A scheduled report's hour is a whole hour of the server's time zone (TIME_ZONE).
SCHEDULE_HOURS = [(hour, f"{hour:02d}:00") for hour in range(24)]
ON_WEEKDAYS = {
    0: _("on Mondays"), 1: _("on Tuesdays"), 2: _("on Wednesdays"), 3: _("on Thursdays"),
    4: _("on Fridays"), 5: _("on Saturdays"), 6: _("on Sundays"),
}
MAX_RECIPIENTS = 50


class ReportSchedule(models.Model):
    """A report made and e-mailed by a worker every week, month or year (reports/schedules.py)."""

    period = models.CharField(_("period"), max_length=5, choices=Report.Period.choices, default=Report.Period.WEEK)
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=list(WEEKDAYS.items()), default=0, help_text=_("For a weekly report.")
    )
    day_of_month = models.PositiveSmallIntegerField(
        _("day of the month"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text=_(
            "For a monthly report: this day of every month; for a yearly one: this day of January. "
            "In a shorter month, its last day."
        ),
    )
    hour = models.PositiveSmallIntegerField(
        _("hour"), choices=SCHEDULE_HOURS, default=9, help_text=_("Server time.")
    )
    recipients = models.TextField(
        _("recipients"),
        validators=[no_nul, no_control_characters_but_line_breaks],
        help_text=_("E-mail addresses, separated by commas or line breaks."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="report_schedules",
        verbose_name=_("owner"),
        help_text=_("The reports are made in their name, and their jobs are theirs."),
    )
    next_run_at = models.DateTimeField(_("next run at"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("last sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("scheduled report")
        verbose_name_plural = _("scheduled reports")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="reportschedule_weekday_range"),
            models.CheckConstraint(
                condition=models.Q(day_of_month__gte=1, day_of_month__lte=31), name="reportschedule_day_range"
            ),
            models.CheckConstraint(condition=models.Q(hour__lte=23), name="reportschedule_hour_range"),
        ]
        indexes = [
            # The scheduler's only query: the active schedules whose time has come.
            models.Index(fields=["next_run_at"], condition=models.Q(is_active=True), name="reportschedule_due"),
        ]

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """'Weekly on Mondays at 09:00', 'Monthly on day 1 at 09:00', 'Yearly on 1 January at 09:00'."""
        hour = f"{self.hour:02d}:00"
        if self.period == Report.Period.WEEK:
            return _("Weekly %(on_weekday)s at %(hour)s") % {"on_weekday": ON_WEEKDAYS[self.weekday], "hour": hour}
        if self.period == Report.Period.MONTH:
            return _("Monthly on day %(day)s at %(hour)s") % {"day": self.day_of_month, "hour": hour}
        return _("Yearly on %(day)s January at %(hour)s") % {"day": self.day_of_month, "hour": hour}

    @property
    def recipient_list(self) -> list[str]:
        return split_recipients(self.recipients)

    def clean(self):
        super().clean()
        addresses = [normalize_email(address) for address in split_recipients(self.recipients)]
        addresses = list(dict.fromkeys(addresses))  # each once, in the order typed
        invalid = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                invalid.append(address)
        if invalid:
            raise ValidationError(
                {"recipients": _("Not e-mail addresses: %(addresses)s.") % {"addresses": ", ".join(invalid)[:500]}}
            )
        if not addresses:
            raise ValidationError({"recipients": _("Give at least one e-mail address.")})
        if len(addresses) > MAX_RECIPIENTS:
            raise ValidationError(
                {"recipients": _("At most %(limit)s addresses.") % {"limit": MAX_RECIPIENTS}}
            )
        self.recipients = ", ".join(addresses)


def split_recipients(text: str) -> list[str]:
    """The addresses in a list typed with commas, semicolons, spaces or line breaks between them."""
    return [address for address in re.split(r"[,;\s]+", text or "") if address]

# Rollups: sums of orders kept exact by database triggers in the same transaction as every order write
# (reports/rollups.py has the triggers, the rebuild and the reads). Amounts are whole cents written as
# hi × 10^7 + lo with 0 <= lo < 10^7, so no sum overflows a 64-bit integer. Days and hours count from
# 1970-01-01 UTC.


class RollupHour(models.Model):
    """Orders created in one UTC hour with one status: how many and their sum (per local day: the report's chart
    and the dashboard)."""

    hour = models.BigIntegerField()
    status = models.CharField(max_length=10)
    count = models.BigIntegerField(default=0)
    hi = models.BigIntegerField(default=0)
    lo = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()  # internal tables: nobody edits them
        db_table = "reports_rollup_hour"
        constraints = [
            models.UniqueConstraint(fields=["hour", "status"], name="rollup_hour_key"),
        ]
        indexes = [
            models.Index(fields=["hour", "status", "count", "hi", "lo"], name="rollup_hour_sums_idx"),
        ]


class RollupDay(models.Model):
    """Orders created in one UTC day (span 1) or block of BLOCK_DAYS days (span 32, starting on a multiple of
    32 days) with one status and product: how many and their sum."""

    span = models.SmallIntegerField(default=1)
    day = models.IntegerField()
    status = models.CharField(max_length=10)
    product = models.CharField(max_length=200)
    count = models.BigIntegerField(default=0)
    hi = models.BigIntegerField(default=0)
    lo = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()  # internal tables: nobody edits them
        db_table = "reports_rollup_day"
        constraints = [
            models.UniqueConstraint(fields=["span", "day", "status", "product"], name="rollup_day_key"),
        ]
        indexes = [
            # The report reads these columns alone over a range of days.
            models.Index(
                fields=["span", "day", "status", "product", "count", "hi", "lo"], name="rollup_day_sums_idx"
            ),
        ]


class RollupClientDay(models.Model):
    """Clients added in one UTC day."""

    day = models.IntegerField(primary_key=True)
    count = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()  # internal tables: nobody edits them
        db_table = "reports_rollup_client_day"


class RollupPeriod(models.Model):
    """The whole UTC hours [first_hour, end_hour) that a period's client sums (RollupPeriodClient) cover.

    A report moves them to its own window first (reports.rollups.period_move); order writes keep the sums
    of the days inside exact.
    """

    period = models.CharField(max_length=5, primary_key=True)
    first_hour = models.BigIntegerField(default=0)
    end_hour = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()  # internal tables: nobody edits them
        db_table = "reports_rollup_period"


class RollupPeriodClient(models.Model):
    """One client's orders over the hours of a period's RollupPeriod: how many and their sum."""

    period = models.CharField(max_length=5)
    client_id = models.BigIntegerField()
    count = models.BigIntegerField(default=0)
    hi = models.BigIntegerField(default=0)
    lo = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()  # internal tables: nobody edits them
        db_table = "reports_rollup_period_client"
        constraints = [
            models.UniqueConstraint(fields=["period", "client_id"], name="rollup_period_client_key"),
        ]
        indexes = [
            # The top clients: largest sum, then more orders, then the smaller id.
            models.Index(fields=["period", "-hi", "-lo", "-count", "client_id"], name="rollup_period_top_idx"),
        ]
