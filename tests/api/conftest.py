import json
from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


@pytest.fixture(autouse=True)
def _no_axes(settings):
    """django-axes is tested on its own (test_auth.py); elsewhere failed logins must not lock anyone out."""
    settings.AXES_ENABLED = False


class Api:
    """A test client speaking to the API the way its two kinds of callers do."""

    def __init__(self, user=None):
        self.client = APIClient()
        if user is not None:
            access = RefreshToken.for_user(user).access_token
            self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    def post(self, path, data=None, *, form=False, multipart=False, **extra):
        """POST as JSON (scripts), form-encoded (the mobile app) or multipart."""
        if multipart:
            return self.client.post(path, data or {}, format="multipart", **extra)
        if form:
            body = urlencode({key: "" if value is None else value for key, value in (data or {}).items()})
            return self.client.generic("POST", path, body, content_type="application/x-www-form-urlencoded", **extra)
        body = json.dumps(data) if data is not None else ""
        return self.client.generic("POST", path, body, content_type="application/json", **extra)

    def post_raw(self, path, body: str | bytes, content_type="application/json"):
        return self.client.generic("POST", path, body, content_type=content_type)

    def get(self, path, params=None, **extra):
        return self.client.get(path, params or {}, **extra)

    def delete(self, path, **extra):
        return self.client.delete(path, **extra)

    def request(self, method, path, **extra):
        return self.client.generic(method, path, **extra)


@pytest.fixture
def anonymous_api():
    return Api()


@pytest.fixture
def manager_api(manager):
    return Api(manager)


@pytest.fixture
def viewer_api(viewer):
    return Api(viewer)


@pytest.fixture
def superuser_api(superuser):
    return Api(superuser)


@pytest.fixture
def nobody_api(nobody):
    return Api(nobody)


def database_snapshot():
    """Everything a bad request must leave exactly as it was."""
    from crm.models import Client, Order
    from reports.models import Report

    return (
        list(Client.objects.order_by("pk").values()),
        list(Order.objects.order_by("pk").values()),
        list(Report.objects.values_list("pk", flat=True)),
        Client.history.count(),
        Order.history.count(),
    )


def assert_error(response, status: int, *fields: str) -> dict:
    """The response is the contract's error envelope with this status (and these field errors)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["success"] is False
    assert isinstance(body["error"], str) and body["error"]
    for field in fields:
        assert field in body["errors"], body
        assert all(isinstance(message, str) for message in body["errors"][field])
    return body
