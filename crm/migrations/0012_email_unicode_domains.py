"""Stored e-mails with a punycode domain (user@xn--bcher-kva.example) take the Unicode form that normalize_email now
gives every new one (user@bücher.example), so that the uniqueness check finds them whichever form is typed."""

from django.db import migrations


def unicode_domain(email: str) -> str:
    local, _, domain = email.rpartition("@")
    try:
        return f"{local}@{domain.encode('idna').decode('idna')}"
    except UnicodeError:
        return email


def email_domains_to_unicode(apps, schema_editor):
    from crm.search import search_document

    Client = apps.get_model("crm", "Client")
    taken = set(Client.objects.values_list("email", flat=True))
    for client in Client.objects.filter(email__contains="xn--").only(
        "email", "first_name", "last_name", "middle_name", "mobile_phone"
    ):
        email = unicode_domain(client.email)
        if email == client.email or email in taken:
            continue  # not a punycode domain, or both forms are already stored: staff merge those two by hand
        taken.add(email)
        search_text = search_document(
            client.last_name, client.first_name, client.middle_name, email, phone=client.mobile_phone
        )
        Client.objects.filter(pk=client.pk).update(email=email, search_text=search_text)


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0011_row_version"),
    ]

    operations = [
        migrations.RunPython(email_domains_to_unicode, migrations.RunPython.noop),
    ]
