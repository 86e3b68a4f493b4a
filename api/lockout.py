"""django-axes with two limits: per user name and address, and per address alone (password spraying)."""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Q, Sum


class LoginFailureHandler(AxesDatabaseHandler):
    """Axes' database handler (AXES_HANDLER), counting failures within the cool-off two ways: for this user name
    from this address (AXES_FAILURE_LIMIT, as axes does) and from this address whatever the user name
    (AXES_ADDRESS_FAILURE_LIMIT). Axes compares one number with one limit, so an address over its own limit is
    reported as at least AXES_FAILURE_LIMIT failures: every login from it is refused until the cool-off ends."""

    def get_failures(self, request, credentials=None) -> int:
        attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        counted = attempts.aggregate(
            address=Sum("failures_since_start"),
            user=Sum("failures_since_start", filter=Q(username=get_client_username(request, credentials))),
        )
        user_failures = counted["user"] or 0
        if (counted["address"] or 0) >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(user_failures, get_failure_limit(request, credentials))
        return user_failures
