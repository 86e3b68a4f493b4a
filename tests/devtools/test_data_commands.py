"""The demo set (load_demo) and the synthetic data generator (generate_data)."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm.models import Client, Order
from crm.selectors import client_list, order_list
from tests.factories import ClientFactory

DEMO_FILE = "fixtures/demo.json"


def _demo():
    with open(DEMO_FILE, encoding="utf-8") as fh:
        return json.load(fh)


@pytest.mark.django_db
def test_load_demo_creates_the_whole_set_with_every_status_within_18_months():
    demo = _demo()
    call_command("load_demo")
    assert Client.objects.count() == len(demo["clients"]) >= 45
    assert Order.objects.count() == len(demo["orders"]) >= 290
    assert set(Order.objects.values_list("status", flat=True)) == set(Order.Status.values)
    assert set(Client.objects.values_list("status", flat=True)) == set(Client.Status.values)
    now = timezone.now()
    oldest_allowed = now - timedelta(days=548)
    assert not Order.objects.filter(created_at__lt=oldest_allowed).exists()
    assert not Order.objects.filter(created_at__gt=now).exists()
    assert not Client.objects.filter(added_at__lt=oldest_allowed).exists()
    # The dates are spread out: orders in the last week and more than a year ago.
    assert Order.objects.filter(created_at__gte=now - timedelta(days=7)).exists()
    assert Order.objects.filter(created_at__lt=now - timedelta(days=365)).exists()
    # Every order comes after its client joined, and the totals are computed.
    for order in Order.objects.select_related("client"):
        assert order.created_at >= order.client.added_at
        assert order.total_price == order.quantity * order.price


@pytest.mark.django_db
def test_demo_data_is_searchable_in_russian():
    call_command("load_demo")
    assert client_list(search="анатолий").exists()
    assert order_list(search="ноутбук").exists()


@pytest.mark.django_db
def test_load_demo_twice_adds_nothing_the_second_time():
    call_command("load_demo")
    counts = (Client.objects.count(), Order.objects.count())
    call_command("load_demo")
    assert (Client.objects.count(), Order.objects.count()) == counts


@pytest.mark.django_db
def test_load_demo_if_empty_does_nothing_when_a_client_exists():
    ClientFactory()
    call_command("load_demo", "--if-empty")
    assert Client.objects.count() == 1
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_load_demo_if_empty_loads_into_an_empty_database():
    call_command("load_demo", "--if-empty")
    assert Client.objects.count() == len(_demo()["clients"])


@pytest.mark.django_db
def test_generate_data_creates_exactly_the_requested_rows():
    call_command("generate_data", "--clients", "40", "--orders", "300", "--days", "30", "--seed", "3", "--no-progress")
    assert Client.objects.count() == 40
    assert Order.objects.count() == 300
    assert set(Order.objects.values_list("status", flat=True)) == set(Order.Status.values)
    assert Client.objects.values("email").distinct().count() == 40
    assert not Order.objects.filter(created_at__lt=timezone.now() - timedelta(days=30, minutes=1)).exists()
    client = Client.objects.order_by("id").first()
    assert client.search_text  # normalize_fields() ran: the rows are searchable.
    assert client_list(search=client.first_name.lower(), status="all").filter(pk=client.pk).exists()
    order = Order.objects.first()
    assert order.total_price == order.quantity * order.price


@pytest.mark.django_db
def test_generate_data_twice_keeps_emails_unique():
    call_command("generate_data", "--clients", "5", "--orders", "5", "--seed", "1", "--no-progress")
    call_command("generate_data", "--clients", "5", "--orders", "5", "--seed", "1", "--no-progress")
    assert Client.objects.values("email").distinct().count() == 10


def test_generated_names_agree_in_gender():
    import random

    from crm.devtools.demo_data import FEMALE_FIRST_NAMES, random_person

    rng = random.Random(5)
    for _ in range(200):
        person = random_person(rng)
        female = person["first_name"] in FEMALE_FIRST_NAMES
        assert person["middle_name"].endswith("на") == female


@pytest.mark.django_db
def test_generated_rows_are_stored_as_the_domain_normalises_them():
    """The generator writes plain tuples, not model instances: every stored field must equal what
    normalize_fields() (the one rule for the admin, the API and imports) makes of it."""
    call_command("generate_data", "--clients", "60", "--orders", "400", "--days", "60", "--seed", "11", "--no-progress")
    checked = ("first_name", "last_name", "middle_name", "mobile_phone", "email", "search_text")
    for client in Client.objects.all():
        stored = {name: getattr(client, name) for name in checked}
        client.normalize_fields()
        assert stored == {name: getattr(client, name) for name in checked}
        assert client.version == 0 and client.updated_at >= client.added_at
    assert Client.objects.exclude(mobile_phone="").filter(mobile_phone__startswith="+7").count() == (
        Client.objects.exclude(mobile_phone="").count()
    )
    for order in Order.objects.select_related("client"):
        stored = (order.product, order.description, order.search_text)
        order.normalize_fields()
        assert stored == (order.product, order.description, order.search_text)
        assert order.total_price == order.quantity * order.price and order.price >= 100
        assert order.created_at >= order.client.added_at
    expected = sum("ноутбук" in product.lower() for product in Order.objects.values_list("product", flat=True))
    assert order_list(search="ноутбук").count() == expected > 0


@pytest.mark.django_db
def test_generate_data_with_a_seed_repeats_the_same_rows():
    fields = ("first_name", "last_name", "email", "mobile_phone", "status")
    call_command("generate_data", "--clients", "20", "--orders", "50", "--seed", "4", "--no-progress")
    first = (list(Client.objects.order_by("id").values_list(*fields)),
             list(Order.objects.order_by("id").values_list("product", "quantity", "price", "status")))
    Order.objects.all().delete()
    Client.objects.all().delete()
    call_command("generate_data", "--clients", "20", "--orders", "50", "--seed", "4", "--no-progress")
    second = (list(Client.objects.order_by("id").values_list(*fields)),
              list(Order.objects.order_by("id").values_list("product", "quantity", "price", "status")))
    # The e-mail carries the client's id, which moved on: compare without it.
    assert [row[:2] + row[3:] for row in first[0]] == [row[:2] + row[3:] for row in second[0]]
    assert first[1] == second[1]


def test_generate_data_keeps_the_indexes_and_the_search_index(db):
    """The order indexes are dropped for the load and built again; the full-text index is filled."""
    from django.db import connection

    from crm.devtools.datagen import secondary_indexes

    before = sorted(secondary_indexes(Order._meta.db_table))
    call_command("generate_data", "--clients", "3", "--orders", "2500", "--seed", "5", "--no-progress")
    assert sorted(secondary_indexes(Order._meta.db_table)) == before and before
    assert Order.objects.count() == 2500
    assert order_list(search="ноутбук").exists()
    if connection.vendor == "postgresql":  # the per-block counts of deep pages follow the COPY
        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(sum(row_count), 0) FROM crm_id_block WHERE table_name = 'crm_order'")
            counted = cursor.fetchone()[0]
            cursor.execute("SELECT coalesce(sum(row_count), 0) FROM crm_id_block_change "
                           "WHERE table_name = 'crm_order'")
            counted += cursor.fetchone()[0]
        assert counted == 2500


def test_generate_data_measures_each_phase_and_the_command_prints_the_time(db):
    from io import StringIO

    from crm.devtools.datagen import generate_data

    timings = generate_data(clients=2, orders=3, days=5, seed=1, progress=False)
    phases = ("clients", "orders", "indexes", "statistics")
    assert all(timings[phase] >= 0 for phase in phases)
    assert timings["total"] >= sum(timings[phase] for phase in phases) * 0.99 and timings["cpu"] > 0
    out = StringIO()
    call_command("generate_data", "--clients", "2", "--orders", "3", "--no-progress", stdout=out)
    assert "с (" in out.getvalue().splitlines()[-1]  # Russian by default: "Время: 0.1 с (клиенты …"


@pytest.mark.django_db
def test_demo_loaded_after_midnight_keeps_working_day_times():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from crm.devtools import demo as demo_module

    two_am = datetime(2026, 11, 30, 2, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    demo_module._load(_demo(), two_am)

    moments = [timezone.localtime(moment) for moment in Order.objects.values_list("created_at", flat=True)]
    assert max(moments) <= two_am
    # Not piled up at the moment of loading: every order keeps an hour of the working day from the file.
    assert {moment.hour for moment in moments} <= {row["hour"] for row in _demo()["orders"]}
    assert len({(moment.hour, moment.minute) for moment in moments}) > 100
    for order in Order.objects.select_related("client"):
        assert order.created_at >= order.client.added_at
