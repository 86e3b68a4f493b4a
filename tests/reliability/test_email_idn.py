"""One mailbox is one client whether its domain is written in Unicode or in punycode: the e-mail is stored with the
domain in its Unicode form, so the uniqueness check, the database constraint and imports see one value."""

import importlib

import pytest

from crm.importexport.resources import ClientResource, OrderResource
from crm.models import Client, normalize_email
from tests.api.conftest import Api, assert_error
from tests.factories import ClientFactory
from tests.importexport.conftest import import_bytes

pytestmark = pytest.mark.django_db

CLIENT = {"first_name": "Иван", "last_name": "Иванов"}
CLIENT_HEADER = "Фамилия,Имя,Отчество,E-mail,Мобильный телефон,Статус\n"


@pytest.mark.parametrize("email, stored", [
    ("user@xn--bcher-kva.example", "user@bücher.example"),
    ("User@Bücher.Example", "user@bücher.example"),
    ("user@XN--BCHER-KVA.example", "user@bücher.example"),
    ("bücher@xn--bcher-kva.example", "bücher@bücher.example"),
    # Only the domain has a punycode form: a local part that looks like one is left alone.
    ("xn--bcher-kva@example.com", "xn--bcher-kva@example.com"),
    ("ivan@xn--80a1acny.xn--p1ai", "ivan@почта.рф"),
    ("ivan@ПОЧТА.РФ", "ivan@почта.рф"),
    # Full-width letters are the same domain (IDNA mapping, as Django's validator and mail sending read it).
    ("user@ｂücher.example", "user@bücher.example"),
    # Not a valid domain: left for the validator to refuse.
    ("user@xn--zz", "user@xn--zz"),
    ("user@a..b", "user@a..b"),
    (" Plain@Example.com ", "plain@example.com"),
])
def test_normalize_email_gives_the_domain_its_unicode_form(email, stored):
    assert normalize_email(email) == stored


@pytest.mark.parametrize("first, second", [
    ("user@bücher.example", "user@xn--bcher-kva.example"),
    ("user@xn--bcher-kva.example", "USER@BÜCHER.EXAMPLE"),
    ("ivan@почта.рф", "ivan@xn--80a1acny.xn--p1ai"),
])
def test_the_second_spelling_of_a_mailbox_is_a_409(manager, first, second):
    api = Api(manager)
    response = api.post("/api/clients/add/", {**CLIENT, "email": first})
    assert response.status_code == 200, response.content
    existing = response.json()["id"]

    body = assert_error(api.post("/api/clients/add/", {**CLIENT, "email": second}), 409, "email")

    assert body["id"] == existing
    assert Client.objects.count() == 1
    assert Client.objects.get().email == normalize_email(first)


def test_editing_another_client_to_the_other_spelling_is_a_409(manager):
    taken = ClientFactory(email="user@bücher.example")
    other = ClientFactory(email="other@example.com")

    body = assert_error(Api(manager).post(f"/api/clients/edit/{other.pk}/", {"email": "user@xn--bcher-kva.example"}),
                        409, "email")

    assert body["id"] == taken.pk
    other.refresh_from_db()
    assert other.email == "other@example.com"


def test_an_import_in_the_other_spelling_updates_the_client(manager):
    client = ClientFactory(email="user@bücher.example", first_name="Иван")

    result = import_bytes(ClientResource, CLIENT_HEADER + "Иванов,Пётр,,user@xn--bcher-kva.example,,Активен\n")

    assert not result.has_validation_errors() and not result.has_errors()
    assert Client.objects.count() == 1
    client.refresh_from_db()
    assert client.first_name == "Пётр"


def test_both_spellings_in_one_import_file_are_one_mailbox(manager):
    data = CLIENT_HEADER + "Иванов,Иван,,user@bücher.example,,Активен\nИванов,Пётр,,user@xn--bcher-kva.example,,Активен\n"

    result = import_bytes(ClientResource, data)

    assert result.has_validation_errors()
    assert not Client.objects.exists()


def test_an_order_import_finds_the_client_by_the_other_spelling(manager):
    client = ClientFactory(email="user@bücher.example")
    data = "E-mail клиента,Товар,Количество,Цена,Описание,Статус\nuser@xn--bcher-kva.example,Ноутбук,1,100,,В ожидании\n"

    result = import_bytes(OrderResource, data)

    assert not result.has_validation_errors() and not result.has_errors()
    assert client.orders.count() == 1


def test_the_migration_converts_stored_punycode_domains(manager):
    migration = importlib.import_module("crm.migrations.0012_email_unicode_domains")
    from django.apps import apps

    converted = ClientFactory(email="a@example.com")
    clash = ClientFactory(email="b@example.com")
    ClientFactory(email="b@bücher.example")
    plain = ClientFactory(email="xn--c@example.com")
    Client.objects.filter(pk=converted.pk).update(email="a@xn--bcher-kva.example")
    Client.objects.filter(pk=clash.pk).update(email="b@xn--bcher-kva.example")

    migration.email_domains_to_unicode(apps, None)

    converted.refresh_from_db()
    assert converted.email == "a@bücher.example"
    assert "bücher" in converted.search_text
    clash.refresh_from_db()
    assert clash.email == "b@xn--bcher-kva.example"  # two clients already: left for staff to merge
    plain.refresh_from_db()
    assert plain.email == "xn--c@example.com"
