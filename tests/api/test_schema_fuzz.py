"""Schema-driven fuzzing: schemathesis sends generated requests to every operation of /api/schema/, in process.

Fails on any 5xx and on any response whose status, content type, headers or body the schema does not describe.
Run alone with: pytest tests/api/test_schema_fuzz.py -m fuzz -p no:cacheprovider
"""

from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import ClientFactory, OrderFactory, make_user

# Examples per operation: 20 operations × this many requests stays well under a minute.
MAX_EXAMPLES = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def fuzz_headers(db, settings):
    """A superuser's token, some rows for the generated ids to find, and rates that fuzzing cannot exhaust."""
    from rest_framework import throttling
    from rest_framework.settings import api_settings

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "100000/min", "user": "100000/min"},
    }
    original_rates = throttling.SimpleRateThrottle.THROTTLE_RATES
    throttling.SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    # As Django's test client does: a request must not close the test's connection (and its transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    for index in range(5):
        OrderFactory(client=ClientFactory(), quantity=index + 1, price=Decimal("10.50"))
    user = make_user("fuzzer", superuser=True)
    yield {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}
    throttling.SimpleRateThrottle.THROTTLE_RATES = original_rates
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.fuzz
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms_to_its_schema(case, fuzz_headers):
    case.call_and_validate(headers=fuzz_headers, checks=CHECKS)
