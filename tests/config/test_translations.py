"""Russian is the default language: the catalogue is complete and compiled."""

import ast
import gettext
import re
from pathlib import Path

from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "ru" / "LC_MESSAGES"
ENTRY = re.compile(r'^(msgctxt|msgid|msgstr)\s+(".*")$|^(".*")$')


def po_entries():
    """(context, msgid, msgstr) of every entry of django.po, header left out."""
    entries, current, key = [], {}, None
    for line in (LOCALE / "django.po").read_text(encoding="utf-8").splitlines() + [""]:
        match = ENTRY.match(line)
        if match and match.group(1):
            if match.group(1) in ("msgctxt", "msgid") and "msgstr" in current:
                entries.append(current)
                current = {}
            key = match.group(1)
            current[key] = ast.literal_eval(match.group(2))
        elif match:
            current[key] += ast.literal_eval(match.group(3))
        elif not line.strip() and "msgstr" in current:
            entries.append(current)
            current = {}
    return [(e.get("msgctxt"), e["msgid"], e["msgstr"]) for e in entries if e["msgid"]]


def test_every_message_has_a_russian_translation():
    untranslated = [msgid for _, msgid, msgstr in po_entries() if not msgstr]
    assert untranslated == []


def test_compiled_catalogue_matches_the_po_file():
    with open(LOCALE / "django.mo", "rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = [
        msgid for context, msgid, msgstr in po_entries()
        if (catalogue.pgettext(context, msgid) if context else catalogue.gettext(msgid)) != msgstr
    ]
    assert stale == [], "run: msgfmt -o locale/ru/LC_MESSAGES/django.mo locale/ru/LC_MESSAGES/django.po"


def test_domain_labels_in_russian():
    from crm.models import Client, Order

    with translation.override("ru"):
        assert str(Order.Status.PENDING.label) == "В ожидании"
        assert str(Order.Status.COMPLETED.label) == "Завершён"
        assert str(Order.Status.CANCELLED.label) == "Отменён"
        assert str(Client._meta.verbose_name_plural) == "клиенты"
    with translation.override("en"):
        assert str(Order.Status.COMPLETED.label) == "Completed"
