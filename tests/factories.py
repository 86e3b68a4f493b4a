"""Test data factories. Rows go through Model.save(), so derived fields are filled in."""

from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User

from crm.models import Client, Order


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    first_name = "Иван"
    last_name = factory.Sequence(lambda n: f"Иванов{n}")
    middle_name = "Иванович"
    mobile_phone = factory.Sequence(lambda n: f"+7900{n:07d}")
    email = factory.Sequence(lambda n: f"client{n}@example.com")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    client = factory.SubFactory(ClientFactory)
    product = "Ноутбук"
    quantity = 1
    price = Decimal("1500.00")
    description = ""

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        # total_price is computed by the database: read it back.
        if create:
            instance.refresh_from_db(fields=["total_price"])


def make_user(username: str, *, group: str | None = None, superuser: bool = False, password: str = "secret-pass-1") -> User:
    """A staff user in one of the staff groups (Managers, Viewers), or a superuser."""
    if superuser:
        return User.objects.create_superuser(username=username, password=password, email=f"{username}@example.com")
    user = User.objects.create_user(username=username, password=password, is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user
