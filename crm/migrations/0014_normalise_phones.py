"""Stored phones take the one form crm.models.normalize_phone now gives every new one (+79991234567 for Russian
numbers, + and the digits otherwise), so a number reads, sorts and exports the same whichever way it was typed.
Text that is not a phone number (stored before the validator refused it) is left as it is."""

import re

from django.db import migrations

BATCH_SIZE = 500


# A copy of crm.models.normalize_phone as it is today: a migration must not change when the app does.
def normalize_phone(phone: str) -> str:
    phone = (phone or "").strip()
    if not re.fullmatch("\\+?[0-9 \xa0\u2009\u202f()\\-.]+", phone):
        return phone
    digits = re.sub(r"[^0-9]", "", phone)
    if not digits:
        return phone
    international = phone.startswith("+")
    if len(digits) == 11 and (digits[0] == "7" or (digits[0] == "8" and not international)):
        return f"+7{digits[1:]}"
    if len(digits) == 10 and digits[0] == "9" and not international:
        return f"+7{digits}"
    return f"+{digits}"


def normalise_stored_phones(apps, schema_editor):
    from crm.search import search_document

    Client = apps.get_model("crm", "Client")
    rows = Client.objects.exclude(mobile_phone="").order_by("pk").only(
        "mobile_phone", "email", "first_name", "last_name", "middle_name"
    )
    last_pk = 0
    # A batch at a time, by id: never the whole table in memory, nor a cursor open over rows being written.
    while batch := list(rows.filter(pk__gt=last_pk)[:BATCH_SIZE]):
        last_pk = batch[-1].pk
        changed = []
        for client in batch:
            phone = normalize_phone(client.mobile_phone)
            if phone != client.mobile_phone:
                client.mobile_phone = phone
                # The search text holds the phone's digits and their 8/7 twin: rebuilt from the stored phone.
                client.search_text = search_document(
                    client.last_name, client.first_name, client.middle_name, client.email, phone=phone
                )
                changed.append(client)
        Client.objects.bulk_update(changed, ["mobile_phone", "search_text"])


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0013_refuse_control_characters"),
    ]

    operations = [
        migrations.RunPython(normalise_stored_phones, migrations.RunPython.noop),
    ]
