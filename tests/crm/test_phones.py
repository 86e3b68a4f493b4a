"""Phones are stored in one form (+79991234567, E.164 otherwise) on every path, and found whatever form is searched."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from crm import services
from crm.importexport.formats import CsvFormat
from crm.importexport.resources import ClientResource
from crm.models import Client, format_phone, normalize_phone
from crm.search import search_document
from crm.selectors import client_list
from tests.api.conftest import Api
from tests.factories import ClientFactory


@pytest.mark.parametrize("typed, stored", [
    ("+79991234567", "+79991234567"),
    ("+7 (999) 123-45-67", "+79991234567"),
    ("+7 999 123 45 67", "+79991234567"),
    ("8 (999) 123-45-67", "+79991234567"),  # the trunk prefix 8 is +7
    ("89991234567", "+79991234567"),
    ("79991234567", "+79991234567"),
    ("7 999 123-45-67", "+79991234567"),
    ("9991234567", "+79991234567"),  # ten digits starting with 9: a Russian mobile without its prefix
    ("999 123-45-67", "+79991234567"),
    ("8.999.123.45.67", "+79991234567"),
    (" +7\xa0999\xa0123-45-67 ", "+79991234567"),  # non-breaking spaces, as pasted from a web page
    ("+74951234567", "+74951234567"),  # a Moscow landline, written internationally
    ("84951234567", "+74951234567"),
    ("+44 20 7946 0958", "+442079460958"),  # elsewhere: + and the digits
    ("+380 (44) 123-45-67", "+380441234567"),
    ("380441234567", "+380441234567"),  # no +: the digits are taken to start with the country code
    ("+8 999 123 45 67", "+89991234567"),  # written with +, 8 is not rewritten (it is no country code of Russia)
    ("", ""),
    (None, ""),
    # Not phone numbers: left for the validators to refuse with their own message.
    ("call me", "call me"),
    ("+7 900\t123 45 67", "+7 900\t123 45 67"),
    ("---", "---"),
])
def test_normalize_phone(typed, stored):
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize("stored, shown", [
    ("+79991234567", "+7 (999) 123-45-67"),
    ("+442079460958", "+442079460958"),
    ("+7999123456", "+7999123456"),  # one digit short: no Russian number, shown as stored
    ("", ""),
    (None, ""),
])
def test_format_phone(stored, shown):
    assert format_phone(stored) == shown


# ---------------------------------------------------------------------------
# Every path stores the one form
# ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_services_store_the_one_form():
    client = services.client_create(first_name="Иван", last_name="Иванов", email="i@example.com",
                                    mobile_phone="8 (900) 123-45-67")
    assert Client.objects.get(pk=client.pk).mobile_phone == "+79001234567"

    services.client_update(client=client, mobile_phone="900 765 43 21")
    assert Client.objects.get(pk=client.pk).mobile_phone == "+79007654321"


@pytest.mark.django_db
def test_the_api_stores_and_returns_the_one_form(manager):
    api = Api(manager)
    response = api.post("/api/clients/add/", {"first_name": "Иван", "last_name": "Иванов", "email": "i@example.com",
                                              "mobile_phone": "8 900 123-45-67"}, form=True)
    client_id = response.json()["id"]

    # As the contract's example shows a phone: +79001234567.
    assert api.get(f"/api/clients/get/{client_id}/").json()["client"]["mobile_phone"] == "+79001234567"
    assert api.post(f"/api/clients/edit/{client_id}/", {"mobile_phone": "+7 (900) 765-43-21"}).status_code == 200
    assert Client.objects.get().mobile_phone == "+79007654321"


@pytest.mark.django_db
def test_an_import_stores_the_one_form_and_sees_no_change_in_another_spelling():
    def run(phone):
        data = f"Фамилия;Имя;E-mail;Мобильный телефон\r\nИванов;Иван;i@example.com;{phone}\r\n".encode()
        return ClientResource().import_data(CsvFormat().create_dataset(data))

    assert run("8 900 123-45-67").totals["new"] == 1
    assert Client.objects.get().mobile_phone == "+79001234567"
    again = run("+7 (900) 123-45-67")
    assert (again.totals["skip"], again.totals["update"]) == (1, 0)


# ---------------------------------------------------------------------------
# Search finds the stored form by any spelling
# ---------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("query", ["+7 (900) 123-45-67", "+79001234567", "89001234567", "8 900 123 45 67",
                                   "9001234567", "900 123-45-67", "123-45-67", "4567"])
def test_search_finds_a_stored_phone_by_any_spelling(query):
    wanted = ClientFactory(mobile_phone="8 (900) 123-45-67")
    ClientFactory(mobile_phone="+7 (901) 000-00-00")

    assert wanted.mobile_phone == "+79001234567"
    assert list(client_list(search=query).values_list("pk", flat=True)) == [wanted.pk]


# ---------------------------------------------------------------------------
# The data migration
# ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_migration_normalises_stored_phones_and_their_search_text():
    migration = importlib.import_module("crm.migrations.0014_normalise_phones")
    typed = {"russian": "8 (900) 123-45-67", "mobile": "900 765 43 21", "foreign": "+44 20 7946 0958",
             "stored": "+79001112233", "empty": "", "not a phone": "-----"}
    clients = {label: ClientFactory(email=f"{label.replace(' ', '-')}@example.com") for label in typed}
    for label, phone in typed.items():
        # As an older version stored them: exactly as typed, the search text built from that.
        client = clients[label]
        Client.objects.filter(pk=client.pk).update(mobile_phone=phone, search_text=search_document(
            client.last_name, client.first_name, client.middle_name, client.email, phone=phone))

    migration.normalise_stored_phones(apps, connection.schema_editor())

    stored = {label: Client.objects.get(pk=client.pk).mobile_phone for label, client in clients.items()}
    assert stored == {"russian": "+79001234567", "mobile": "+79007654321", "foreign": "+442079460958",
                      "stored": "+79001112233", "empty": "", "not a phone": "-----"}
    mobile = Client.objects.get(pk=clients["mobile"].pk)
    assert mobile.search_text.endswith("79007654321 89007654321")
    assert list(client_list(search="8 900 765-43-21").values_list("pk", flat=True)) == [mobile.pk]
