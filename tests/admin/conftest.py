import pytest

from tests.factories import ClientFactory, OrderFactory


@pytest.fixture
def client_with_orders(db):
    client = ClientFactory(first_name="Анатолий", last_name="Ёлкин", email="yolkin@example.com")
    OrderFactory(client=client, product="Ноутбук", quantity=2)
    OrderFactory(client=client, product="Мышь", price="99.90")
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client
