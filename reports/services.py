"""Making reports. The admin buttons, the API and the make_report command all call report_generate()."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.models import Report
from reports.selectors import report_figures

PERIOD_DAYS = {Report.Period.WEEK: 7, Report.Period.MONTH: 30, Report.Period.YEAR: 365}


def report_window(*, period: str, now: datetime) -> tuple[datetime, datetime]:
    """The [start, end) window of a period: the last 7, 30 or 365 days ending now, in the server's time zone."""
    end = timezone.localtime(now)
    # Subtracting days from a local (zoneinfo) time keeps the wall-clock time across a DST change.
    start = end - timedelta(days=PERIOD_DAYS[period])
    return start, end


def report_generate(*, period: str, user=None, now: datetime | None = None) -> Report:
    """Compute the figures of the period ending now and save them as a frozen report."""
    if not isinstance(period, str) or period not in Report.Period.values:
        raise ValidationError(
            {"period": [_("Unknown period %(value)s; use week, month or year.") % {"value": str(period)[:50]}]},
            code="invalid",
        )
    now = now or timezone.now()
    start, end = report_window(period=period, now=now)
    figures = report_figures(start=start, end=end)
    return Report.objects.create(
        period=period,
        period_start=start,
        period_end=end,
        created_at=now,
        created_by=user if user is not None and user.is_authenticated else None,
        **figures,
    )
