"""The API's JSON renderer: REST framework's bytes, written by orjson."""

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_encoder = JSONEncoder()
# orjson hands these to REST framework's encoder, which formats them as the standard renderer does.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class FastJSONRenderer(JSONRenderer):
    """REST framework's compact, UTF-8, strict JSONRenderer, about fifteen times faster on a page of orders (it
    is a tenth of the orders list's CPU otherwise). Anything orjson refuses (an integer beyond 64 bits, a key that
    is not a string, a lone surrogate) and indented output go to REST framework's own renderer. The API sends no
    floats, where the two could differ (1e+16 against 1e16)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if (data is None or not self.compact or self.ensure_ascii or not self.strict
                or self.get_indent(accepted_media_type, renderer_context or {}) is not None):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            encoder = _encoder if self.encoder_class is JSONEncoder else self.encoder_class()
            rendered = orjson.dumps(data, default=encoder.default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        # As REST framework does, so the output is also a strict JavaScript subset.
        return rendered.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
