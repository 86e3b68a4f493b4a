"""Template helpers for the staff UI."""

from django import template
from django.utils.translation import ngettext

register = template.Library()


def _counted(singular: str, plural: str):
    return lambda count: ngettext(singular, plural, count) % {"count": count}


# A count with the noun in the right plural form ("54 клиента", "12 заказов"); the model's verbose_name_plural
# is a single word and agrees with no number.
COUNTED_NOUNS = {
    "crm.client": _counted("%(count)s client", "%(count)s clients"),
    "crm.order": _counted("%(count)s order", "%(count)s orders"),
    "crm.historicalorder": _counted("%(count)s deleted order", "%(count)s deleted orders"),
    "crm.historicalclient": _counted("%(count)s client history record", "%(count)s client history records"),
    "reports.report": _counted("%(count)s report", "%(count)s reports"),
    "auth.user": _counted("%(count)s user", "%(count)s users"),
    "auth.group": _counted("%(count)s group", "%(count)s groups"),
}


@register.filter
def counted(count, opts) -> str:
    """`{{ cl.result_count|counted:cl.opts }}`: "54 клиента"."""
    noun = COUNTED_NOUNS.get(opts.label_lower)
    if noun is not None:
        return noun(count)
    return f"{count} {opts.verbose_name if count == 1 else opts.verbose_name_plural}"
