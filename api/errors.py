"""The one place that turns every API failure into the contract's error envelope.

`{"success": false, "error": "<one sentence>", "errors": {field: [messages]}}`, with `"id"` of the
existing client on a 409. DRF calls `api_exception_handler` for anything raised in an API view;
`not_found` answers unknown /api/ paths and `server_error` / `bad_request` are the project's
handler500 / handler400, so even a failure outside a view is JSON under /api/.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from crm.services import ClientEmailTaken

logger = logging.getLogger(__name__)

NON_FIELD_KEY = api_settings.NON_FIELD_ERRORS_KEY
# The same bytes DRF's JSONRenderer writes: compact, UTF-8.
COMPACT_JSON = {"ensure_ascii": False, "separators": (",", ":")}


class Conflict(exceptions.APIException):
    """The request clashes with an existing object (a taken e-mail)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"

    def __init__(self, detail, *, errors: dict, existing_id: int):
        super().__init__(detail)
        self.errors = errors
        self.existing_id = existing_id


class LoginLockedOut(exceptions.APIException):
    """Too many failed logins for this user name from this address (django-axes)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self):
        super().__init__(_("Too many failed login attempts; try again later."))


def envelope(message: str, errors: dict | None = None, **extra) -> dict:
    """The error body of the contract."""
    body = {"success": False, "error": str(message)}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def _messages(value) -> list[str]:
    """Flatten DRF/Django error details (strings, lists, nested dicts) into a list of strings."""
    if isinstance(value, dict):
        return [message for item in value.values() for message in _messages(item)]
    if isinstance(value, (list, tuple)):
        return [message for item in value for message in _messages(item)]
    return [str(value)]


def _field_errors(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(field): _messages(value) for field, value in detail.items()}
    return {NON_FIELD_KEY: _messages(detail)}


def _validation_message(errors: dict[str, list[str]]) -> str:
    fields = [field for field in errors if field != NON_FIELD_KEY]
    if not fields:
        return errors.get(NON_FIELD_KEY, [_("Invalid input.")])[0]
    if len(fields) == 1 and len(errors[fields[0]]) == 1:
        return _("Invalid %(field)s: %(message)s") % {"field": fields[0], "message": errors[fields[0]][0]}
    return _("Please correct the errors in: %(fields)s.") % {"fields": ", ".join(fields)}


def _from_django_validation_error(exc: DjangoValidationError) -> exceptions.APIException:
    if isinstance(exc, ClientEmailTaken):
        errors = {field: list(messages) for field, messages in exc.message_dict.items()}
        return Conflict(errors["email"][0], errors=errors, existing_id=exc.existing_client_id)
    if hasattr(exc, "error_dict"):
        detail = {NON_FIELD_KEY if field == "__all__" else field: messages for field, messages in exc.message_dict.items()}
    else:
        detail = list(exc.messages)
    return exceptions.ValidationError(detail)


def _as_api_exception(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, DjangoValidationError):
        return _from_django_validation_error(exc)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, SuspiciousOperation):
        # e.g. a body over DATA_UPLOAD_MAX_MEMORY_SIZE or too many form fields.
        return exceptions.ParseError(_("The request could not be read: %(reason)s") % {"reason": exc})
    return None


def _one_sentence(detail, default: str) -> str:
    if isinstance(detail, dict):
        # simplejwt's InvalidToken carries {"detail": ..., "code": ..., "messages": [...]}.
        detail = detail.get("detail", default)
    if isinstance(detail, (list, tuple)):
        detail = detail[0] if detail else default
    return str(detail) or default


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception raised in an API view becomes the envelope."""
    api_exc = _as_api_exception(exc)
    if api_exc is None:
        logger.exception("Unexpected error in API view %s", context.get("view").__class__.__name__)
        return Response(
            envelope(_("An unexpected error occurred on the server; it has been logged.")),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    # DRF's handler sets WWW-Authenticate / Retry-After and rolls back ATOMIC_REQUESTS.
    response = drf_exception_handler(api_exc, context)
    if isinstance(api_exc, Conflict):
        response.data = envelope(api_exc.detail, api_exc.errors, id=api_exc.existing_id)
    elif isinstance(api_exc, exceptions.ValidationError):
        errors = _field_errors(api_exc.detail)
        response.data = envelope(_validation_message(errors), errors)
    else:
        response.data = envelope(_one_sentence(api_exc.detail, api_exc.default_detail))
    return response


def lockout_json_response(original_response=None) -> JsonResponse:
    """What a locked-out login gets under /api/ (django-axes): the envelope with 429."""
    if original_response is not None and original_response.status_code == 429:
        return original_response  # the token view already answered with the envelope
    locked_out = LoginLockedOut()
    return JsonResponse(envelope(locked_out.detail), status=locked_out.status_code, json_dumps_params=COMPACT_JSON)


def _json_or_default(request, status_code: int, message: str, default_view, *args, **kwargs):
    if request.path.startswith("/api/"):
        return JsonResponse(envelope(message), status=status_code, json_dumps_params=COMPACT_JSON)
    return default_view(request, *args, **kwargs)


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any /api/ path the contract does not name."""
    return JsonResponse(
        envelope(_("There is no API endpoint at this address.")),
        status=status.HTTP_404_NOT_FOUND,
        json_dumps_params=COMPACT_JSON,
    )


def server_error(request, *args, **kwargs):
    """handler500: JSON under /api/, Django's page elsewhere."""
    return _json_or_default(
        request, 500, _("An unexpected error occurred on the server; it has been logged."), defaults.server_error
    )


def page_not_found(request, exception, *args, **kwargs):
    """handler404: JSON under /api/ (also for paths no URL pattern can match), Django's page elsewhere."""
    return _json_or_default(
        request, 404, _("There is no API endpoint at this address."), defaults.page_not_found, exception
    )


def bad_request(request, exception, *args, **kwargs):
    """handler400 (e.g. a bad Host header): JSON under /api/, Django's page elsewhere."""
    return _json_or_default(request, 400, _("The request could not be read."), defaults.bad_request, exception)
