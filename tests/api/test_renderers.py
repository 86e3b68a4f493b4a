"""api.renderers.FastJSONRenderer writes the very bytes of REST framework's JSONRenderer."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from api.renderers import FastJSONRenderer

SAMPLES = [
    {"success": True, "id": 7},
    {"orders": [{"id": 1, "client": {"full_name": "Ёлкина Анна", "email": None}, "price": "1234.50"}]},
    {"error": "строка\u2028с\u2029разделителями", "tab": "a\tb\n\"q\"\\", "control": "\x00\x1f\x7f"},
    {"emoji": "🙂", "slash": "a/b", "html": "<script>&'"},
    {"decimal": Decimal("10.10"), "lazy": gettext_lazy("Not found."), "uuid": uuid.UUID(int=5)},
    {"when": datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC), "day": datetime.date(2026, 1, 2)},
    {"naive": datetime.datetime(2026, 1, 2, 3, 4, 5), "time": datetime.time(1, 2, 3, 456789)},
    {"big": 2**70, "negative": -(2**63)},
    {1: "non-string key"},
    [], {}, [1, [2, [3]]], "text", 0, False,
]


@pytest.mark.parametrize("data", SAMPLES, ids=range(len(SAMPLES)))
def test_same_bytes_as_rest_frameworks_renderer(data):
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)


def test_indented_output_is_rest_frameworks():
    data = {"a": [1, 2]}
    assert (FastJSONRenderer().render(data, "application/json; indent=2")
            == JSONRenderer().render(data, "application/json; indent=2"))
    assert b"\n  " in FastJSONRenderer().render(data, "application/json; indent=2")


def test_nothing_is_empty_bytes():
    assert FastJSONRenderer().render(None) == b""


def test_the_api_renders_with_it(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] == ["api.renderers.FastJSONRenderer"]


def test_a_renderers_own_encoder_is_used():
    from rest_framework.utils.encoders import JSONEncoder

    class Money:
        pass

    class MoneyEncoder(JSONEncoder):
        def default(self, obj):
            return "деньги" if isinstance(obj, Money) else super().default(obj)

    class Renderer(FastJSONRenderer):
        encoder_class = MoneyEncoder

    assert Renderer().render({"sum": Money()}) == '{"sum":"деньги"}'.encode()
