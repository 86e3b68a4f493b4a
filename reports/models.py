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
