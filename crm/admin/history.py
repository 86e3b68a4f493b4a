"""The change history pages (django-simple-history): values as people read them."""

from django.db.models import DecimalField
from simple_history.template_utils import HistoricalRecordContextHelper

from crm.admin.guards import GuardedHistoryAdmin
from crm.money import format_money

EMPTY = "—"


class ReadableHistoryContext(HistoricalRecordContextHelper):
    """A change shown as its status label and money as "1 234,50 ₽", not as stored codes and decimals."""

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if value is None or value == "":
            return EMPTY
        if field.choices:
            return dict(field.flatchoices).get(value, value)
        if isinstance(field, DecimalField):
            return format_money(value)
        return super().prepare_delta_change_value(change, value)


class ReadableHistoryAdmin(GuardedHistoryAdmin):
    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableHistoryContext(self.model, historical_record)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        super().set_history_delta_changes(request, historical_records, foreign_keys_are_objs)
        for record in historical_records:
            # Shown as is by the template: a dash, not "None", where nobody gave a reason.
            record.history_change_reason = record.history_change_reason or EMPTY
