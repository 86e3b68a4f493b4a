"""A mid-sized data set for the query-count and index-path tests of the hot paths."""

import pytest
from django.core.management import call_command


@pytest.fixture
def dataset(db):
    """120 clients and 600 orders from the synthetic generator (bulk, with search text)."""
    call_command("generate_data", "--clients", "120", "--orders", "600", "--days", "60", "--seed", "11", "--no-progress")
