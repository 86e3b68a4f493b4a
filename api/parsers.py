"""JSON bodies that DRF's parser accepts but nothing after it can handle are refused here, with a 400."""

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

# The contract's bodies are flat objects; this leaves room for any sane client and keeps every later step
# (validation messages, rendering) far from Python's recursion limit.
MAX_JSON_DEPTH = 32

UNPAIRED_SURROGATE = _("Contains an invalid character (an unpaired UTF-16 surrogate, \\ud800-\\udfff).")


def _is_valid_text(text: str) -> bool:
    """False for a string holding an unpaired surrogate ("\\ud800" in JSON), which no UTF-8 encoder (the database,
    the response) accepts."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_json_value(data) -> None:
    """Raise ParseError for nesting deeper than MAX_JSON_DEPTH, and ValidationError naming the top-level field
    for an unpaired surrogate in any string. Iterative: the value may be deep."""
    pending = [(data, 1, None)]  # (value, its depth, the top-level field it is under)
    while pending:
        value, depth, field = pending.pop()
        if isinstance(value, str):
            if not _is_valid_text(value):
                if field is None:
                    raise ParseError(UNPAIRED_SURROGATE)
                raise ValidationError({field: [UNPAIRED_SURROGATE]})
            continue
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list):
            items = ((None, item) for item in value)
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            raise ParseError(_("The JSON body is nested too deeply."))
        for key, item in items:
            if key is not None and not _is_valid_text(key):
                raise ParseError(UNPAIRED_SURROGATE)  # a key cannot name itself in the error
            pending.append((item, depth + 1, key if depth == 1 else field))


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser, plus: deep nesting (a RecursionError in the decoder, or later) is a 400, and so is an
    unpaired surrogate, which would fail when stored or echoed in an error message."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON body is nested too deeply.")) from None
        check_json_value(data)
        return data
