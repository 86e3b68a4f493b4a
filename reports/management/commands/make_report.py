"""`manage.py make_report --period week`: make a report (for cron) and print its id and text."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils.translation import gettext_lazy as _

from crm.management.base import TranslatedCommand
from reports.models import Report
from reports.rendering import report_text
from reports.services import report_generate


class Command(TranslatedCommand):
    help = _("Make a report for the last week, month or year and print its id and text.")

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, choices=Report.Period.values, help=_("week, month or year"))

    def handle(self, *args, period: str, **options):
        try:
            report = report_generate(period=period)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(str(report.pk))
        self.stdout.write(report_text(report), ending="")
