"""Reports: frozen snapshots of the business figures over a period."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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
