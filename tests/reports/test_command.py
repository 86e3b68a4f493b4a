"""`manage.py make_report --period …`, the cron entry point."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from reports.models import Report
from reports.rendering import report_text
from tests.reports.conftest import make_order

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("period, name", [("week", "Неделя"), ("month", "Месяц"), ("year", "Год")])
def test_make_report_saves_a_report_and_prints_its_id_and_text(period, name):
    make_order(created_at=timezone.now() - timedelta(days=3), price="0.10", quantity=3)
    out = StringIO()
    call_command("make_report", "--period", period, stdout=out)
    report = Report.objects.get()
    assert (report.period, report.created_by, report.new_orders_count) == (period, None, 1)
    first_line, text = out.getvalue().split("\n", 1)
    assert first_line == str(report.pk)
    assert text == report_text(report)
    assert text.startswith(f"Отчет за период: {name}\n") and "Сумма новых заказов: 0.30\n" in text


@pytest.mark.parametrize("arguments", [[], ["--period", "day"]])
def test_make_report_refuses_a_missing_or_unknown_period(arguments):
    with pytest.raises(CommandError):
        call_command("make_report", *arguments, stdout=StringIO())
    assert Report.objects.count() == 0
